"""Pictures for RoI Pool and RoI Align: where each reads on a coarse feature map, and what it outputs.

Everything is drawn in *image pixels* from a :class:`vislib.states.roi.RoIAlignState`: the picture (the photo,
or the feature map at image resolution) lies in ``[0, W] x [0, H]``, feature cell ``(i, j)`` covers
``[j * stride, (j + 1) * stride) x [i * stride, (i + 1) * stride)`` and its value sits at the cell's centre.

* :func:`draw_roi_pool`, :func:`draw_roi_align`, :func:`draw_pooled_output` and :func:`draw_bilinear_closeup`
  draw one panel each onto a given ``Axes``;
* :func:`plot_roi_comparison` draws all five panels onto five given axes (a static figure for the notebook);
* :class:`RoIAlignView` is the widget's fast view: the same panels, artists created once and updated in place.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.gridspec import GridSpec
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import offset_copy

from vislib.plotting.style import OKABE_ITO
from vislib.plotting.text import cached_text
from vislib.plotting.view import View
from vislib.states.roi import RoIAlignState

__all__ = [
    "ALIGN_COLOR",
    "BOX_COLOR",
    "draw_bilinear_closeup",
    "draw_pooled_output",
    "draw_roi_align",
    "draw_roi_pool",
    "MARGIN",
    "misalignment_labels",
    "NEIGHBOUR_COLOR",
    "plot_roi_comparison",
    "POOL_COLOR",
    "RoIAlignView",
    "sample_text",
    "SELECTED_COLOR",
]

BOX_COLOR = OKABE_ITO[6]  # the requested box (yellow, dashed)
POOL_COLOR = OKABE_ITO[3]  # RoI Pool: snapped box and bins (vermillion)
ALIGN_COLOR = OKABE_ITO[5]  # RoI Align: exact box, bins and sample points (sky blue)
SELECTED_COLOR = OKABE_ITO[1]  # the selected bin and sample (orange)
NEIGHBOUR_COLOR = OKABE_ITO[4]  # the selected sample's four bilinear neighbours (reddish purple)
MARGIN = 24  # image pixels shown right of and under the picture: boxes across the border, a line of numbers
_LABEL_BOX = dict(boxstyle="round,pad=0.15", facecolor="white", alpha=0.85, edgecolor="none")
#: Where each neighbour's weight is centred, in points from its cell centre, for the neighbours in the order
#: (x_low, y_low), (x_high, y_low), (x_low, y_high), (x_high, y_high) (points grow upwards, pixels downwards).
_WEIGHT_OFFSETS = ((-17, 10), (17, 10), (-17, -10), (17, -10))
_EDGES = ("x1", "y1", "x2", "y2")


# --------------------------------------------------------------------------- small helpers


def _grey_cells(ax) -> PolyCollection:
    """A grid of grey squares on the picture's scale (0 black, 1 white): a few times faster to redraw than an
    image, which Agg resamples to the screen on every draw."""
    cells = PolyCollection([], cmap="gray", edgecolors="face", linewidths=0.3)
    cells.set_clim(0, 1)
    return ax.add_collection(cells)


def _square_cells(rows: int, cols: int, x0: float, y0: float, size: float) -> np.ndarray:
    """``[rows * cols, 4, 2]`` squares of side ``size`` from ``(x0, y0)``, row by row."""
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    corners = np.stack(
        [np.stack([c, r], -1), np.stack([c + 1, r], -1), np.stack([c + 1, r + 1], -1), np.stack([c, r + 1], -1)], axis=2
    )
    return corners.reshape(-1, 4, 2) * size + np.array([x0, y0])


def _box_bounds(box) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    return x1, y1, x2 - x1, y2 - y1


def _corners(boxes: np.ndarray) -> np.ndarray:
    """``[..., 4]`` boxes (x1, y1, x2, y2) -> ``[K, 4, 2]`` polygon corners."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.stack([b[:, [0, 1]], b[:, [2, 1]], b[:, [2, 3]], b[:, [0, 3]]], axis=1)


def _feature_grid_segments(size: tuple[int, int], stride: int) -> list:
    """The lines between feature cells, in image pixels."""
    height, width = size[0] * stride, size[1] * stride
    vertical = [[(x, 0), (x, height)] for x in range(0, width + 1, stride)]
    horizontal = [[(0, y), (width, y)] for y in range(0, height + 1, stride)]
    return vertical + horizontal


