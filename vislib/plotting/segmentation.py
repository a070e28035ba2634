"""Pictures for semantic segmentation: label maps, encoder/decoder feature maps, pyramid-pooling grids,
confusion matrices and model comparisons. Every function draws onto the axes it is given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import ListedColormap, to_rgba_array
from matplotlib.patches import Patch, Rectangle

from vislib.plotting.figures import axes_list
from vislib.plotting.style import OKABE_ITO
from vislib.plotting.view import View, pixel_image
from vislib.states.segmentation import ERROR_CODES

__all__ = [
    "class_legend",
    "ERROR_COLORS",
    "label_colormap",
    "LABEL_COLORS",
    "plot_confusion_matrix",
    "plot_context_reach",
    "plot_label_map",
    "plot_miou_curves",
    "plot_model_comparison",
    "plot_overlay",
    "plot_prediction_grid",
    "plot_pyramid_bins",
    "plot_seed_comparison",
    "plot_segmentations",
    "plot_stage_maps",
    "SegmentationView",
]

#: Background dark grey, then the classes in the Okabe-Ito palette (readable for colour-blind viewers).
LABEL_COLORS = (
    "#3a3a3a",
    OKABE_ITO[1],
    OKABE_ITO[5],
    OKABE_ITO[2],
    OKABE_ITO[4],
    OKABE_ITO[6],
    OKABE_ITO[3],
    OKABE_ITO[0],
)


def label_colormap(num_classes: int) -> ListedColormap:
    """A colormap with one fixed colour per class (class 0, the background, dark grey)."""
    if not 1 <= num_classes <= len(LABEL_COLORS):
        raise ValueError(f"num_classes must be in 1..{len(LABEL_COLORS)}, got {num_classes}")
    return ListedColormap(LABEL_COLORS[:num_classes])


def _numpy(value):
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def _image(image):
    """``[3, H, W]`` (torch layout) or ``[H, W, 3]`` -> ``[H, W, 3]`` for imshow."""
    image = _numpy(image)
    if image.ndim == 3 and image.shape[0] == 3 and image.shape[-1] != 3:
        image = image.transpose(1, 2, 0)
    return np.clip(image, 0, 1) if image.dtype.kind == "f" else image


def _bare(ax, title=None):
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize="medium")


def plot_label_map(ax, labels, num_classes: int, title: str | None = None) -> None:
    """A label map ``[H, W]`` with one colour per class (pixels drawn as squares, no smoothing)."""
    ax.imshow(
        _numpy(labels), cmap=label_colormap(num_classes), vmin=-0.5, vmax=num_classes - 0.5, interpolation="nearest"
    )
    _bare(ax, title)


def class_legend(ax, class_names: Sequence[str], **kwargs) -> None:
    """A legend of the class colours (``class_names`` includes the background, label 0)."""
    handles = [Patch(color=LABEL_COLORS[k], label=name) for k, name in enumerate(class_names)]
    ax.legend(handles=handles, **{"loc": "center left", "bbox_to_anchor": (1.02, 0.5), "frameon": False, **kwargs})


def plot_stage_maps(
    axes,
    stages: Sequence[tuple[str, object]],
    num_classes: int | None = None,
    value_range: tuple[float, float] | None = None,
    annotate: bool = False,
) -> None:
    """One panel per stage of a network, all drawn at the same display size so resolution shows.

    ``stages`` holds ``(name, map)`` pairs: an image ``[3, H, W]`` (the input), a single feature map
    ``[h, w]`` (say, the strongest channel) or a label map (``num_classes`` given, name containing
    "scores"). The title gives the shape to read off. Pixels are drawn as squares: an 8 x 8 map looks blocky.
    ``value_range`` puts every feature map on one colour scale; ``annotate`` writes each value into its square
    (for small worked examples).
    """
    axes = axes_list(axes)
    if len(axes) < len(stages):
        raise ValueError(f"need {len(stages)} axes, got {len(axes)}")
    for ax, (name, value, shape) in zip(axes, stages):
        value = _numpy(value)
        if value.ndim == 3:
            ax.imshow(_image(value), interpolation="nearest")
        elif num_classes is not None and "scores" in name:
            ax.imshow(
                value, cmap=label_colormap(num_classes), vmin=-0.5, vmax=num_classes - 0.5, interpolation="nearest"
            )
        else:
            low, high = value_range if value_range is not None else (None, None)
            ax.imshow(value, cmap="magma", vmin=low, vmax=high, interpolation="nearest")
            if annotate:
                top = high if high is not None else float(value.max())
                for (row, column), number in np.ndenumerate(value):
                    ax.text(
                        column,
                        row,
                        f"{number:g}",
                        ha="center",
                        va="center",
                        fontsize="medium",
                        color="black" if number > 0.6 * top else "white",
                    )
        _bare(ax, f"{name}\n{' x '.join(str(s) for s in shape)}")
    for ax in axes[len(stages) :]:
        ax.set_visible(False)


def plot_prediction_grid(axes, images, truths, predictions: Mapping[str, object], num_classes: int) -> None:
    """Rows = images; columns = the image, its true mask, then each model's predicted mask.

    ``axes`` is a 2-D array ``[len(images), 2 + len(predictions)]``; ``predictions`` maps a model's name to
    its label maps ``[N, H, W]`` (row ``i`` shows map ``i``).
    """
    axes = np.asarray(axes, dtype=object).reshape(len(images), 2 + len(predictions))
    for row, (image, truth) in enumerate(zip(images, truths)):
        _bare(axes[row, 0], "image" if row == 0 else None)
        axes[row, 0].imshow(_image(image), interpolation="nearest")
        plot_label_map(axes[row, 1], truth, num_classes, "truth" if row == 0 else None)
        for column, (name, predicted) in enumerate(predictions.items(), start=2):
            plot_label_map(axes[row, column], predicted[row], num_classes, name if row == 0 else None)


def plot_pyramid_bins(axes, image, bins: Sequence[int], pooled: Sequence[object] | None = None) -> None:
    """What each pyramid-pooling branch sees: the image cut into a ``b x b`` grid of regions per bin count.

    With ``pooled`` (one ``[b, b]`` map per bin, say one channel of each branch's output), a second row
    shows the branch's output: one value per region, the context every position in that region receives.
    ``axes`` has ``len(bins)`` columns and one row (two with ``pooled``).
    """
    axes = np.asarray(axes, dtype=object).reshape(-1, len(bins))
    picture = _image(image)
    height, width = picture.shape[:2]
    for column, b in enumerate(bins):
        ax = axes[0, column]
        ax.imshow(picture, interpolation="nearest")
        for k in range(1, b):
            ax.axhline(k * height / b - 0.5, color="white", lw=2)
            ax.axvline(k * width / b - 0.5, color="white", lw=2)
        _bare(ax, f"{b} x {b} bin{'s' if b > 1 else ''}: {b * b} region{'s' if b > 1 else ''}")
        if pooled is not None and axes.shape[0] > 1:
            values = _numpy(pooled[column])
            top = max(float(_numpy(p).max()) for p in pooled) or 1.0  # one colour scale for all branches
            axes[1, column].imshow(
                values,
                cmap="magma",
                vmin=0,
                vmax=top,
                interpolation="nearest",
                extent=(-0.5, width - 0.5, height - 0.5, -0.5),
            )
            _bare(axes[1, column], f"branch output {b} x {b}\n(most active channel)")


def plot_context_reach(
    axes,
    image,
    pixel: tuple[int, int],
    field_size: int,
    gradient_maps: Mapping[str, object],
    frame_width: int | None = None,
) -> None:
    """How far the prediction at one pixel can look: the image with the pixel's receptive field, then one
    panel per model with the magnitude of that pixel's score gradient over the image (log scale; the title
    gives the share of the image's pixels with a non-zero gradient).

    ``pixel`` is ``(row, col)``; ``field_size`` the side of the field of a network without global context
    (drawn as a square around the pixel on every panel); ``gradient_maps`` maps a model's name to its
    ``[H, W]`` gradient map (exact zeros are drawn black: pixels the prediction cannot depend on). With
    ``frame_width`` the image's frame is outlined. ``axes`` holds ``1 + len(gradient_maps)`` panels.
    """
    axes = axes_list(axes)
    if len(axes) < 1 + len(gradient_maps):
        raise ValueError(f"need {1 + len(gradient_maps)} axes, got {len(axes)}")
    picture = _image(image)
    height, width = picture.shape[:2]
    row, col = pixel
    half = field_size / 2
    field = (col - half + 0.5, row - half + 0.5)

    def outline(ax, colour="white"):
        ax.add_patch(Rectangle((field[0] - 0.5, field[1] - 0.5), field_size, field_size, fill=False, ec=colour, lw=2))
        ax.plot([col], [row], marker="+", color=colour, markersize=12, mew=2)
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(height - 0.5, -0.5)

    axes[0].imshow(picture, interpolation="nearest")
    outline(axes[0])
    if frame_width:
        inner = (frame_width - 0.5, frame_width - 0.5)
        axes[0].add_patch(
            Rectangle(inner, width - 2 * frame_width, height - 2 * frame_width, fill=False, ec="black", lw=1, ls="--")
        )
    _bare(axes[0], f"image {height} x {width}, field {field_size} x {field_size}")
    for ax, (name, gradient) in zip(axes[1:], gradient_maps.items()):
        values = _numpy(gradient).astype(float)
        positive = values[values > 0]
        floor = float(np.percentile(positive, 1)) if positive.size else 1.0
        shown = np.log10(np.maximum(values, floor * 1e-3))
        ax.imshow(
            np.where(values > 0, shown, np.nan),
            cmap="magma",
            vmin=np.log10(floor),
            vmax=np.log10(values.max()) if positive.size else 0.0,
            interpolation="nearest",
        )
        ax.set_facecolor("black")
        outline(ax, "cyan")
        reached = float((values > 0).mean())
        _bare(ax, f"{name}: reaches {reached:.0%}")
    for ax in axes[1 + len(gradient_maps) :]:
        ax.set_visible(False)


def plot_confusion_matrix(ax, confusion, class_names: Sequence[str], title: str | None = None) -> None:
    """Row-normalized confusion matrix (rows = true class, columns = predicted), with the pixel counts."""
    counts = _numpy(confusion).astype(np.int64)
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros(counts.shape, dtype=float), where=rows > 0)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    k = len(class_names)
    for t in range(k):
        for p in range(k):
            colour = "white" if share[t, p] > 0.6 else "black"
            ax.text(
                p, t, f"{share[t, p]:.2f}\n({counts[t, p]:,})", ha="center", va="center", fontsize="small", color=colour
            )
    ax.set_xticks(range(k), class_names, rotation=30, ha="right")
    ax.set_yticks(range(k), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, label="share of the true class's pixels", shrink=0.85)
    if title:
        ax.set_title(title)


def plot_model_comparison(
    axes,
    names: Sequence[str],
    miou: Sequence[float],
    trimap_miou: Sequence[float],
    boundary_f: Sequence[float],
    seconds: Sequence[float],
    parameters: Sequence[int],
) -> None:
    """Three panels: mIoU and trimap mIoU per model; boundary F-score per model; mIoU against training
    time, each point labelled with the model's parameter count."""
    ax_iou, ax_f, ax_cost = axes_list(axes)[:3]
    x = np.arange(len(names))
    ax_iou.bar(x - 0.2, miou, width=0.4, label="mIoU (all pixels)", color=OKABE_ITO[0])
    ax_iou.bar(x + 0.2, trimap_miou, width=0.4, label="mIoU near boundaries", color=OKABE_ITO[1])
    ax_iou.set_xticks(x, names, rotation=30, ha="right")
    ax_iou.set_ylabel("mean IoU")
    ax_iou.set_ylim(0, 1)
    ax_iou.legend(loc="upper left", fontsize="small")
    ax_iou.set_title("region quality")
    ax_f.bar(x, boundary_f, color=OKABE_ITO[2])
    ax_f.set_xticks(x, names, rotation=30, ha="right")
    ax_f.set_ylabel("boundary F-score")
    ax_f.set_ylim(0, 1)
    ax_f.set_title("boundary quality")
    for k, name in enumerate(names):
        ax_cost.scatter(seconds[k], miou[k], s=60, color=OKABE_ITO[k % len(OKABE_ITO)], zorder=3)
        ax_cost.annotate(
            f"{name}\n{parameters[k] / 1000:.0f}k params",
            (seconds[k], miou[k]),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize="small",
        )
    ax_cost.set_xlabel("training time (s)")
    ax_cost.set_ylabel("mean IoU")
    ax_cost.set_title("cost")
    ax_cost.margins(x=0.35, y=0.25)


def plot_seed_comparison(
    ax,
    names: Sequence[str],
    values: Sequence[Sequence[float]],
    ylabel: str,
    title: str | None = None,
    ylim: tuple[float, float] | None = (0.0, 1.0),
) -> None:
    """One bar per model at the mean over seeds, each seed's value as a dot on it (``values[k]``: model
    ``k``'s values, one per seed), the mean written above the bar."""
    x = np.arange(len(names))
    means = [float(np.mean(v)) for v in values]
    ax.bar(x, means, width=0.6, color=[OKABE_ITO[k % len(OKABE_ITO)] for k in range(len(names))], alpha=0.85)
    for k, v in enumerate(values):
        ax.scatter(np.full(len(v), x[k]), v, s=18, color="black", zorder=3)
        ax.annotate(
            f"{means[k]:.3f}", (x[k], max(v)), textcoords="offset points", xytext=(0, 4), ha="center", fontsize="small"
        )
    ax.set_xticks(x, names, rotation=25, ha="right")
    ax.set_ylabel(ylabel)
    if ylim is not None:
        low = min(ylim[0], min(min(v) for v in values))
        ax.set_ylim(low, max(ylim[1], max(max(v) for v in values) * 1.08))
    seeds = max(len(v) for v in values)
    ax.set_title(f"{title or ylabel} ({seeds} seed{'s' if seeds != 1 else ''})")


def plot_overlay(ax, image, masks: Mapping[str, object], title: str | None = None, alpha: float = 0.65) -> None:
    """An image (dimmed) with boolean masks ``[H, W]`` painted over it, one colour each, and a legend.

    ``masks`` maps a legend label to a mask; later masks paint over earlier ones.
    """
    picture = _image(image).astype(float)
    picture = picture / 255.0 if picture.max() > 1.0 else picture
    canvas = 0.35 + 0.4 * picture.mean(axis=2, keepdims=True).repeat(3, axis=2)  # grey, dimmed
    colours = (OKABE_ITO[1], OKABE_ITO[0], OKABE_ITO[3], OKABE_ITO[2])
    handles = []
    for k, (label, mask) in enumerate(masks.items()):
        mask = _numpy(mask).astype(bool)
        rgb = np.array([int(colours[k % len(colours)][i : i + 2], 16) / 255 for i in (1, 3, 5)])
        canvas[mask] = (1 - alpha) * canvas[mask] + alpha * rgb
        handles.append(Patch(color=rgb, label=label))
    ax.imshow(np.clip(canvas, 0, 1), interpolation="nearest")
    _bare(ax, title)
    if handles:
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.02),
            frameon=False,
            fontsize="small",
            ncol=len(handles),
        )


