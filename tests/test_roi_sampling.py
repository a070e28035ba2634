"""The RoI Align widget: its state equals torchvision.ops.roi_pool / roi_align, its geometry explains the
outputs, bad input is named, and its fast picture equals a full redraw without leaking."""

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torchvision.ops as tv
from PIL import Image

from vislib import ops
from vislib.data.photos import load_grey_photo
from vislib.plotting.figures import new_figure
from vislib.states.roi import RoIAlignExplorer, block_feature_map


@pytest.fixture(scope="module")
def explorer():
    return RoIAlignExplorer()


def _pixels(image: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(image)).convert("RGB"), dtype=np.int16)


def _boxes(count, seed):
    """Boxes (x, y, width, height) in image pixels: most inside the 256-pixel photo, some across its border."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-10, 240, size=(count, 2))
    size = rng.uniform(6, 200, size=(count, 2))
    return np.concatenate([xy, size], axis=1)


# --------------------------------------------------------------------------- the numbers equal torchvision


@pytest.mark.parametrize("stride", [8, 16, 32])
@pytest.mark.parametrize("aligned", [False, True])
def test_outputs_equal_torchvision(explorer, stride, aligned):
    feature = explorer.features[stride]
    for index, (x, y, w, h) in enumerate(_boxes(12, seed=stride + aligned)):
        output_size = (1, 2, 4, 7, 8)[index % 5]
        sampling_ratio = (-1, 1, 2, 3)[index % 4]
        state = explorer.state(x, y, w, h, output_size, sampling_ratio, aligned, stride)
        rois = torch.tensor([[0.0, x, y, x + w, y + h]], dtype=torch.float32)
        pool = tv.roi_pool(feature, rois, output_size, 1 / stride)[0, 0].numpy()
        align = tv.roi_align(feature, rois, output_size, 1 / stride, sampling_ratio, aligned)[0, 0].numpy()
        np.testing.assert_allclose(state.pool_output, pool, atol=1e-6)
        np.testing.assert_allclose(state.align_output, align, atol=1e-6)


def test_feature_map_is_the_block_mean_of_the_photo(explorer):
    photo = explorer.photo
    for stride, feature in explorer.features.items():
        expected = torch.nn.functional.avg_pool2d(torch.from_numpy(photo)[None, None], stride)
        assert torch.allclose(feature.double(), expected, atol=1e-6)
        picture = explorer.picture(stride, "feature map")
        assert picture.shape == photo.shape
        assert np.allclose(picture[::stride, ::stride], feature[0, 0].numpy())
    assert explorer.picture(16, "photo") is photo
    assert photo.shape == (256, 256) and 0 <= photo.min() and photo.max() <= 1


# --------------------------------------------------------------------------- the geometry explains the outputs


@pytest.mark.parametrize("aligned", [False, True])
def test_one_sample_per_bin_is_the_bin_output(explorer, aligned):
    # With sampling_ratio = 1 each bin is a single bilinear read: the selected sample's value is the output.
    for x, y, w, h in _boxes(6, seed=3):
        for row, col in [(0, 0), (2, 5), (6, 6), (3, 1)]:
            state = explorer.state(x, y, w, h, 7, 1, aligned, 16, row, col, 0)
            assert state.samples_per_bin == 1
            assert state.sample_value == pytest.approx(state.align_value, abs=1e-5)


def test_the_bin_output_is_the_mean_of_its_samples(explorer):
    for sampling_ratio in (2, 3, -1):
        state = explorer.state(60, 20, 110, 90, 4, sampling_ratio, True, 16, 1, 2, 0)
        values = [
            explorer.state(60, 20, 110, 90, 4, sampling_ratio, True, 16, 1, 2, k).sample_value
            for k in range(state.samples_per_bin)
        ]
        assert len(values) == state.grid[0] * state.grid[1]
        assert np.mean(values) == pytest.approx(state.align_value, abs=1e-5)


def test_sample_value_is_a_bilinear_read_with_weights_summing_to_one(explorer):
    feature = explorer.features[16][0, 0]
    for x, y, w, h in _boxes(8, seed=4):
        state = explorer.state(x, y, w, h, 5, 2, False, 16, 4, 1, 3)
        sx, sy = state.sample_xy
        assert state.sample_value == pytest.approx(ops.bilinear_interpolate(feature, sy, sx).item(), abs=1e-5)
        if state.neighbour_fraction is not None:  # inside the map (or less than a cell outside)
            assert state.neighbour_weights.sum() == pytest.approx(1.0)
            fx, fy = state.neighbour_fraction
            assert 0 <= fx <= 1 and 0 <= fy <= 1
            # The weights are the areas of the rectangles opposite each neighbour.
            expected = [(1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx]
            np.testing.assert_allclose(state.neighbour_weights, expected, atol=1e-6)
            # The neighbours are the centres of cells next to the point, drawn at (cell + 0.5) * stride.
            np.testing.assert_allclose(state.neighbours_px, (state.neighbour_cells + 0.5) * 16)
        else:
            assert state.sample_value == 0.0


def test_roi_pool_output_is_the_max_of_its_snapped_cells(explorer):
    feature = explorer.features[32][0, 0].numpy()
    state = explorer.state(37, 50, 130, 101, 3, 2, False, 32)
    for row in range(3):
        for col in range(3):
            x0, y0, x1, y1 = state.pool.bins[row, col].tolist()
            assert state.pool_output[row, col] == pytest.approx(feature[y0:y1, x0:x1].max())
    # Drawing coordinates are the same cells, in pixels.
    np.testing.assert_allclose(state.pool_bins_px, state.pool.bins.numpy() * 32)


def test_misalignment_is_snapped_edge_minus_box_edge(explorer):
    for stride in (8, 16, 32):
        for x, y, w, h in _boxes(10, seed=stride):
            state = explorer.state(x, y, w, h, 7, 2, False, stride)
            box = np.array(state.box)
            np.testing.assert_allclose(state.misalignment, np.array(state.pool_roi_px) - box, atol=1e-9)
            # Rounding moves the near edges by at most half a stride; the far edges include their last cell.
            assert np.all(np.abs(state.misalignment[:2]) <= stride / 2 + 1e-9)
            assert np.all(np.asarray(state.misalignment[2:]) >= stride / 2 - 1e-9)
            assert np.all(np.asarray(state.misalignment[2:]) <= 1.5 * stride + 1e-9)


def test_moving_the_box_less_than_a_cell_can_leave_roi_pool_unchanged(explorer):
    # The lecture's point: RoI Pool cannot see sub-cell moves (both boxes snap to the same cells), RoI Align can.
    before = explorer.state(64, 64, 96, 96, 7, 2, True, 32)
    after = explorer.state(70, 70, 96, 96, 7, 2, True, 32)
    assert before.pool.roi == after.pool.roi
    assert np.array_equal(before.pool_output, after.pool_output)
    assert not np.allclose(before.align_output, after.align_output)


def test_aligned_samples_are_centred_on_the_box_and_unaligned_shifted_half_a_cell(explorer):
    for stride in (8, 16, 32):
        box = (40.0, 30.0, 150.0, 120.0)  # more than a cell wide and high: no minimum-size clamp
        aligned = explorer.state(*box, 4, 2, True, stride)
        unaligned = explorer.state(*box, 4, 2, False, stride)
        centre = np.array([box[0] + box[2] / 2, box[1] + box[3] / 2])
        np.testing.assert_allclose(aligned.samples_px.reshape(-1, 2).mean(axis=0), centre, atol=1e-3)
        np.testing.assert_allclose(unaligned.samples_px.reshape(-1, 2).mean(axis=0), centre + stride / 2, atol=1e-3)
        np.testing.assert_allclose(aligned.align_roi_px, aligned.box, atol=1e-3)
        x1, y1, x2, y2 = aligned.box
        points = aligned.samples_px.reshape(-1, 2)
        assert np.all((points[:, 0] > x1) & (points[:, 0] < x2) & (points[:, 1] > y1) & (points[:, 1] < y2))


def test_empty_bins_lie_outside_the_map(explorer):
    state = explorer.state(200, 10, 150, 60, 4, 2, False, 32)  # reaches x = 350 on a 256-pixel map
    assert state.empty_bins > 0
    empty = state.pool.empty.numpy()
    assert np.all(state.pool_output[empty] == 0)
    assert np.all(state.pool_bins_unclipped_px[empty][:, 0] >= 256)
    assert not state.pool.empty[:, 0].any()


def test_selection_is_clamped_to_existing_bins_and_points(explorer):
    state = explorer.state(50, 50, 100, 100, 3, 2, False, 16, bin_row=9, bin_col=9, sample=99)
    assert (state.bin_row, state.bin_col, state.sample) == (2, 2, 3)
    assert state.pool_value == state.pool_output[2, 2]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"stride": 7}, ValueError, "stride must be one of 8, 16, 32"),
        ({"background": "heatmap"}, ValueError, "background must be one of"),
        ({"output_size": 0}, ValueError, "output_size must be >= 1"),
        ({"output_size": 2.0}, TypeError, "output_size must be an integer"),
        ({"sampling_ratio": -2}, ValueError, "sampling_ratio must be >= -1"),
        ({"aligned": "yes"}, TypeError, "aligned must be True or False"),
        ({"width": -1.0}, ValueError, "width must be >= 0"),
        ({"x": float("nan")}, ValueError, "x must be finite"),
        ({"y": "10"}, TypeError, "y must be a real number"),
        ({"bin_row": -1}, ValueError, "bin_row must be >= 0"),
        ({"sample": 1.5}, TypeError, "sample must be an integer"),
    ],
)
def test_bad_state_arguments_are_named(explorer, kwargs, error, message):
    arguments = dict(x=10, y=10, width=50, height=50)
    with pytest.raises(error, match=message):
        explorer.state(**{**arguments, **kwargs})


def test_bad_construction_is_named():
    with pytest.raises(ValueError, match="image_size must be >= 32"):
        RoIAlignExplorer(image_size=16)
    with pytest.raises(ValueError, match="strides must hold at least one stride"):
        RoIAlignExplorer(strides=())
    with pytest.raises(ValueError, match=r"stride must divide the image size \(64, 64\), got 48"):
        block_feature_map(load_grey_photo("astronaut", 64), 48)
    with pytest.raises(ValueError, match="2-D"):
        block_feature_map(np.zeros((8, 8, 3)), 4)


def test_bad_plotting_arguments_are_named(explorer):
    from vislib.plotting.roi import RoIAlignView, draw_pooled_output

    figure, axes = new_figure(1, 4)
    with pytest.raises(ValueError, match="needs 5 axes"):
        RoIAlignView(explorer.picture).setup(axes, explorer.state(10, 10, 50, 50))
    with pytest.raises(ValueError, match="which must be 'RoI Pool' or 'RoI Align'"):
        draw_pooled_output(axes[0], explorer.state(10, 10, 50, 50), which="RoI Warp")


# --------------------------------------------------------------------------- pictures


def test_static_drawing_functions_draw_onto_given_axes(explorer):
    from vislib.plotting.roi import (
        draw_bilinear_closeup,
        draw_pooled_output,
        draw_roi_align,
        draw_roi_pool,
        plot_roi_comparison,
    )

    plt.close("all")
    state = explorer.state(70, 14, 88, 76, 7, 2, False, 16, 3, 3, 0)
    figure, axes = new_figure(1, 5, figsize=(14, 4))
    draw_roi_pool(axes[0], state, explorer.photo)
    draw_roi_align(axes[1], state, explorer.photo)
    draw_pooled_output(axes[2], state, "RoI Pool")
    draw_pooled_output(axes[3], state, "RoI Align")
    draw_bilinear_closeup(axes[4], state)
    figure.canvas.draw()
    figure, axes = new_figure(1, 5, figsize=(14, 7))
    plot_roi_comparison(axes, state, explorer.photo)
    figure.canvas.draw()
    assert plt.get_fignums() == []


def test_cached_text_draws_what_plain_text_draws():
    from matplotlib.text import Text

    from vislib.plotting.roi import _LABEL_BOX
    from vislib.plotting.text import cached_text

    images = []
    for cached in (False, True):
        figure, ax = new_figure(figsize=(3, 2))
        ax.imshow(np.linspace(0, 1, 64).reshape(8, 8), cmap="gray")
        if cached:
            texts = [
                cached_text(ax, 0.3, 0.6, ha="center", va="center", bbox=_LABEL_BOX),
                cached_text(ax, 0.1, 0.2, ha="left", va="bottom", color="C3"),
            ]
        else:
            texts = [
                ax.text(0.3, 0.6, "", transform=ax.transAxes, ha="center", va="center", bbox=_LABEL_BOX),
                ax.text(0.1, 0.2, "", transform=ax.transAxes, ha="left", va="bottom", color="C3"),
            ]
        figure.canvas.draw()
        for value in ("0.42", "x2 +18", "0.42"):  # the second "0.42" comes from the cache
            for text in texts:
                text.set_text(value)
            figure.canvas.draw()
        images.append(np.asarray(figure.canvas.buffer_rgba())[..., :3].astype(np.int16))
        assert isinstance(texts[0], Text)
    different = np.abs(images[0] - images[1]).max(axis=2) > 40
    assert different.mean() < 0.002, "cached text looks different from plain text"


# --------------------------------------------------------------------------- the widget


@pytest.fixture(scope="module")
def widget(explorer):
    from vislib.widgets.roi import roi_align_widget

    return roi_align_widget(explorer)


def test_controls_are_the_state_arguments(widget, explorer):
    import inspect

    assert set(widget.controls) == set(inspect.signature(explorer.state).parameters)
    assert widget.controls["stride"].options == (("stride 8", 8), ("stride 16", 16), ("stride 32", 32))
    assert [value for _, value in widget.controls["sampling_ratio"].options] == [-1, 1, 2, 3]
    assert widget.last_state.stride == 16 and widget.last_state.output_size == 7


def test_widget_fast_path_matches_a_full_redraw(widget, explorer):
    from vislib.widgets.roi import roi_align_widget

    rng = np.random.default_rng(0)
    for _ in range(15):
        widget.set(
            x=int(rng.integers(0, 200)),
            y=int(rng.integers(0, 200)),
            width=int(rng.integers(8, 160)),
            height=int(rng.integers(8, 160)),
            output_size=int(rng.integers(1, 9)),
            sampling_ratio=int(rng.choice([-1, 1, 2, 3])),
            aligned=bool(rng.integers(2)),
            stride=int(rng.choice([8, 16, 32])),
            bin_row=int(rng.integers(8)),
            bin_col=int(rng.integers(8)),
            sample=int(rng.integers(9)),
            background=str(rng.choice(["photo", "feature map"])),
        )
    fresh = roi_align_widget(explorer)
    fresh.set(**widget.values())
    assert widget.last_state.pool.roi == fresh.last_state.pool.roi
    difference = np.abs(_pixels(widget.image.value) - _pixels(fresh.image.value))
    assert np.mean(difference > 24) < 0.002  # JPEG noise


def test_many_updates_do_not_leak(widget):
    plt.close("all")
    for i in range(30):  # warm up: every background, most strings
        widget.set(x=(7 * i) % 250, stride=(8, 16, 32)[i % 3], background=("photo", "feature map")[i % 2])
    axes = len(widget.figure.axes)
    children = sum(len(ax.get_children()) for ax in widget.figure.axes)
    texts = len(widget.figure.texts)
    for i in range(120):
        widget.set(
            x=(13 * i) % 250,
            width=10 + (17 * i) % 200,
            output_size=1 + i % 8,
            sample=i % 9,
            stride=(8, 16, 32)[i % 3],
            aligned=bool(i % 2),
        )
    assert plt.get_fignums() == []
    assert len(widget.figure.axes) == axes
    assert sum(len(ax.get_children()) for ax in widget.figure.axes) == children
    assert len(widget.figure.texts) == texts
    assert len(widget._backgrounds) <= 6
