"""No text is clipped and none is too small: in the default and the projector style, every text artist of every
registered widget (the benchmark's registry) and of the main static figure functions of each topic lies inside
its figure, and is at least ``SMALLEST_POINTS`` large as the picture is shown (a widget wider than the output
area of a 1440-px JupyterLab window is shrunk, and its text with it)."""

import random
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
from matplotlib.text import Text

from vislib.plotting import default_style, new_figure, projector_style
from vislib.plotting.detection import plot_detection_sample
from vislib.plotting.dilation import plot_sampling_positions, plot_valid_taps
from vislib.plotting.faster_rcnn import plot_anchors, plot_proposals_and_detections
from vislib.plotting.figures import css_size
from vislib.plotting.grouped_conv import plot_ilsvrc_top5
from vislib.plotting.mask_rcnn import plot_pooler_ablation, plot_predictions
from vislib.plotting.region_cnn import plot_proposals, plot_recall_at_counts, plot_warped_regions
from vislib.plotting.residual import plot_block_deletion
from vislib.plotting.roi import plot_roi_comparison
from vislib.plotting.scoring import plot_ap_heatmap, plot_ap_methods
from vislib.plotting.segmentation import (
    plot_confusion_matrix,
    plot_context_reach,
    plot_model_comparison,
    plot_overlay,
    plot_pyramid_bins,
    plot_seed_comparison,
)
from vislib.plotting.style import PIXEL_RATIO
from vislib.plotting.tide import plot_error_example, plot_tide_summary
from vislib.plotting.training import plot_loss_curves
from vislib.plotting.yolo import plot_responsible_cell
from vislib.tools.benchmark.registry import WIDGETS
from vislib.tools.benchmark.timing import load_factory, random_control_value

STYLES = ("default", "projector")
TOLERANCE_PX = 1.0
#: The smallest readable text, in points at the style's scale (the default style's "small" is 9.2 pt).
SMALLEST_POINTS = {"default": 9.0, "projector": 9.0 * 1.6}
#: The output area's width (CSS px) in JupyterLab at 1440 x 900 with the file browser open (measured by
#: tests/browser in Chromium); a widget's picture wider than this is shown scaled down.
OUTPUT_AREA_PX = 1000


@pytest.fixture(params=STYLES)
def style(request, monkeypatch):
    monkeypatch.delenv("VISLIB_STYLE", raising=False)
    default_style()
    if request.param == "projector":
        projector_style()
    yield request.param
    default_style()


def _undrawn_tick_labels(figure) -> set[int]:
    """Tick labels matplotlib keeps but does not draw (ticks outside the view limits, axes turned off)."""
    undrawn = set()
    for ax in figure.axes:
        for axis in ax._axis_map.values():
            drawn = {id(tick) for tick in axis._update_ticks()} if ax.axison and axis.get_visible() else set()
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if id(tick) not in drawn:
                    undrawn.update((id(tick.label1), id(tick.label2)))
    return undrawn


def clipped_texts(figure) -> list[str]:
    """The texts of ``figure`` whose drawn extent leaves the figure (call after a full draw)."""
    renderer = figure.canvas.get_renderer()
    box = figure.bbox
    undrawn = _undrawn_tick_labels(figure)
    clipped = []
    for text in figure.findobj(Text):
        if id(text) in undrawn or not text.get_visible() or not text.get_text().strip():
            continue
        if text.axes is not None and not text.axes.get_visible():
            continue
        extent = text.get_window_extent(renderer)
        if (
            extent.x0 < box.x0 - TOLERANCE_PX
            or extent.y0 < box.y0 - TOLERANCE_PX
            or extent.x1 > box.x1 + TOLERANCE_PX
            or extent.y1 > box.y1 + TOLERANCE_PX
        ):
            where = np.round(extent.extents).tolist()
            clipped.append(f"{text.get_text()!r} at {where} (figure {box.width:.0f} x {box.height:.0f})")
    return clipped


