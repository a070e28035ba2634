"""No text is clipped: in the default and the projector style, every text artist of every registered widget
(the benchmark's registry) and of the static figure functions lies inside its figure."""

import random

import matplotlib
import numpy as np
import pytest
from matplotlib.text import Text

from vislib.plotting import default_style, new_figure, projector_style
from vislib.plotting.dilation import plot_valid_taps
from vislib.plotting.scoring import plot_ap_heatmap, plot_ap_methods
from vislib.plotting.segmentation import plot_confusion_matrix
from vislib.plotting.training import plot_loss_curves
from vislib.tools.benchmark.registry import WIDGETS
from vislib.tools.benchmark.timing import load_factory, random_control_value

STYLES = ("default", "projector")
TOLERANCE_PX = 1.0


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


def _confusion(ax):
    rng = np.random.default_rng(0)
    plot_confusion_matrix(ax, rng.integers(0, 5000, (5, 5)), ["background", "circle", "square", "triangle", "star"])


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
    "plot_confusion_matrix (04)": ((1, 1, (7.5, 5.6)), _confusion),
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
