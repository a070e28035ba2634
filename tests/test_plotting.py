import matplotlib as mpl
import pytest

from vislib.plotting import LiveFigure, default_style, projector_style
from vislib.plotting import live as live_module
from vislib.plotting.figures import figure_to_png, new_figure
from vislib.plotting.style import OKABE_ITO, is_projector_style


def test_projector_style_is_one_call_and_reversible():
    default_style()
    normal = mpl.rcParams["font.size"], mpl.rcParams["lines.linewidth"]
    projector_style()
    assert is_projector_style()
    assert mpl.rcParams["font.size"] >= 16 and mpl.rcParams["lines.linewidth"] >= 3
    assert mpl.rcParams["font.size"] > normal[0] and mpl.rcParams["lines.linewidth"] > normal[1]
    assert list(mpl.rcParams["axes.prop_cycle"].by_key()["color"]) == list(OKABE_ITO)
    projector_style(False)
    assert (mpl.rcParams["font.size"], mpl.rcParams["lines.linewidth"]) == normal
    with pytest.raises(TypeError, match="on must be True or False"):
        projector_style("yes")


def test_new_figures_are_not_registered_with_pyplot():
    import matplotlib.pyplot as plt

    plt.close("all")
    figure, axes = new_figure(2, 3)
    assert axes.shape == (2, 3) and plt.get_fignums() == []
    assert figure_to_png(figure)[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="ncols must be <= 8"):
        new_figure(1, 9)
    with pytest.raises(TypeError, match="figure must be a matplotlib Figure"):
        figure_to_png("figure.png")


class _Handle:
    def __init__(self):
        self.updates = []

    def update(self, obj):
        self.updates.append(obj)


def test_live_figure_displays_once_then_updates_in_place(monkeypatch):
    displayed = []

    def fake_display(obj, display_id=False):
        displayed.append((obj, display_id))
        return _Handle()

    monkeypatch.setattr(live_module, "display", fake_display)
    live = LiveFigure(ncols=2)
    drawn = []

    def draw(axes, state):
        axes[0].plot(state)
        axes[1].plot(state[::-1])
        drawn.append(len(axes[0].lines))

    for step in range(1, 6):
        live.update(draw, list(range(step)))
    assert len(displayed) == 1 and displayed[0][1] is True
    assert len(live._handle.updates) == 4 and live.refreshes == 5
    assert drawn == [1, 1, 1, 1, 1], "axes must be cleared before each draw"
    assert live._handle.updates[-1].data[:4] == b"\x89PNG"
    with pytest.raises(TypeError, match="draw must be callable"):
        live.update(None, [])
