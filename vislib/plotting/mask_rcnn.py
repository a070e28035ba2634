"""Pictures of the instance-segmentation notebook: labels, mask targets, predictions, the pooler ablation,
and the instance explorer's :class:`InstanceView`."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize, to_rgba, to_rgba_array
from matplotlib.patches import Rectangle

from vislib.plotting.detection import plot_detection_sample
from vislib.plotting.segmentation import plot_label_map
from vislib.plotting.style import OKABE_ITO, ROLE_COLORS
from vislib.plotting.view import View, pixel_image
from vislib.states.mask_rcnn import InstanceState

__all__ = ["InstanceView", "plot_label_kinds", "plot_mask_targets", "plot_pooler_ablation", "plot_predictions"]

#: How strongly the image shows under the overlap codes (the rest is white).
_FADED = 0.25
OVERLAP_COLORS = (
    "#00000000",
    ROLE_COLORS["true_positive"],
    ROLE_COLORS["false_positive"],
    ROLE_COLORS["false_negative"],
)
"""Pixel codes of :attr:`InstanceState.overlap`: none, both, predicted only, ground truth only."""


def _box_patch(ax, box, color, **kwargs):
    return ax.add_patch(
        Rectangle(
            (box[0], box[1]),
            box[2] - box[0],
            box[3] - box[1],
            fill=False,
            edgecolor=color,
            linewidth=kwargs.pop("linewidth", 2),
            **kwargs,
        )
    )


def plot_label_kinds(axes, image, target: dict, class_names) -> None:
    """Three panels for one image: the semantic map (category only), boxes (category + instance),
    instance masks (category + instance, per pixel)."""
    semantic_ax, box_ax, instance_ax = axes
    plot_label_map(semantic_ax, target["semantic_mask"], len(class_names) + 1, title="semantic map: a class per pixel")
    plot_detection_sample(box_ax, image, target, class_names, masks=False, title="boxes: class + instance")
    plot_detection_sample(
        instance_ax, image, target, class_names, masks=True, title="instance masks: class + instance, per pixel"
    )


def plot_mask_targets(axes, image, mask, proposals, targets) -> None:
    """Top row: the image, one ground-truth mask (tinted) and each proposal's box; bottom row: the 28 x 28
    targets RoI Align reads from that mask inside each box. ``axes`` is ``[2, len(proposals)]``."""
    picture = image.permute(1, 2, 0).numpy()
    overlay = np.zeros((*picture.shape[:2], 4))
    overlay[np.asarray(mask, bool)] = to_rgba(ROLE_COLORS["ground_truth"], 0.5)
    for k, (box, target) in enumerate(zip(proposals.tolist(), targets)):
        top, bottom = axes[0, k], axes[1, k]
        top.imshow(picture)
        top.imshow(overlay)
        _box_patch(top, box, ROLE_COLORS["prediction"])
        top.set_title(f"proposal {k + 1}: ({box[0]:.0f}, {box[1]:.0f})–({box[2]:.0f}, {box[3]:.0f})", fontsize="small")
        top.set_xticks([]), top.set_yticks([])
        shown = bottom.imshow(np.asarray(target), cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        bottom.set_title(f"target {np.asarray(target).shape[0]}×{np.asarray(target).shape[1]}", fontsize="small")
        bottom.set_xticks([]), bottom.set_yticks([])
    axes[1, -1].figure.colorbar(shown, ax=list(axes[1]), shrink=0.8, label="fraction of the bin inside the mask")


def plot_predictions(
    ax, image, prediction: dict, class_names, *, min_score: float = 0.5, title: str | None = None
) -> None:
    """An image with the detections scoring at least ``min_score``: box, class, score and pasted mask."""
    keep = prediction["scores"] >= min_score
    target = {
        "boxes": prediction["boxes"][keep],
        "labels": prediction["labels"][keep],
        "masks": prediction["masks"][keep],
    }
    plot_detection_sample(ax, image, target, class_names, masks=True, title=title)
    for box, score in zip(target["boxes"].tolist(), prediction["scores"][keep].tolist()):
        ax.text(
            box[2],
            box[3] + 1,
            f"{score:.2f}",
            color="white",
            fontsize="small",
            ha="right",
            va="top",
            bbox=dict(facecolor="black", alpha=0.6, edgecolor="none", pad=1),
        )


def plot_pooler_ablation(ax, scores: dict, metrics=("AP", "AP50", "AP75")) -> None:
    """Grouped bars: each pooler's mean mask AP per metric, each seed a dot, the range as an error bar.

    ``scores`` maps a pooler's name to ``{metric: [value per seed]}``.
    """
    width = 0.8 / len(scores)
    x = np.arange(len(metrics))
    for k, (name, values) in enumerate(scores.items()):
        means = [float(np.mean(values[m])) for m in metrics]
        low = [mean - min(values[m]) for mean, m in zip(means, metrics)]
        high = [max(values[m]) - mean for mean, m in zip(means, metrics)]
        position = x - 0.4 + width * (k + 0.5)
        ax.bar(
            position,
            means,
            width * 0.9,
            color=OKABE_ITO[k % len(OKABE_ITO)],
            alpha=0.8,
            label=name,
            yerr=[low, high],
            capsize=4,
        )
        for j, m in enumerate(metrics):
            ax.plot([position[j]] * len(values[m]), values[m], "o", color="black", markersize=3)
    ax.set_xticks(x, [f"mask {m}" for m in metrics])
    ax.set(ylim=(0, 1.02), ylabel="held-out mask AP", title="RoI Align vs RoI Pool (bars: mean; dots: seeds)")
    ax.legend(fontsize="small", loc="upper right")


class InstanceView(View):
    """A: the image, the detection's box and pasted mask, the matched ground-truth box (dashed).
    B: the mask head's 28 x 28 probabilities for the detected class. C: the pasted mask at the threshold
    against the ground-truth mask: both (green), predicted only, ground truth only, over the faded image.

    A slider move redraws three small pictures, each composited and coloured at the data's resolution
    (the tint over the image, the overlap codes over the faded image, the probabilities through a lookup
    table) into opaque ``uint8`` RGBA, and drawn as a :class:`~vislib.plotting.view.PixelImage`: its
    screen pixels are looked up by nearest neighbour through indices computed once, instead of being
    resampled, colour-mapped and alpha-blended on every move. No image lies under them in the background,
    which is then the same for every image."""

    def __init__(self, images, class_names):
        self.class_names = tuple(class_names)
        self.probability_colors = colormaps["viridis"]
        self.tint_color = np.array(to_rgba(ROLE_COLORS["prediction"], 0.5))
        self.overlap_lut = (to_rgba_array(OVERLAP_COLORS) * 255).round().astype(np.uint8)  # code -> RGBA
        opaque = [np.clip(np.asarray(image, dtype=float), 0, 1) for image in images]  # list of [H, W, 3]
        self.pictures = [_rgba_bytes(image) for image in opaque]
        self.faded = [_rgba_bytes(_FADED * image + (1 - _FADED)) for image in opaque]  # at 25 % over white

    def setup(self, axes, state: InstanceState):
        self.image_ax, self.probs_ax, self.overlap_ax = axes
        self.picture = pixel_image(self.image_ax, self.pictures[state.image_index])  # tinted by update()
        self.box = _box_patch(self.image_ax, state.box, ROLE_COLORS["prediction"])
        self.truth_box = _box_patch(self.image_ax, state.box, ROLE_COLORS["ground_truth"], linestyle="--")
        self.label = self.image_ax.text(
            0.5, -0.02, "", transform=self.image_ax.transAxes, ha="center", va="top", fontsize="small"
        )
        self.image_ax.set_title("detection (box, mask), ground truth dashed", fontsize="small")
        size = state.mask_probs.shape[0]
        self.probs = pixel_image(self.probs_ax, self._probability_rgba(state.mask_probs))
        self.probs_ax.set_title(f"mask head: {size}×{size} probabilities of the class", fontsize="small")
        self.probs_ax.set(xlabel="mask column", ylabel="mask row")
        self.probs_ax.grid(False)
        scale = ScalarMappable(norm=Normalize(0, 1), cmap=self.probability_colors)
        self.probs_ax.figure.colorbar(scale, ax=self.probs_ax, shrink=0.8, label="probability")
        self.overlap = pixel_image(self.overlap_ax, self.faded[state.image_index])
        self.overlap_ax.set_title(
            "pasted mask > threshold vs ground truth: both\n(green), predicted only (red), truth only (orange)",
            fontsize="small",
        )
        self.iou_text = self.overlap_ax.text(
            0.5, -0.02, "", transform=self.overlap_ax.transAxes, ha="center", va="top", fontsize="small"
        )
        for ax in (self.image_ax, self.overlap_ax):
            ax.set_xticks([]), ax.set_yticks([])
        return [self.picture, self.box, self.truth_box, self.label, self.probs, self.overlap, self.iou_text]

    def update(self, state: InstanceState) -> None:
        tinted = self.pictures[state.image_index].copy()
        under = tinted[state.mask, :3].astype(float)
        alpha = self.tint_color[3]
        tinted[state.mask, :3] = (under * (1 - alpha) + 255 * alpha * self.tint_color[:3]).round().astype(np.uint8)
        self.picture.set_data(tinted)
        box = state.box
        self.box.set_bounds(box[0], box[1], box[2] - box[0], box[3] - box[1])
        self.truth_box.set_visible(state.truth_box is not None)
        if state.truth_box is not None:
            t = state.truth_box
            self.truth_box.set_bounds(t[0], t[1], t[2] - t[0], t[3] - t[1])
        self.label.set_text(
            f"detection {state.detection + 1} of {state.num_detections}: "
            f"{self.class_names[state.label - 1]}, score {state.score:.2f}"
        )
        self.probs.set_data(self._probability_rgba(state.mask_probs))
        codes = state.overlap
        overlap = np.where((codes == 0)[..., None], self.faded[state.image_index], self.overlap_lut[codes])
        self.overlap.set_data(overlap)
        truth = (
            f"ground truth: {self.class_names[state.truth_label - 1]}, box IoU {state.box_iou:.2f}"
            if state.truth_index >= 0
            else "no ground truth"
        )
        self.iou_text.set_text(f"threshold {state.threshold:.2f}: mask IoU {state.mask_iou:.3f}\n{truth}")

    def _probability_rgba(self, probs) -> np.ndarray:
        return self.probability_colors(np.clip(probs, 0, 1), bytes=True)  # [M, M, 4] uint8


def _rgba_bytes(rgb: np.ndarray) -> np.ndarray:
    """``[H, W, 3]`` floats in [0, 1] as opaque ``[H, W, 4]`` ``uint8`` RGBA."""
    rgba = np.full((*rgb.shape[:2], 4), 255, np.uint8)
    rgba[..., :3] = np.round(rgb * 255)
    return rgba