def small_texts(figure, style: str, display_scale: float = 1.0) -> list[str]:
    """The texts of ``figure`` smaller than ``SMALLEST_POINTS[style]`` when it is shown at ``display_scale``."""
    undrawn = _undrawn_tick_labels(figure)
    small = []
    for text in figure.findobj(Text):
        if id(text) in undrawn or not text.get_visible() or not text.get_text().strip():
            continue
        if text.axes is not None and not text.axes.get_visible():
            continue
        shown = text.get_fontsize() * display_scale
        if shown < SMALLEST_POINTS[style] - 0.05:
            small.append(f"{text.get_text()!r}: {text.get_fontsize():.1f} pt, shown as {shown:.1f} pt")
    return small


def test_a_clipped_text_is_caught():
    figure, ax = new_figure(figsize=(3, 2))
    ax.set_title("a title much too long for a figure three inches wide, surely clipped")
    figure.canvas.draw()
    assert clipped_texts(figure)
    ax.set_title("short")
    ax.set_xlim(0.2, 0.8)  # ticks 0 and 1 exist but are not drawn
    figure.canvas.draw()
    assert clipped_texts(figure) == []


@pytest.mark.parametrize("entry", WIDGETS, ids=[entry.name for entry in WIDGETS])
def test_registered_widgets_clip_no_text(entry, style):
    widget = load_factory(entry.factory)()
    rng = random.Random(0)
    problems = []
    for move in range(6):
        if move:
            widget.set(**{name: random_control_value(control, rng) for name, control in widget.controls.items()})
        widget.figure.canvas.draw()  # a full draw: the dynamic texts too
        problems += [f"move {move}: {text}" for text in clipped_texts(widget.figure)]
    assert not problems, f"{entry.name} ({style}) clips:\n" + "\n".join(problems)
    if style == "default":  # (the projector style is for 1920-px screens: checked at natural size)
        width, _ = css_size(widget.figure, PIXEL_RATIO)
        scale = min(1.0, OUTPUT_AREA_PX / width)
    else:
        scale = 1.0
    small = small_texts(widget.figure, style, scale)
    assert not small, f"{entry.name} ({style}) has unreadably small text:\n" + "\n".join(small)


def _ap_methods(figure_axes):
    recall = np.linspace(0.05, 0.9, 30)
    precision = np.clip(1.0 - recall**2 + 0.05 * np.sin(20 * recall), 0, 1)
    plot_ap_methods(figure_axes, recall, precision, {"voc07": 0.712, "voc10": 0.705, "coco": 0.708})


def _ap_heatmap(ax):
    rng = np.random.default_rng(0)
    plot_ap_heatmap(ax, rng.uniform(0, 1, (4, 10)), ["circle", "square", "triangle", "star"], np.arange(0.5, 1, 0.05))


def _valid_taps(ax):
    rates = [1, 2, 4, 6, 12, 18, 24]
    plot_valid_taps(ax, [8, 16, 32], rates, np.array([[1 / (1 + r / s) for r in rates] for s in (8, 16, 32)]))


def _loss_curves(ax):
    steps = np.arange(1, 200)
    plot_loss_curves(
        ax, {"lr 0.01": list(2.3 / steps**0.3), "lr 0.1, batch norm": list(2.3 / steps**0.5), "lr 1": list(2.3 * steps)}
    )


def _pyramid_bins(axes):
    rng = np.random.default_rng(0)
    pooled = [rng.uniform(0, 1, (b, b)) for b in (1, 2, 3, 6)]
    plot_pyramid_bins(axes, rng.uniform(0, 1, (3, 128, 128)), (1, 2, 3, 6), pooled=pooled)


def _context_reach(axes):
    rng = np.random.default_rng(0)
    maps = {"PSPNet, no pyramid": rng.uniform(0, 1, (128, 128)), "PSPNet": rng.uniform(0, 1, (128, 128))}
    plot_context_reach(axes, rng.uniform(0, 1, (3, 128, 128)), (64, 60), 76, maps, frame_width=6)


def _seed_comparison(ax):
    names = ["FCN baseline", "SegNet", "transposed conv", "U-Net"]
    plot_seed_comparison(
        ax,
        names,
        [[0.61, 0.63, 0.6], [0.7, 0.71, 0.69], [0.72, 0.7, 0.73], [0.8, 0.79, 0.81]],
        "trimap mIoU (2 px band)",
    )


def _confusion(ax):
    rng = np.random.default_rng(0)
    plot_confusion_matrix(ax, rng.integers(0, 5000, (5, 5)), ["background", "circle", "square", "triangle", "star"])