def _align_bin_segments(bins: np.ndarray) -> list:
    """RoI Align's bins are a regular grid: its lines, from the bins' corners."""
    xs = np.append(bins[0, :, 0], bins[0, -1, 2])
    ys = np.append(bins[:, 0, 1], bins[-1, 0, 3])
    top, bottom, left, right = ys[0], ys[-1], xs[0], xs[-1]
    return [[(x, top), (x, bottom)] for x in xs] + [[(left, y), (right, y)] for y in ys]


def misalignment_labels(state: RoIAlignState) -> list[str]:
    """How far RoI Pool moves each box edge, in whole image pixels (positive: right / down): "x1 -6", ..."""
    return [f"{name} {value:+.0f}" for name, value in zip(_EDGES, state.misalignment)]


def sample_text(state: RoIAlignState) -> str:
    """The selected sample's value, the sum of its neighbours' weight x value (or why it has none)."""
    if state.sample_xy is None:
        return "no points"
    if state.neighbour_fraction is None:
        return "0 (outside)"
    return f"{state.sample_value:.2f}"


# --------------------------------------------------------------------------- panels
# Titles and labels are static (drawn once into the widget's background); the dynamic texts are short numbers,
# drawn by CachedText.


class _PicturePanel:
    """The picture with the feature-map grid (static), the requested box and the selected bin."""

    def __init__(self, ax, picture: np.ndarray, title: str, note: str):
        self.ax = ax
        height, width = picture.shape
        ax.set_facecolor("0.85")
        ax.set(
            xlim=(-MARGIN / 3, width + MARGIN),
            ylim=(height + 2 * MARGIN, -MARGIN / 3),
            xlabel="x (image pixels)",
            ylabel="y (image pixels)",
        )
        ax.set_xticks(range(0, width + 1, 64))
        ax.set_yticks(range(0, height + 1, 64))
        ax.grid(False)
        ax.set_title(title, fontsize="medium")
        self.image = ax.imshow(
            picture, cmap="gray", vmin=0, vmax=1, extent=(0, width, height, 0), interpolation="nearest"
        )
        self.grid = ax.add_collection(LineCollection([], colors=[to_rgba("white", 0.5)], linewidths=0.7))
        self.box = ax.add_patch(
            Rectangle((0, 0), 1, 1, fill=False, edgecolor=BOX_COLOR, linewidth=2.2, linestyle="--", zorder=4)
        )
        self.selected_bin = ax.add_patch(
            Rectangle((0, 0), 1, 1, fill=False, edgecolor=SELECTED_COLOR, linewidth=2.8, zorder=4)
        )
        ax.text(0.02, 0.1, note, transform=ax.transAxes, ha="left", va="bottom", fontsize="medium")

    def set_background(self, picture: np.ndarray, state: RoIAlignState) -> None:
        self.image.set_data(picture)
        self.grid.set_segments(_feature_grid_segments(state.feature_size, state.stride))


class _PoolPanel(_PicturePanel):
    """A: the requested box, RoI Pool's snapped box and its uneven integer bins (each outlined slightly inside
    its cells, so that bins sharing a cell both show; empty ones hatched), the selected bin, and how far the
    snapping moves each edge of the box (in the margin under the picture)."""

    TITLE = "A · RoI Pool (Fast R-CNN): box snapped to cells,\nuneven whole-cell bins, max per bin"
    NOTE = "RoI Pool moves the box edges by (px):"

    def __init__(self, ax, picture):
        super().__init__(ax, picture, self.TITLE, self.NOTE)
        self.bins = ax.add_collection(
            PolyCollection([], facecolors=[to_rgba(POOL_COLOR, 0.16)], edgecolors=POOL_COLOR, linewidths=1.0)
        )
        self.empty = ax.add_collection(
            PolyCollection([], facecolors="none", edgecolors=POOL_COLOR, hatch="xx", linewidths=1.0)
        )
        self.snapped = ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=POOL_COLOR, linewidth=3))
        # One number per edge, each at a fixed place (so that each is a small set of strings).
        self.shifts = [
            cached_text(
                ax,
                0.02 + 0.19 * i,
                0.03,
                ha="left",
                va="bottom",
                fontsize="medium",
                color=POOL_COLOR,
                fontweight="bold",
            )
            for i in range(4)
        ]
        self.artists = [self.bins, self.empty, self.snapped, self.box, self.selected_bin, *self.shifts]

    def update(self, state: RoIAlignState) -> None:
        empty = state.pool.empty.numpy()
        inset = np.array([1, 1, -1, -1]) * min(2.0, state.stride / 8)  # pixels: bins sharing a cell both show
        self.bins.set_verts(_corners(state.pool_bins_px[~empty] + inset))
        self.empty.set_verts(_corners(state.pool_bins_unclipped_px[empty]))
        self.snapped.set_bounds(*_box_bounds(state.pool_roi_px))
        self.box.set_bounds(*_box_bounds(state.box))
        self.selected_bin.set_bounds(*_box_bounds(state.pool_bins_px[state.bin_row, state.bin_col]))
        for text, label in zip(self.shifts, misalignment_labels(state)):
            text.set_text(label)


