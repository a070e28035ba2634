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


@pytest.mark.parametrize("origin", ["upper", "lower"])
@pytest.mark.parametrize("shape", [(28, 28), (16, 37)])
def test_pixel_image_draws_exactly_what_imshow_nearest_draws(origin, shape):
    """PixelImage's cached nearest-neighbour lookup draws matplotlib's own picture: the same screen pixels
    (to one level of rounding in semi-transparent colours), placed and clipped the same."""
    import numpy as np

    from vislib.plotting.view import PixelImage, pixel_image

    rgba = np.random.default_rng(0).integers(0, 256, (*shape, 4), dtype=np.uint8)
    figures = []
    for _ in range(2):  # the same figure twice: imshow in one, a PixelImage in the other
        figure, ax = new_figure(figsize=(4, 4))
        figure.set_dpi(160)
        figure.set_layout_engine("none")
        figures.append((figure, ax))
    (reference_figure, reference_ax), (figure, pixel_ax) = figures
    reference = reference_ax.imshow(rgba, interpolation="nearest", origin=origin)
    if origin == "upper":
        image = pixel_image(pixel_ax, rgba)
    else:
        image = PixelImage(pixel_ax, origin="lower", extent=reference.get_extent())
        image.set_data(rgba)
        pixel_ax.add_image(image)
    pixel_ax.set(xlim=reference_ax.get_xlim(), ylim=reference_ax.get_ylim(), aspect="equal")
    for zoom in (False, True):  # whole, then zoomed in (clipped by the axes)
        if zoom:
            for ax in (reference_ax, pixel_ax):
                ax.set(xlim=(3.2, 11.7), ylim=(9.6, 2.1))
        reference_figure.canvas.draw()
        figure.canvas.draw()
        expected, left, bottom, _ = reference.make_image(reference_figure.canvas.get_renderer(), 1.0)
        got, my_left, my_bottom, _ = image.make_image(figure.canvas.get_renderer(), 1.0)
        assert (my_left, my_bottom) == (left, bottom) and got.shape == expected.shape
        np.testing.assert_array_equal(got[..., 3], expected[..., 3])
        drawn = [np.asarray(f.canvas.buffer_rgba()).astype(int) for f in (reference_figure, figure)]
        assert np.abs(drawn[0] - drawn[1]).max() <= 1
    with pytest.raises(ValueError, match="uint8 RGBA"):
        image.set_data(rgba[..., :3])


def test_pixel_image_is_placed_as_imshow_places_it():
    import numpy as np

    from vislib.plotting.view import pixel_image

    rgba = np.zeros((12, 20, 4), np.uint8)
    figure, (reference_ax, pixel_ax) = new_figure(1, 2)
    reference = reference_ax.imshow(rgba)
    image = pixel_image(pixel_ax, rgba)
    assert image.get_extent() == reference.get_extent()
    assert pixel_ax.get_xlim() == reference_ax.get_xlim() and pixel_ax.get_ylim() == reference_ax.get_ylim()
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        pixel_image(None, rgba)


def test_rgba_to_png_is_lossless_and_canvas_to_image_uses_it():
    import io

    import numpy as np
    import PIL.Image

    from vislib.plotting.figures import canvas_to_image, rgba_to_png

    rgba = np.random.default_rng(1).integers(0, 256, (31, 47, 4), dtype=np.uint8)
    decoded = np.asarray(PIL.Image.open(io.BytesIO(rgba_to_png(rgba))))
    np.testing.assert_array_equal(decoded, rgba)
    figure, ax = new_figure()
    ax.plot([0, 1], [1, 0])
    figure.canvas.draw()
    png = canvas_to_image(figure, "png")
    np.testing.assert_array_equal(np.asarray(PIL.Image.open(io.BytesIO(png))), np.asarray(figure.canvas.buffer_rgba()))
    with pytest.raises(ValueError, match=r"\[H, W, 4\] uint8"):
        rgba_to_png(rgba[..., :3])