def _block_deletion(ax):
    result = SimpleNamespace(deleted=[0.9, 0.85, 0.2, 0.88, 0.87, 0.9], baseline=0.93)
    plain = SimpleNamespace(deleted=[0.1, 0.12, 0.1, 0.11, 0.1, 0.1], baseline=0.9)
    plot_block_deletion(ax, {"ResNet-14": result, "plain-14": plain})


def _ilsvrc(ax):
    from vislib.data.grouped_conv import load_ilsvrc_top5

    plot_ilsvrc_top5(ax, load_ilsvrc_top5())


def _model_comparison(axes):
    names = ["FCN baseline", "U-Net", "DeepLab"]
    plot_model_comparison(
        axes, names, [0.61, 0.72, 0.7], [0.4, 0.55, 0.5], [0.3, 0.5, 0.45], [40, 90, 70], [120_000, 480_000, 300_000]
    )


def _overlay(axes):
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (64, 64, 3))
    masks = {"wrong, in band": rng.uniform(size=(64, 64)) > 0.9, "wrong, elsewhere": rng.uniform(size=(64, 64)) > 0.95}
    for ax in axes:
        plot_overlay(ax, image, masks, "FCN baseline: 812 wrong pixels")


def _sampling_positions(axes):
    image = np.random.default_rng(0).uniform(0, 1, (33, 33))
    for ax, dilation in zip(axes, (1, 2, 4)):
        offsets = dilation * np.arange(-1, 2)
        rows, cols = np.meshgrid(16 + offsets, 16 + offsets, indexing="ij")
        plot_sampling_positions(ax, image, rows.ravel(), cols.ravel(), dilation)


def _shapes(count=4):
    from vislib.data.shapes import ShapesDataset

    dataset = ShapesDataset(count, image_size=128, seed=0)
    return dataset, [dataset[i] for i in range(count)]


def _detection_samples(axes):
    dataset, samples = _shapes()
    for ax, (index, (image, target)) in zip(axes, enumerate(samples)):
        plot_detection_sample(ax, image, target, dataset.classes, title=f"image {index}")


def _tide_figure(axes):
    delta = {"Cls": 0.021, "Loc": 0.134, "Both": 0.004, "Dupe": 0.012, "Bkg": 0.046, "Miss": 0.088}
    plot_tide_summary(axes[0], delta, title="TIDE: simulated detector, AP@.5 = 0.712")
    axes[1].remove()  # (plot_analyze needs a COCO analysis: tested with notebook 06)


