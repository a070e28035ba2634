"""The YOLO grid-prediction widget's picture."""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib.patches import Rectangle

from vislib.models.yolo import object_cells
from vislib.plotting.style import OKABE_ITO, ROLE_COLORS
from vislib.plotting.view import View, set_box
from vislib.states.yolo import GridState

__all__ = ["draw_grid", "GridView", "plot_responsible_cell"]


def draw_grid(ax, image_size: int, grid_size: int, color: str = "white") -> None:
    """The S x S grid over an image."""
    for k in range(1, grid_size):
        position = k * image_size / grid_size - 0.5
        ax.axhline(position, color=color, linewidth=1, alpha=0.7)
        ax.axvline(position, color=color, linewidth=1, alpha=0.7)


def plot_responsible_cell(ax, image, box, grid_size: int) -> None:
    """YOLO's encoding on one picture: the image (``[3, H, W]``, square) under its S x S grid, an object's box
    (xyxy, pixels), its centre, and the grid cell holding that centre, the one responsible for the object."""
    size = image.shape[-1]
    ax.imshow(np.asarray(image).transpose(1, 2, 0))
    draw_grid(ax, size, grid_size)
    box = torch.as_tensor(box, dtype=torch.float64).reshape(4)
    rows, cols, _ = object_cells(box[None], size, grid_size)
    row, col, cell = int(rows[0]), int(cols[0]), size / grid_size
    x1, y1, x2, y2 = box.tolist()
    centre_x, centre_y = (x1 + x2) / 2, (y1 + y2) / 2
    ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=OKABE_ITO[2], linewidth=3))
    ax.add_patch(Rectangle((col * cell, row * cell), cell, cell, facecolor=OKABE_ITO[0], alpha=0.45))
    ax.plot(centre_x, centre_y, "o", color=OKABE_ITO[5], markersize=10)
    ax.set(
        title=f"{grid_size} × {grid_size} grid; the cell holding the box's centre is responsible",
        xticks=[],
        yticks=[],
    )


class GridView(View):
    """Top: every box (opacity = confidence), the boxes above the threshold, and the boxes after NMS with the
    ground truth. Bottom: per-cell P(object), P(class | object) and the class-specific confidence."""

    def __init__(self, images, class_names):
        self.images = images  # [N, 3, H, W] in [0, 1]
        self.class_names = class_names

    def setup(self, axes, state: GridState):
        (self.all_ax, self.above_ax, self.kept_ax), maps = axes
        count = len(state.boxes)
        self.pools = {}
        for name, ax in (("all", self.all_ax), ("above", self.above_ax), ("kept", self.kept_ax)):
            self.pools[name] = [ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, linewidth=2)) for _ in range(count)]
        self.truth = [
            self.kept_ax.add_patch(
                Rectangle((0, 0), 1, 1, fill=False, linewidth=2, linestyle="--", edgecolor=ROLE_COLORS["ground_truth"])
            )
            for _ in range(16)
        ]
        self.labels = [
            self.kept_ax.text(
                0,
                0,
                "",
                color="white",
                fontsize="small",
                va="bottom",
                bbox=dict(facecolor="black", alpha=0.6, edgecolor="none", pad=1),
            )
            for _ in range(count)
        ]
        self.pictures = [
            ax.imshow(self.images[0].permute(1, 2, 0).numpy()) for ax in (self.all_ax, self.above_ax, self.kept_ax)
        ]
        for ax in (self.all_ax, self.above_ax, self.kept_ax):
            draw_grid(ax, state.image_size, state.grid_size)
            ax.set_xticks([]), ax.set_yticks([])
        # Titles at the style's title size (readable when the picture is shown smaller), two short lines each.
        self.all_ax.set_title(f"all S·S·B = {count} boxes\n(opacity ∝ confidence)")
        self.above_ax.set_title("confidence ≥ threshold\n(before NMS)")
        self.kept_ax.set_title("after NMS (ground truth dashed);\nP and R over all held-out images")
        # The changing numbers are short texts under the pictures: a glyph costs about as much to draw as a box.
        self.above_count = self.above_ax.text(
            0.5, -0.02, "", transform=self.above_ax.transAxes, ha="center", va="top", fontsize="small"
        )
        self.kept_count = self.kept_ax.text(
            0.5, -0.02, "", transform=self.kept_ax.transAxes, ha="center", va="top", fontsize="small"
        )
        # The maps are quad meshes: with S x S cells they draw several times faster than a resampled image.
        edges = np.arange(state.grid_size + 1) - 0.5
        self.maps = []
        for ax, title in zip(
            maps, ("P(object), best box per cell", "P(chosen class | object)", "P(chosen class | object) · P(object)")
        ):
            mesh = ax.pcolormesh(
                edges, edges, np.zeros((state.grid_size, state.grid_size)), vmin=0, vmax=1, cmap="magma"
            )
            self.maps.append(mesh)
            ax.set_xticks(range(state.grid_size)), ax.set_yticks(range(state.grid_size))
            ax.set(xlabel="grid column", ylabel="grid row", title=title, aspect="equal")
            ax.set_ylim(edges[-1], edges[0])  # row 0 at the top, as in the picture
            ax.grid(False)
        maps[2].figure.colorbar(self.maps[0], ax=list(maps), shrink=0.8, label="probability")
        return [
            *(p for pool in self.pools.values() for p in pool),
            *self.truth,
            *self.labels,
            *self.maps,
            self.above_count,
            self.kept_count,
        ]

    def background_key(self, state: GridState):
        return state.image_index

    def update(self, state: GridState) -> None:
        picture = self.images[state.image_index].permute(1, 2, 0).numpy()
        for image in self.pictures:
            image.set_data(picture)
        colors = [OKABE_ITO[(label - 1) % len(OKABE_ITO)] for label in state.labels]
        opacity = np.clip(state.scores / max(float(state.scores.max()), 1e-6), 0.08, 1.0)
        kept = set(state.kept.tolist())
        for i, box in enumerate(state.boxes):
            for name_, visible, alpha in (
                ("all", True, float(opacity[i])),
                ("above", bool(state.above[i]), 1.0),
                ("kept", i in kept, 1.0),
            ):
                patch = self.pools[name_][i]
                patch.set_visible(visible)
                if visible:
                    set_box(patch, box)
                    patch.set_edgecolor(colors[i])
                    patch.set_alpha(alpha)
            label = self.labels[i]
            label.set_visible(i in kept)
            if i in kept:
                label.set_position((box[0], box[1]))
                label.set_text(f"{self.class_names[state.labels[i] - 1]} {state.scores[i]:.2f}")
        for patch, box in zip(self.truth, state.truth_boxes):
            set_box(patch, box)
            patch.set_visible(True)
        for patch in self.truth[len(state.truth_boxes) :]:
            patch.set_visible(False)
        for mesh, values in zip(self.maps, (state.objectness, state.class_probability, state.class_confidence)):
            mesh.set_array(values.ravel())
        self.above_count.set_text(f"{int(state.above.sum())} boxes")
        precision = "n/a" if math.isnan(state.precision) else f"{state.precision:.2f}"
        self.kept_count.set_text(f"{len(state.kept)} boxes | precision {precision} | recall {state.recall:.2f}")
