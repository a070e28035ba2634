"""vislib.plotting.deeplab: the learning curve and the ablation bars draw every seed and clip no text."""

import pytest
from test_text_fits import clipped_texts

from vislib.plotting import default_style, new_figure, projector_style
from vislib.plotting.deeplab import plot_ablation_scores, plot_fine_tuning_curve
from vislib.training.deeplab import FineTuningCurve, SegmenterComparison


@pytest.fixture(params=("default", "projector"))
def style(request, monkeypatch):
    monkeypatch.delenv("VISLIB_STYLE", raising=False)
    default_style()
    if request.param == "projector":
        projector_style()
    yield request.param
    default_style()


def _curve():
    miou = {
        "pre-trained encoder": {8: [0.41, 0.44, 0.40], 32: [0.55, 0.57, 0.56], 128: [0.66, 0.67, 0.65]},
        "from scratch": {8: [0.30, 0.28, 0.33], 32: [0.47, 0.50, 0.49], 128: [0.63, 0.66, 0.64]},
    }
    return FineTuningCurve((8, 32, 128), (0, 1, 2), miou)


def _comparison():
    def scores(base):
        return [{"mIoU": base + d, "boundary F": base + 0.1 + d, "small-object IoU": base - 0.1 + d} for d in (0, 0.02)]

    names = ("v3, stride 8 (atrous)", "v3, stride 32 (strided)", "v3+, stride 8 (decoder)")
    return SegmenterComparison(
        (0, 1),
        {n: scores(b) for n, b in zip(names, (0.6, 0.4, 0.65))},
        dict.fromkeys(names, 1000),
        dict.fromkeys(names, 1.0),
    )


def test_fine_tuning_curve_draws_means_bands_and_every_seed(style):
    figure, ax = new_figure(figsize=(7, 4.4))
    curve = _curve()
    plot_fine_tuning_curve(ax, curve)
    assert [line.get_label() for line in ax.get_lines()] == [
        "pre-trained encoder (mean of 3 seeds)",
        "from scratch (mean of 3 seeds)",
    ]
    assert list(ax.get_lines()[0].get_ydata()) == pytest.approx(curve.mean("pre-trained encoder"))
    assert sum(len(c.get_offsets()) for c in ax.collections if len(c.get_offsets()) == 3) == 2 * 3 * 3
    figure.canvas.draw()
    assert not clipped_texts(figure)


def test_ablation_scores_one_bar_per_variant_one_dot_per_seed(style):
    figure, axes = new_figure(1, 3, figsize=(13, 4.4))
    comparison = _comparison()
    plot_ablation_scores(axes, comparison, ("mIoU", "boundary F", "small-object IoU"))
    for ax, metric in zip(axes, ("mIoU", "boundary F", "small-object IoU")):
        heights = [bar.get_height() for bar in ax.patches]
        assert heights == pytest.approx([comparison.mean(name, metric) for name in comparison.scores])
        assert sum(len(c.get_offsets()) for c in ax.collections) == 3 * 2
    figure.canvas.draw()
    assert not clipped_texts(figure)