def plot_segmentations(axes, images, masks, predictions: dict, class_names) -> None:
    """Rows of (image, ground truth, one column per model's prediction); ``axes`` is ``[rows, 2 + models]``."""
    cmap = label_colormap(len(class_names))
    for row, (image, mask) in enumerate(zip(images, masks)):
        cells = [("image", None), ("ground truth", mask)] + [(name, pred[row]) for name, pred in predictions.items()]
        for col, (title, labels) in enumerate(cells):
            ax = axes[row, col]
            if labels is None:
                ax.imshow(np.asarray(image).transpose(1, 2, 0))
            else:
                ax.imshow(
                    np.asarray(labels), cmap=cmap, vmin=-0.5, vmax=len(class_names) - 0.5, interpolation="nearest"
                )
            ax.set_xticks([]), ax.set_yticks([])
            ax.grid(False)
            if row == 0:
                ax.set_title(title.replace(" ", "\n", 1), fontsize="small")
    handles = [Rectangle((0, 0), 1, 1, color=LABEL_COLORS[i], label=name) for i, name in enumerate(class_names)]
    axes[0, 0].figure.legend(handles=handles, loc="outside lower center", ncol=len(class_names), fontsize="small")


def plot_miou_curves(ax, runs: dict, colors=None) -> None:
    """Validation mIoU against training steps, one line per run (``runs``: name -> SegmentationRun)."""
    for index, (name, run) in enumerate(runs.items()):
        color = (colors or {}).get(name, OKABE_ITO[index % len(OKABE_ITO)])
        ax.plot(run.eval_steps, run.val_miou, "o-", color=color, label=f"{name} (final {run.final_miou:.3f})")
    ax.set(xlabel="fine-tuning step", ylabel="validation mIoU", title="Segmentation with few labels")
    ax.legend(fontsize="small")


