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


def test_set_box_and_peak_normalized():
    import numpy as np
    from matplotlib.patches import Rectangle

    from vislib.plotting.view import peak_normalized, set_box

    patch = Rectangle((0, 0), 1, 1)
    set_box(patch, (10, 20, 40, 25))
    assert (patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()) == (10, 20, 30, 5)
    assert peak_normalized(np.array([1.0, 4.0, 2.0])).tolist() == [0.25, 1.0, 0.5]
    assert peak_normalized(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]  # nothing to scale: unchanged


def test_plot_responsible_cell_fills_the_cell_of_the_box_centre():
    import torch
    from matplotlib.patches import Rectangle

    from vislib.models.yolo import object_cells
    from vislib.plotting.yolo import plot_responsible_cell

    box = torch.tensor([30.0, 20.0, 330.0, 448.0])
    figure, ax = new_figure()
    plot_responsible_cell(ax, torch.zeros(3, 448, 448), box, 7)
    rows, cols, _ = object_cells(box[None], 448, 7)
    filled = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_fill()]
    assert len(filled) == 1 and (filled[0].get_x(), filled[0].get_y()) == (int(cols[0]) * 64, int(rows[0]) * 64)


def test_results_and_evaluation_tables():
    from vislib.data.shapes import ShapesDataset, to_coco
    from vislib.metrics.coco import coco_evaluate
    from vislib.plotting.tables import evaluation_table, results_table

    assert results_table({"profile": "quick", "mAP": 0.5}).data.splitlines()[2:] == [
        "| profile | quick |",
        "| mAP | 0.5 |",
    ]
    dataset = ShapesDataset(4, image_size=64, seed=0)
    truth = to_coco(dataset)
    perfect = [{**a, "score": 1.0} for a in truth["annotations"]]
    table = evaluation_table(coco_evaluate(truth, perfect), dataset.classes).data
    assert "| AP50 | 1.000 |" in table
    assert all(f"| AP@0.5, {name} |" in table for name in dataset.classes)