class _AlignPanel(_PicturePanel):
    """B: RoI Align's exact box and equal bins, every sample point, the selected sample, its four bilinear
    neighbours (cell centres; spokes as thick as the weights) with their weights, and the points per bin."""

    TITLE = "B · RoI Align (Mask R-CNN): exact equal bins,\nbilinear sample points, mean per bin"
    NOTE = "sample points per bin:"

    def __init__(self, ax, picture):
        super().__init__(ax, picture, self.TITLE, self.NOTE)
        self.bin_grid = ax.add_collection(LineCollection([], colors=ALIGN_COLOR, linewidths=1.0))
        self.region = ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=ALIGN_COLOR, linewidth=3))
        (self.samples,) = ax.plot(
            [], [], "o", color=ALIGN_COLOR, markersize=3.5, markeredgecolor="black", markeredgewidth=0.4
        )
        self.spokes = ax.add_collection(LineCollection([], colors=NEIGHBOUR_COLOR, zorder=5))
        (self.neighbours,) = ax.plot(
            [],
            [],
            "s",
            markersize=9,
            markerfacecolor="none",
            zorder=5,
            markeredgecolor=NEIGHBOUR_COLOR,
            markeredgewidth=2.2,
        )
        (self.sample,) = ax.plot(
            [], [], "*", color=SELECTED_COLOR, markersize=15, markeredgecolor="black", markeredgewidth=0.8, zorder=6
        )
        shared = OrderedDict()  # the four weights look alike (centred): one cache
        self.weights = [
            cached_text(
                ax,
                0,
                0,
                transform=offset_copy(ax.transData, fig=ax.figure, x=dx, y=dy, units="points"),
                ha="center",
                va="center",
                fontsize="small",
                bbox=_LABEL_BOX,
                zorder=7,
                cache=shared,
            )
            for dx, dy in _WEIGHT_OFFSETS
        ]
        self.grid_size = cached_text(
            ax, 0.02, 0.03, ha="left", va="bottom", fontsize="medium", color=ALIGN_COLOR, fontweight="bold"
        )
        self.artists = [
            self.bin_grid,
            self.region,
            self.samples,
            self.box,
            self.selected_bin,
            self.spokes,
            self.neighbours,
            self.sample,
            *self.weights,
            self.grid_size,
        ]

    def update(self, state: RoIAlignState) -> None:
        self.bin_grid.set_segments(_align_bin_segments(state.align_bins_px))
        self.region.set_bounds(*_box_bounds(state.align_roi_px))
        points = state.samples_px.reshape(-1, 2)
        self.samples.set_data(points[:, 0], points[:, 1])
        self.box.set_bounds(*_box_bounds(state.box))
        self.selected_bin.set_bounds(*_box_bounds(state.align_bins_px[state.bin_row, state.bin_col]))
        gh, gw = state.grid
        how = "adaptive: ceil(bin size)" if state.sampling_ratio <= 0 else f"sampling_ratio={state.sampling_ratio}"
        self.grid_size.set_text(f"{gh} x {gw} ({how})")
        if state.sample_xy is None:
            self.sample.set_data([], [])
        else:
            sx, sy = state.samples_px[state.bin_row, state.bin_col, state.sample]
            self.sample.set_data([sx], [sy])
        inside = state.neighbour_fraction is not None
        for artist in (self.neighbours, self.spokes, *self.weights):
            artist.set_visible(inside)
        if inside:
            centres = state.neighbours_px
            self.neighbours.set_data(centres[:, 0], centres[:, 1])
            self.spokes.set_segments([[(sx, sy), (cx, cy)] for cx, cy in centres])
            self.spokes.set_linewidths(0.5 + 4 * state.neighbour_weights)
            for label, (cx, cy), weight in zip(self.weights, centres, state.neighbour_weights):
                label.set_position((cx, cy))
                label.set_text(f"{weight:.2f}")