#: The colours of :data:`vislib.states.segmentation.ERROR_CODES` (right pixels show the dimmed image).
ERROR_COLORS = {
    "right, near a boundary": "#d9d9d9",
    "wrong, near a boundary": OKABE_ITO[3],
    "wrong, elsewhere": OKABE_ITO[0],
}


class SegmentationView(View):
    """The segmentation explorer's picture (a :class:`~vislib.plotting.view.View`): the held-out image, its
    ground truth, the chosen model's prediction, and its wrong pixels over the dimmed image (near a true
    boundary: vermillion; elsewhere: blue; the band of pixels near a boundary light grey), with the image's
    mIoU, boundary F-score and error counts as text. Label maps are coloured through a lookup table
    (``uint8`` RGBA), so a move only swaps two small pictures and two texts."""

    def __init__(self, class_names: Sequence[str]):
        self.class_names = tuple(class_names)
        if not 2 <= len(self.class_names) <= len(LABEL_COLORS):
            raise ValueError(f"class_names must name 2 to {len(LABEL_COLORS)} classes, got {len(self.class_names)}")
        self.label_lut = (to_rgba_array(LABEL_COLORS[: len(self.class_names)]) * 255).round().astype(np.uint8)
        colours = [ERROR_COLORS[code] for code in ERROR_CODES[1:]]
        self.error_rgb = (to_rgba_array(colours)[:, :3] * 255).round().astype(np.uint8)  # codes 1, 2, 3

    def setup(self, axes, state):
        self.image_ax, self.truth_ax, self.prediction_ax, self.error_ax = axes
        # PixelImages: a move redraws two pictures by lookup instead of imshow's resampling.
        self.picture = pixel_image(self.image_ax, _rgba(state.image))
        self.truth = pixel_image(self.truth_ax, self.label_lut[state.truth])
        self.prediction = pixel_image(self.prediction_ax, self.label_lut[state.prediction])
        self.errors = pixel_image(self.error_ax, self._error_rgba(state))
        for ax in axes:
            _bare(ax)
        self.image_ax.set_title("held-out image", fontsize="small")
        self.truth_ax.set_title("ground truth", fontsize="small")
        self.prediction_ax.set_title("the chosen model's prediction", fontsize="small")
        self.error_ax.set_title(
            f"wrong pixels: vermillion within\n{state.band} px of a true boundary, blue elsewhere", fontsize="small"
        )
        handles = [Patch(color=LABEL_COLORS[k], label=name) for k, name in enumerate(self.class_names)]
        self.truth_ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.02),
            ncol=3,
            frameon=False,
            fontsize="small",
            handlelength=1.0,
            columnspacing=0.8,
        )
        self.scores = self.prediction_ax.text(
            0.5, -0.03, "", transform=self.prediction_ax.transAxes, ha="center", va="top", fontsize="small"
        )
        self.counts = self.error_ax.text(
            0.5, -0.03, "", transform=self.error_ax.transAxes, ha="center", va="top", fontsize="small"
        )
        return [self.prediction, self.errors, self.scores, self.counts]

    def background_key(self, state):
        return state.image_index

    def update(self, state) -> None:
        self.picture.set_data(_rgba(state.image))
        self.truth.set_data(self.label_lut[state.truth])
        self.prediction.set_data(self.label_lut[state.prediction])
        self.errors.set_data(self._error_rgba(state))
        best = max(state.miou_by_model, key=state.miou_by_model.get)
        self.scores.set_text(
            f"{state.model} on this image: mIoU {state.miou:.3f}\n"
            f"boundary F ({state.tolerance} px) {state.boundary_f:.3f}"
            + ("\n(best of the models here)" if best == state.model else f"\n(best here: {best})")
        )
        share = state.wrong_near_boundary / state.wrong_pixels if state.wrong_pixels else 0.0
        self.counts.set_text(
            f"{state.wrong_pixels} wrong pixels, {share:.0%} of them\nnear a boundary (band: {state.band_share:.0%}"
            " of the image)"
        )

    def _error_rgba(self, state) -> np.ndarray:
        grey = 0.35 + 0.4 * state.image.mean(axis=2)  # the image, dimmed
        rgba = np.full((*grey.shape, 4), 255, dtype=np.uint8)
        rgba[..., :3] = (grey[..., None] * 255).astype(np.uint8)
        codes = state.errors
        shown = codes > 0
        rgba[shown, :3] = self.error_rgb[codes[shown] - 1]
        return rgba


def _rgba(image: np.ndarray) -> np.ndarray:
    """An ``[H, W, 3]`` image (floats in [0, 1] or ``uint8``) as the ``[H, W, 4]`` ``uint8`` a PixelImage shows."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
    return np.concatenate([image, np.full((*image.shape[:2], 1), 255, dtype=np.uint8)], axis=2)