def _error_examples(axes):
    picture = np.random.default_rng(0).uniform(0, 1, (128, 128, 3))
    box = (30.0, 30.0, 70.0, 80.0)
    for ax, error in zip(axes, ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")):
        plot_error_example(ax, picture, box, "triangle", (40.0, 32.0, 80.0, 82.0), "square", error)


def _responsible_cell(axes):
    from vislib.data.photos import load_photo

    plot_responsible_cell(axes[0], load_photo("astronaut", 448), (30.0, 20.0, 330.0, 448.0), 7)
    axes[1].bar(range(30), np.linspace(0, 1, 30))
    axes[1].set(ylabel="target value", title="the 30 numbers of cell (3, 2): B = 2 boxes, then 20 classes")


def _random_boxes(count, size, seed=0):
    rng = np.random.default_rng(seed)
    corners = rng.uniform(0, size * 0.7, (count, 2))
    sides = rng.uniform(size * 0.1, size * 0.3, (count, 2))
    return np.concatenate([corners, corners + sides], axis=1)


def _proposals(axes):
    from vislib.data.photos import load_photo

    photo, boxes = load_photo("astronaut", 256), _random_boxes(300, 256)
    plot_proposals(axes[0], photo, boxes, count=300, title="the first 300 proposals")
    plot_proposals(axes[1], photo, boxes, count=0, numbered=16, title="the first 16, numbered")


def _warped(ax):
    import torch

    plot_warped_regions(ax, torch.rand(16, 3, 56, 56), ncols=8, boxes=_random_boxes(16, 256))


def _proposals_and_detections(axes):
    import torch

    dataset, samples = _shapes()
    for k, (image, target) in enumerate(samples):
        boxes = torch.as_tensor(_random_boxes(20, 128, seed=k), dtype=torch.float32)
        found = {"boxes": boxes, "scores": torch.linspace(1, 0.1, 20)}
        detected = {
            "boxes": boxes[:4],
            "scores": torch.tensor([0.98, 0.9, 0.7, 0.3]),
            "labels": torch.tensor([1, 2, 3, 4]),
        }
        pair = axes[k // 2, 2 * (k % 2) : 2 * (k % 2) + 2]
        plot_proposals_and_detections(pair, image, found, detected, dataset.classes, ground_truth=target, top=15)


def _anchors(ax):
    from vislib.models.faster_rcnn import DEFAULT_ANCHOR_SIZES, DEFAULT_ASPECT_RATIOS, anchor_grid

    dataset, samples = _shapes(1)
    anchors, centres = anchor_grid(128, 16, DEFAULT_ANCHOR_SIZES, DEFAULT_ASPECT_RATIOS)
    plot_anchors(
        ax,
        samples[0][0],
        anchors,
        centres,
        DEFAULT_ANCHOR_SIZES,
        DEFAULT_ASPECT_RATIOS,
        locations=[36, 100],
        title="anchors at two locations",
    )


def _recall_at_counts(ax):
    counts = [1, 2, 5, 10, 20, 50, 100]
    plot_recall_at_counts(ax, counts, {"selective search": np.linspace(0.05, 0.7, 7), "RPN": np.linspace(0.3, 0.98, 7)})


def _roi_comparison(axes):
    from vislib.states.roi import RoIAlignExplorer

    explorer = RoIAlignExplorer()
    state = explorer.state(
        x=70, y=14, width=88, height=76, output_size=7, sampling_ratio=2, aligned=True, stride=16, bin_row=3, bin_col=3
    )
    plot_roi_comparison(axes, state, explorer.photo)


def _mask_predictions(axes):
    import torch

    dataset, samples = _shapes()
    for ax, (image, target) in zip(axes, samples):
        count = len(target["boxes"])
        prediction = {
            "boxes": target["boxes"],
            "labels": target["labels"],
            "scores": torch.linspace(0.99, 0.6, count),
            "masks": torch.zeros(count, 128, 128),
        }
        plot_predictions(ax, image, prediction, dataset.classes, title="Mask R-CNN: 3 detections")


def _pooler_ablation(ax):
    scores = {
        name: {metric: [0.5 + 0.1 * k, 0.52 + 0.1 * k, 0.49 + 0.1 * k] for metric in ("AP", "AP50", "AP75")}
        for k, name in enumerate(("RoIAlign", "RoIPool"))
    }
    plot_pooler_ablation(ax, scores)


def _monitor(axes):
    from vislib.plotting.monitor import plot_monitor
    from vislib.training.monitor import MonitorHistory

    plot_monitor(axes, _one_epoch_history(MonitorHistory), epochs=3)


def _one_epoch_history(history_class):
    from types import SimpleNamespace

    recall = np.linspace(0, 1, 101)
    curves = np.stack([np.clip(1 - recall**k, 0, 1) for k in (1, 2, 3, 4)])
    names = ("circle", "square", "triangle", "star")
    epoch = SimpleNamespace(
        epoch=1,
        precision_at_50=curves,
        recall_points=recall,
        per_class_ap50=dict(zip(names, (0.5, 0.66, 0.75, 0.8))),
        summary={"AP50": 1.0, "AP": 0.97},
        mask_summary=None,
    )
    history = history_class(names)
    history.step_losses.extend(np.linspace(3, 1, 40).tolist())
    history.epochs.append(epoch)
    return history


#: Static figure functions on made-up inputs, at the figure sizes the notebooks use.
STATIC_FIGURES = {
    "plot_ap_methods (06)": ((1, 3, (14, 4)), _ap_methods),
    "plot_ap_heatmap (06)": ((1, 1, (10, 3.6)), _ap_heatmap),
    "plot_valid_taps (05)": ((1, 1, (7, 4)), _valid_taps),
    "plot_loss_curves (01)": ((1, 1, (8, 3.8)), _loss_curves),
    "plot_pyramid_bins (04)": ((2, 4, (12, 6.6)), _pyramid_bins),
    "plot_context_reach (04)": ((1, 3, (13, 4.8)), _context_reach),
    "plot_seed_comparison (04)": ((1, 3, (14, 4.6)), lambda axes: _seed_comparison(axes[0])),
    "plot_confusion_matrix (04)": ((1, 1, (7.5, 5.6)), _confusion),
    "plot_block_deletion (02)": ((1, 1, (9, 3.8)), _block_deletion),
    "plot_ilsvrc_top5 (03)": ((1, 1, (10, 4.5)), _ilsvrc),
    "plot_model_comparison (04)": ((1, 3, (14, 4.6)), _model_comparison),
    "plot_overlay (04)": ((1, 4, (13, 3.9)), _overlay),
    "plot_sampling_positions (05)": ((1, 3, (12, 4.4)), _sampling_positions),
    "plot_detection_sample (06)": ((1, 4, (12, 3.4)), _detection_samples),
    "plot_error_example (06)": ((1, 6, (18, 3.6)), _error_examples),
    "plot_tide_summary (06, 07, 08)": ((1, 2, (14, 4.5)), _tide_figure),
    "plot_responsible_cell (07)": ((1, 2, (13, 5)), _responsible_cell),
    "plot_proposals (08)": ((1, 2, (13, 6.2)), _proposals),
    "plot_warped_regions (08)": ((1, 1, (11, 3.3)), _warped),
    "plot_proposals_and_detections (08)": ((2, 4, (16, 8.4)), _proposals_and_detections),
    "plot_anchors (08)": ((1, 1, (8, 5.6)), _anchors),
    "plot_recall_at_counts (08)": ((1, 1, (7, 3.8)), _recall_at_counts),
    "plot_roi_comparison (08)": ((1, 5, (14, 7.2)), _roi_comparison),
    "plot_predictions (09)": ((1, 4, (16, 4.2)), _mask_predictions),
    "plot_pooler_ablation (09)": ((1, 1, (8, 4)), _pooler_ablation),
    "plot_monitor (06-09)": ((1, 3, (15, 4.2)), _monitor),
}


@pytest.mark.parametrize("name", list(STATIC_FIGURES))
def test_static_figures_clip_no_text(name, style):
    (nrows, ncols, figsize), draw = STATIC_FIGURES[name]
    figure, axes = new_figure(nrows, ncols, figsize=figsize)
    draw(axes)
    figure.canvas.draw()
    problems = clipped_texts(figure)
    assert not problems, f"{name} ({style}) clips:\n" + "\n".join(problems)
    small = small_texts(figure, style)  # (at natural size: a notebook chooses its figures' widths)
    assert not small, f"{name} ({style}) has unreadably small text:\n" + "\n".join(small)


def test_ap_heatmap_values_are_readable_and_inside_their_cells(style):
    figure, ax = new_figure(figsize=(10, 3.6))
    _ap_heatmap(ax)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    values = list(ax.texts)
    assert len(values) == 40
    body_size = matplotlib.rcParams["font.size"]
    cell_width = ax.get_window_extent(renderer).width / 10
    for text in values:
        assert text.get_fontsize() >= body_size  # the body font size, not x-small
        assert text.get_window_extent(renderer).width < cell_width


def test_monitor_after_one_epoch_keeps_a_fixed_map_axis_whole_epochs_and_a_legend_off_the_curves(style):
    figure, axes = new_figure(1, 3, figsize=(15, 4.2))
    _monitor(axes)
    figure.canvas.draw()
    _, pr_ax, map_ax = axes
    assert map_ax.get_ylim() == (0, 1.02)  # not matplotlib's 0.96-1.04 around a single mAP of 1
    assert map_ax.get_xlim() == (0.5, 3.5)  # the whole run's epochs from the start
    ticks = [t for t in map_ax.get_xticks() if 0.5 <= t <= 3.5]
    assert ticks and all(float(t).is_integer() for t in ticks)
    renderer = figure.canvas.get_renderer()
    for ax in (pr_ax, map_ax):  # below the axes, covering no curve or point
        assert ax.get_legend().get_window_extent(renderer).y1 <= ax.get_window_extent(renderer).y0