class _OutputPanel:
    """C / D: one pooled output on the picture's grey scale, drawn in the unit square (so the axes stay the
    same whatever the output size), the selected bin outlined, empty bins crossed, its value in the title."""

    def __init__(self, ax, pool: bool):
        self.ax, self.pool = ax, pool
        self.image = _grey_cells(ax)
        self._size = None
        self.mark = ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=SELECTED_COLOR, linewidth=2.8))
        (self.empty,) = ax.plot([], [], "x", color=POOL_COLOR, markersize=8, markeredgewidth=2)
        ax.set(xlim=(0, 1), ylim=(1, 0), xticks=[], yticks=[], xlabel="bin column →")
        if pool:
            ax.set_ylabel("← bin row")
        ax.set_aspect("equal")
        ax.grid(False)
        # The value on a line of its own under the title: side by side they overlap in the projector style.
        ax.set_title(("C · RoI Pool" if pool else "D · RoI Align") + "\n", fontsize="medium", loc="left")
        self.value = cached_text(ax, 0.0, 1.0, ha="left", va="bottom", fontsize="medium", color="black")
        self.artists = [self.image, self.mark, self.empty, self.value]

    def update(self, state: RoIAlignState) -> None:
        n, row, col = state.output_size, state.bin_row, state.bin_col
        if n != self._size:
            self._size = n
            self.image.set_verts(_square_cells(n, n, 0.0, 0.0, 1 / n))
        self.image.set_array((state.pool_output if self.pool else state.align_output).ravel())
        self.mark.set_bounds(col / n, row / n, 1 / n, 1 / n)
        empty_rows, empty_cols = np.nonzero(state.pool.empty.numpy()) if self.pool else ((), ())
        self.empty.set_data((np.asarray(empty_cols) + 0.5) / n, (np.asarray(empty_rows) + 0.5) / n)
        self.value.set_text(f"max {state.pool_value:.2f}" if self.pool else f"mean {state.align_value:.2f}")


class _CloseupPanel:
    """E: the selected sample between its four neighbour cells (in cells from the low neighbour): each cell's
    weight and value, and the sample's value, the sum of weight x value."""

    CORNERS = ((0, 0), (1, 0), (0, 1), (1, 1))

    def __init__(self, ax):
        self.ax = ax
        self.image = _grey_cells(ax)
        self.image.set_verts(_square_cells(2, 2, -0.5, -0.5, 1.0))
        self.spokes = ax.add_collection(LineCollection([], colors=NEIGHBOUR_COLOR))
        ax.plot(
            [0, 1, 0, 1],
            [0, 0, 1, 1],
            "s",
            markersize=8,
            markerfacecolor="none",
            markeredgecolor=NEIGHBOUR_COLOR,
            markeredgewidth=2,
        )
        (self.sample,) = ax.plot(
            [], [], "*", color=SELECTED_COLOR, markersize=15, markeredgecolor="black", markeredgewidth=0.8
        )
        # Beside each cell, outwards: "w 0.07" over "v 0.72", two texts from small sets of strings (centred,
        # so that the four corners share their caches).
        weights, values = OrderedDict(), OrderedDict()
        self.weight_texts, self.value_texts = [], []
        for x, y in self.CORNERS:
            text_x = -1.05 if x == 0 else 2.05
            self.weight_texts.append(
                cached_text(
                    ax,
                    text_x,
                    y - 0.18,
                    transform=ax.transData,
                    ha="center",
                    va="center",
                    fontsize="medium",
                    color=NEIGHBOUR_COLOR,
                    fontweight="bold",
                    cache=weights,
                )
            )
            self.value_texts.append(
                cached_text(
                    ax,
                    text_x,
                    y + 0.18,
                    transform=ax.transData,
                    ha="center",
                    va="center",
                    fontsize="medium",
                    cache=values,
                )
            )
        ax.set(xlim=(-1.9, 2.9), ylim=(1.55, -0.55), xticks=[], yticks=[])
        ax.set_aspect("equal")
        ax.grid(False)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        ax.set_title("E · the sample = Σ weight w × value v", fontsize="medium", loc="left")
        ax.set_xlabel(" ", fontsize="large")  # room for the value, written over it
        self.value = cached_text(
            ax, 0.5, -0.02, ha="center", va="top", fontsize="large", color="black", fontweight="bold"
        )
        self.artists = [self.image, self.spokes, self.sample, *self.weight_texts, *self.value_texts, self.value]

    def update(self, state: RoIAlignState) -> None:
        inside = state.neighbour_fraction is not None
        for artist in (self.image, self.spokes, self.sample, *self.weight_texts, *self.value_texts):
            artist.set_visible(inside)
        if inside:
            fx, fy = state.neighbour_fraction
            self.sample.set_data([fx], [fy])
            self.spokes.set_segments([[(fx, fy), corner] for corner in self.CORNERS])
            self.spokes.set_linewidths(0.5 + 4 * state.neighbour_weights)
            for weight_text, value_text, weight, value in zip(
                self.weight_texts, self.value_texts, state.neighbour_weights, state.neighbour_values
            ):
                weight_text.set_text(f"w {weight:.2f}")
                value_text.set_text(f"v {value:.2f}")
            self.image.set_array(state.neighbour_values)
        self.value.set_text(f"= {sample_text(state)}")


