"""The error-oracle widget (state, view, timing) and the TIDE / analyze() plots."""

import numpy as np
import pytest

from tests.test_tide import SUPERCATEGORIES, _random_data
from vislib.metrics.tide import ANALYZE_CURVES, ERROR_TYPES, coco_analyze, tide_errors
from vislib.plotting.figures import new_figure
from vislib.plotting.tide import plot_analyze, plot_error_example, plot_tide_summary
from vislib.states.tide import CONTROL_NAMES, OracleExplorer
from vislib.widgets.tide import oracle_widget


@pytest.fixture(scope="module")
def explorer():
    gt, results = _random_data(3)
    return OracleExplorer(tide_errors(gt, results))


def test_state_is_a_lookup_of_the_oracles_ap(explorer):
    errors = explorer.errors
    base = explorer.state()
    assert base.fixed == () and base.ap == pytest.approx(errors.ap)
    for name, error in zip(CONTROL_NAMES, ERROR_TYPES):
        state = explorer.state(**{name: True})
        assert state.fixed == (error,)
        assert max(state.ap - errors.ap, 0) == pytest.approx(errors.delta_ap[error], abs=1e-12)
    everything = explorer.state(**dict.fromkeys(CONTROL_NAMES, True))
    assert everything.ap == pytest.approx(1) and np.allclose(everything.curve, 1)


def test_state_never_evaluates(explorer, monkeypatch):
    """A redraw is a lookup of precomputed oracles: no COCO evaluation runs (speed: the benchmark measures it)."""
    import vislib.metrics.coco
    import vislib.metrics.tide

    def fail(*args, **kwargs):
        raise AssertionError("the state evaluated AP at redraw time")

    monkeypatch.setattr(vislib.metrics.coco, "coco_evaluate", fail)
    monkeypatch.setattr(vislib.metrics.tide, "coco_evaluate", fail)
    for name in CONTROL_NAMES:
        explorer.state(**{name: True})


def test_state_rejects_non_booleans(explorer):
    with pytest.raises(TypeError, match="fix_loc"):
        explorer.state(fix_loc="yes")


def test_widget_redraws_the_curve_and_keeps_its_figure(explorer):
    demo = oracle_widget(explorer)
    figures = len(demo.figure.axes)
    for name in CONTROL_NAMES * 3:
        demo.set(**{name: not demo.controls[name].value})
    assert demo.last_state.fixed == ERROR_TYPES  # each box toggled three times: on
    assert demo.last_state.ap == pytest.approx(1)
    assert len(demo.figure.axes) == figures


def test_plots_draw_onto_given_axes(explorer):
    gt, results = _random_data(3)
    figure, axes = new_figure(1, 3, figsize=(12, 3))
    plot_tide_summary(axes[0], {"A": explorer.errors.delta_ap, "B": explorer.errors.delta_ap}, ymax=0.4)
    assert axes[0].get_ylim() == (0, 0.4) and len(axes[0].patches) == 2 * len(ERROR_TYPES)
    analysis = coco_analyze(gt, results, SUPERCATEGORIES)
    plot_analyze(axes[1], analysis)
    labels = [t.get_text() for t in axes[1].get_legend().get_texts()]
    assert [label.split()[-1] for label in labels] == list(ANALYZE_CURVES)
    plot_error_example(axes[2], np.zeros((64, 64, 3)), (10, 10, 30, 30), "circle", (14, 10, 34, 30), "square", "Cls")
    assert len(axes[2].patches) == 2
