"""No text is clipped: in the default and the projector style, every text artist of every registered widget
(the benchmark's registry) and of the static figure functions lies inside its figure."""

import random

import numpy as np
import pytest
from matplotlib.text import Text

from vislib.plotting import default_style, new_figure, projector_style
from vislib.plotting.dilation import plot_valid_taps
from vislib.plotting.scoring import plot_ap_heatmap, plot_ap_methods
from vislib.plotting.segmentation import (
    plot_confusion_matrix,
    plot_context_reach,
    plot_pyramid_bins,
    plot_seed_comparison,
)
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
}


@pytest.mark.parametrize("name", list(STATIC_FIGURES))
def test_static_figures_clip_no_text(name, style):
    (nrows, ncols, figsize), draw = STATIC_FIGURES[name]
    figure, axes = new_figure(nrows, ncols, figsize=figsize)
    draw(axes)
    figure.canvas.draw()
    problems = clipped_texts(figure)
    assert not problems, f"{name} ({style}) clips:\n" + "\n".join(problems)