def _legend(figure) -> None:
    handles = [
        Line2D([], [], color=BOX_COLOR, linestyle="--", linewidth=2.2, label="requested box"),
        Patch(
            facecolor=to_rgba(POOL_COLOR, 0.16), edgecolor=POOL_COLOR, linewidth=2, label="RoI Pool: snapped box, bins"
        ),
        Patch(facecolor="none", edgecolor=POOL_COLOR, hatch="xx", label="empty bin (outside the map): 0"),
        Line2D(
            [],
            [],
            color=ALIGN_COLOR,
            linewidth=2.5,
            marker="o",
            markeredgecolor="black",
            label="RoI Align: box, bins, sample points",
        ),
        Line2D(
            [],
            [],
            color=SELECTED_COLOR,
            linewidth=2.5,
            marker="*",
            markersize=12,
            markeredgecolor="black",
            label="selected bin / sample",
        ),
        Line2D(
            [],
            [],
            color=NEIGHBOUR_COLOR,
            linestyle="none",
            marker="s",
            markerfacecolor="none",
            markeredgewidth=2,
            label="its 4 neighbours (cell centres), weights",
        ),
    ]
    figure.legend(handles=handles, loc="outside lower center", ncol=3, fontsize="medium")


# --------------------------------------------------------------------------- drawing onto given axes


def draw_roi_pool(ax, state: RoIAlignState, picture: np.ndarray) -> None:
    """Panel A on ``ax``: RoI Pool's snapped box and uneven bins over ``picture`` (float[H, W] in [0, 1])."""
    panel = _PoolPanel(ax, picture)
    panel.set_background(picture, state)
    panel.update(state)


def draw_roi_align(ax, state: RoIAlignState, picture: np.ndarray) -> None:
    """Panel B on ``ax``: RoI Align's bins, sample points and the selected sample's bilinear neighbours."""
    panel = _AlignPanel(ax, picture)
    panel.set_background(picture, state)
    panel.update(state)


def draw_pooled_output(ax, state: RoIAlignState, which: str = "RoI Align") -> None:
    """Panel C or D on ``ax``: the ``which`` ("RoI Pool" or "RoI Align") output as a grey image."""
    if which not in ("RoI Pool", "RoI Align"):
        raise ValueError(f"which must be 'RoI Pool' or 'RoI Align', got {which!r}")
    _OutputPanel(ax, pool=which == "RoI Pool").update(state)


def draw_bilinear_closeup(ax, state: RoIAlignState) -> None:
    """Panel E on ``ax``: the selected sample between its four neighbour cells, with weights and values."""
    _CloseupPanel(ax).update(state)


# --------------------------------------------------------------------------- the fast view


class RoIAlignView(View):
    """The widget's picture, in five panels:

    A. RoI Pool on the picture: the requested box (dashed), the snapped box (whole cells) and its uneven
       integer bins (empty bins hatched), the selected bin; under the picture, how far the snapping moves
       each edge of the box, in pixels;
    B. RoI Align on the picture: the exact box and its equal bins, every sample point, the selected sample
       and its four bilinear neighbours (cell centres) with their weights;
    C, D. the two pooled outputs, on the picture's grey scale, with the selected bin's value;
    E. a close-up of the selected sample between its four neighbour cells: weight x value, and their sum.

    Static per ``(stride, background)`` (the background key): the picture, the feature-map grid, titles,
    labels, the colour bar and the legend. Everything else is dynamic.
    """

    def __init__(self, pictures, prerender_up_to_stride: int | None = None):
        """``pictures(stride, background) -> float[H, W]``: the grey picture shown under the boxes.

        ``prerender_up_to_stride``: render every number the widget can show (two-decimal weights and values,
        whole-pixel edge shifts up to this stride) once in :meth:`setup`, so that no slider move has to lay
        out text (about a second, once); None: render numbers when they first appear.
        """
        self.pictures = pictures
        self.prerender_up_to_stride = prerender_up_to_stride
        self._key = None

    @staticmethod
    def arrange(axes) -> list:
        """Five axes of one figure -> panels A and B (tall, left); C and D side by side, E under them (right)."""
        axes = list(np.ravel(np.asarray(axes, dtype=object)))
        if len(axes) != 5:
            raise ValueError(f"RoIAlignView needs 5 axes of one figure, got {len(axes)}")
        grid = GridSpec(2, 4, figure=axes[0].figure, width_ratios=(1, 1, 0.45, 0.45), height_ratios=(1.1, 1))
        for ax, spec in zip(axes, (grid[:, 0], grid[:, 1], grid[0, 2], grid[0, 3], grid[1, 2:])):
            ax.set_subplotspec(spec)
        return axes

    def setup(self, axes, state: RoIAlignState):
        pool_ax, align_ax, pool_out_ax, align_out_ax, close_ax = self.arrange(axes)
        picture = self.pictures(state.stride, state.background)
        self.pool = _PoolPanel(pool_ax, picture)
        self.align = _AlignPanel(align_ax, picture)
        self.outputs = [_OutputPanel(pool_out_ax, pool=True), _OutputPanel(align_out_ax, pool=False)]
        self.closeup = _CloseupPanel(close_ax)
        figure = pool_ax.figure
        figure.colorbar(
            self.outputs[0].image,
            ax=[pool_out_ax, align_out_ax],
            orientation="horizontal",
            shrink=0.9,
            aspect=30,
            pad=0.02,
            label="feature value (the picture's grey scale)",
        )
        _legend(figure)
        self._key = None
        if self.prerender_up_to_stride:
            self._prerender(figure.canvas.get_renderer(), self.prerender_up_to_stride)
        return [
            *self.pool.artists,
            *self.align.artists,
            *(a for o in self.outputs for a in o.artists),
            *self.closeup.artists,
        ]

    def _prerender(self, renderer, stride: int) -> None:
        numbers = [f"{hundredths / 100:.2f}" for hundredths in range(101)]
        self.align.weights[0].prerender(renderer, numbers)  # the four weights share one cache
        self.closeup.weight_texts[0].prerender(renderer, [f"w {n}" for n in numbers])
        self.closeup.value_texts[0].prerender(renderer, [f"v {n}" for n in numbers])
        self.closeup.value.prerender(renderer, [f"= {n}" for n in numbers])
        self.outputs[0].value.prerender(renderer, [f"max {n}" for n in numbers])
        self.outputs[1].value.prerender(renderer, [f"mean {n}" for n in numbers])
        half = stride // 2 + 1
        for text, name in zip(self.pool.shifts, _EDGES):  # x1, y1 move by up to half a stride, x2, y2 by 1.5
            largest = half if name in ("x1", "y1") else stride + half
            text.prerender(renderer, [f"{name} {value:+.0f}" for value in [-0.4, *range(-half, largest + 1)]])

    def background_key(self, state: RoIAlignState):
        return state.stride, state.background

    def update(self, state: RoIAlignState) -> None:
        key = self.background_key(state)
        if key != self._key:  # the static artists, drawn into this key's background
            self._key = key
            picture = self.pictures(state.stride, state.background)
            self.pool.set_background(picture, state)
            self.align.set_background(picture, state)
        for panel in (self.pool, self.align, *self.outputs, self.closeup):
            panel.update(state)


def plot_roi_comparison(axes, state: RoIAlignState, picture: np.ndarray) -> None:
    """The widget's five panels as a static figure for one state (``axes``: five Axes of one figure)."""
    view = RoIAlignView(lambda stride, background: picture)
    view.setup(axes, state)
    view.update(state)
