"""vislib.ops.roi equals torchvision.ops.roi_pool / roi_align: values, gradients, geometry, edge cases."""

import pytest
import torch
import torch.nn.functional as F
import torchvision.ops as tv

from vislib import ops

HEIGHT, WIDTH = 9, 11  # feature map size, in cells


def feature_maps(dtype=torch.float32, seed=0, images=2, channels=3):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(images, channels, HEIGHT, WIDTH, generator=g, dtype=torch.float64).to(dtype)


def random_rois(scale, seed=0, count=12, images=2, dtype=torch.float32, degenerate=False):
    """Boxes in image pixels around a map of HEIGHT x WIDTH cells: some inside, some across the border,
    some fully outside; with ``degenerate``, some with x2 < x1 or y2 < y1."""
    g = torch.Generator().manual_seed(seed)
    size = torch.tensor([WIDTH, HEIGHT], dtype=torch.float64) / scale  # the image, in pixels
    corner = (torch.rand(count, 2, generator=g, dtype=torch.float64) * 1.4 - 0.2) * size
    low = -0.15 if degenerate else 0.0
    extent = (torch.rand(count, 2, generator=g, dtype=torch.float64) * 0.8 + low) * size
    index = torch.randint(0, images, (count, 1), generator=g).double()
    return torch.cat([index, corner, corner + extent], dim=1).to(dtype)


def as_list(rois, images=2):
    return [rois[rois[:, 0] == i, 1:] for i in range(images)]


SCALES = [1.0, 1 / 16, 0.3]
OUTPUT_SIZES = [1, 2, (3, 5), 7]


# --------------------------------------------------------------------------- values equal torchvision


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("output_size", OUTPUT_SIZES)
def test_roi_pool_equals_torchvision(scale, output_size):
    x = feature_maps()
    rois = random_rois(scale, seed=int(scale * 100), degenerate=True)
    expected = tv.roi_pool(x, rois, output_size, scale)
    assert torch.allclose(ops.roi_pool(x, rois, output_size, scale), expected, atol=1e-5, rtol=0)
    # The list-of-boxes form gives the same rows, image by image.
    order = torch.cat([torch.nonzero(rois[:, 0] == i).flatten() for i in range(2)])
    from_list = ops.roi_pool(x, as_list(rois), output_size, scale)
    assert torch.allclose(from_list, expected[order], atol=1e-5, rtol=0)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("output_size", OUTPUT_SIZES)
@pytest.mark.parametrize("sampling_ratio", [-1, 0, 1, 3])
@pytest.mark.parametrize("aligned", [False, True])
def test_roi_align_equals_torchvision(scale, output_size, sampling_ratio, aligned):
    x = feature_maps(seed=1)
    # torchvision's CPU kernel crashes on a degenerate box with aligned=True and adaptive sampling
    # (a negative number of points); every other case includes degenerate boxes.
    rois = random_rois(scale, seed=7, degenerate=not (aligned and sampling_ratio <= 0))
    expected = tv.roi_align(x, rois, output_size, scale, sampling_ratio, aligned)
    ours = ops.roi_align(x, rois, output_size, scale, sampling_ratio, aligned)
    assert ours.shape == expected.shape and ours.dtype == expected.dtype
    assert torch.allclose(ours, expected, atol=1e-5, rtol=0)
    if output_size == 2:
        order = torch.cat([torch.nonzero(rois[:, 0] == i).flatten() for i in range(2)])
        from_list = ops.roi_align(x, as_list(rois), output_size, scale, sampling_ratio, aligned)
        assert torch.allclose(from_list, expected[order], atol=1e-5, rtol=0)


def test_double_precision_agrees_to_rounding_error():
    x = feature_maps(torch.float64, seed=3)
    for scale in (1 / 16, 0.3):
        rois = random_rois(scale, seed=4, dtype=torch.float64, degenerate=True)
        assert torch.allclose(ops.roi_pool(x, rois, 4, scale), tv.roi_pool(x, rois, 4, scale), atol=1e-12, rtol=0)
        for aligned in (False, True):
            ours = ops.roi_align(x, rois, (2, 3), scale, 2, aligned)
            assert torch.allclose(ours, tv.roi_align(x, rois, (2, 3), scale, 2, aligned), atol=1e-12, rtol=0)


def test_degenerate_and_outside_boxes():
    x = feature_maps(seed=5)
    rois = torch.tensor(
        [
            [0, 30.0, 20, 10, 5],  # x2 < x1 and y2 < y1
            [1, 40.0, 40, 40, 40],  # a point
            [0, 500.0, 500, 600, 600],  # fully outside (below right)
            [1, -300.0, -200, -100, -50],  # fully outside (above left)
            [0, -20.0, -20, 200, 300],  # larger than the map
            [1, 12.5, 4.5, 27.5, 60.5],  # halves: rounding matters for RoI Pool
        ]
    )
    for scale in (1.0, 1 / 8, 0.25):
        assert torch.allclose(ops.roi_pool(x, rois, 3, scale), tv.roi_pool(x, rois, 3, scale), atol=1e-5)
        for sampling_ratio in (1, 2):
            for aligned in (False, True):
                ours = ops.roi_align(x, rois, 3, scale, sampling_ratio, aligned)
                assert torch.allclose(ours, tv.roi_align(x, rois, 3, scale, sampling_ratio, aligned), atol=1e-5)
        ours = ops.roi_align(x, rois, 3, scale, -1, False)
        assert torch.allclose(ours, tv.roi_align(x, rois, 3, scale, -1, False), atol=1e-5)
    outside = ops.roi_pool(x, rois[2:4], 3, 1.0)
    assert torch.equal(outside, torch.zeros_like(outside))  # empty bins give 0, not -inf


def test_roi_pool_rounds_halves_away_from_zero():
    # C's round(0.5) = 1, torch.round(0.5) = 0: the box (0.5, 0.5, 0.5, 0.5) reads cell (1, 1), not (0, 0).
    x = torch.arange(25.0).reshape(1, 1, 5, 5)
    rois = torch.tensor([[0, 0.5, 0.5, 0.5, 0.5], [0, 2.5, 1.5, 2.5, 1.5], [0, -0.5, -0.5, -0.5, -0.5]])
    expected = tv.roi_pool(x, rois, 1)
    assert expected.flatten().tolist() == [6.0, 13.0, 0.0]
    assert torch.equal(ops.roi_pool(x, rois, 1), expected)


def test_no_boxes_gives_an_empty_batch():
    x = feature_maps()
    empty = torch.zeros(0, 5)
    assert ops.roi_pool(x, empty, (2, 3)).shape == tv.roi_pool(x, empty, (2, 3)).shape == (0, 3, 2, 3)
    assert ops.roi_align(x, [torch.zeros(0, 4)], 4).shape == (0, 3, 4, 4)


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("operation", ["roi_pool", "roi_align_fixed", "roi_align_adaptive_aligned"])
def test_gradients_equal_torchvision(operation):
    x = feature_maps(torch.float64, seed=11)
    scale = 1 / 8
    rois = random_rois(scale, seed=12, dtype=torch.float64, count=8)
    g = torch.Generator().manual_seed(13)
    upstream = torch.randn(8, 3, 3, 4, generator=g, dtype=torch.float64)
    if operation == "roi_pool":
        ours_fn, theirs_fn = ops.roi_pool, tv.roi_pool
        extra = ()
    elif operation == "roi_align_fixed":
        ours_fn, theirs_fn, extra = ops.roi_align, tv.roi_align, (2, False)
    else:
        ours_fn, theirs_fn, extra = ops.roi_align, tv.roi_align, (-1, True)
    ours_x, theirs_x = x.clone().requires_grad_(), x.clone().requires_grad_()
    (ours_fn(ours_x, rois, (3, 4), scale, *extra) * upstream).sum().backward()
    (theirs_fn(theirs_x, rois, (3, 4), scale, *extra) * upstream).sum().backward()
    assert ours_x.grad.abs().sum() > 0
    assert torch.allclose(ours_x.grad, theirs_x.grad, atol=1e-10, rtol=0)


def test_gradcheck_of_roi_align():
    x = feature_maps(torch.float64, seed=2, images=1, channels=2).requires_grad_()
    rois = torch.tensor([[0, 1.3, 0.7, 6.2, 5.9], [0, -1.5, 3.2, 4.1, 12.0]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: ops.roi_align(t, rois, 2, 1.0, 2, True), (x,))


# --------------------------------------------------------------------------- bilinear interpolation


def test_bilinear_interpolate_equals_grid_sample_inside_the_border_band():
    # Inside [-1, H] x [-1, W], torchvision's rules are grid_sample's border padding
    # (align_corners=False puts value [i, j] at pixel coordinate (j, i)); beyond, the value is 0.
    feature = feature_maps(torch.float64, seed=21, images=1)[0]  # [C, H, W]
    g = torch.Generator().manual_seed(22)
    y = torch.rand(200, generator=g, dtype=torch.float64) * (HEIGHT + 1) - 1
    x = torch.rand(200, generator=g, dtype=torch.float64) * (WIDTH + 1) - 1
    y[:4] = torch.tensor([-1.0, 0.0, HEIGHT - 1.0, float(HEIGHT)])  # exactly on the band's edges
    x[:4] = torch.tensor([float(WIDTH), -1.0, 0.0, WIDTH - 1.0])
    grid = torch.stack([(2 * x + 1) / WIDTH - 1, (2 * y + 1) / HEIGHT - 1], dim=-1)  # [200, 2]
    expected = F.grid_sample(
        feature[None], grid[None, None], mode="bilinear", padding_mode="border", align_corners=False
    )[0, :, 0]  # [C, 200]
    assert torch.allclose(ops.bilinear_interpolate(feature, y, x), expected, atol=1e-12)
    assert torch.allclose(ops.bilinear_interpolate(feature[0], y, x), expected[0], atol=1e-12)
    # Outside the band: 0.
    far = ops.bilinear_interpolate(
        feature, torch.tensor([-1.01, 3.0, HEIGHT + 0.01, 2.0]), torch.tensor([2.0, WIDTH + 0.5, 2.0, -7.0])
    )
    assert torch.equal(far, torch.zeros_like(far))


def test_bilinear_interpolate_equals_roi_align_at_one_point():
    # A zero-size box with aligned=True and one sample reads exactly the point (x1 - 0.5, y1 - 0.5).
    feature = feature_maps(seed=23, images=1, channels=1)[0, 0]
    for y, x in [(0.0, 0.0), (2.25, 3.75), (-0.6, 4.0), (HEIGHT - 0.7, WIDTH - 0.2), (8.0, 10.0), (3.3, -2.0)]:
        box = torch.tensor([[0, x + 0.5, y + 0.5, x + 0.5, y + 0.5]])
        expected = tv.roi_align(feature[None, None], box, 1, 1.0, 1, True).item()
        assert ops.bilinear_interpolate(feature, y, x).item() == pytest.approx(expected, abs=1e-5)


def test_bilinear_interpolate_worked_example():
    feature = torch.tensor([[0.0, 10.0], [20.0, 30.0]])
    # (y, x) = (0.25, 0.5): rows mix 3:1, columns 1:1 -> 0.75 * 5 + 0.25 * 25 = 10.
    assert ops.bilinear_interpolate(feature, 0.25, 0.5).item() == pytest.approx(10.0)
    assert ops.bilinear_interpolate(feature, 0.0, 1.0).item() == pytest.approx(10.0)  # x = W - 1: last column


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", [-1, 2])
def test_roi_align_geometry_reproduces_torchvision(aligned, sampling_ratio):
    x = feature_maps(seed=31, images=1)
    scale = 1 / 8
    for box in random_rois(scale, seed=32, count=6, images=1)[:, 1:]:
        geometry = ops.roi_align_geometry(box, (3, 4), scale, sampling_ratio, aligned, (HEIGHT, WIDTH))
        n = geometry.grid[0] * geometry.grid[1]
        assert geometry.samples.shape == (3, 4, n, 2) and geometry.neighbours.shape == (3, 4, n, 4, 2)
        assert geometry.weights.shape == (3, 4, n, 4) and geometry.bins.shape == (3, 4, 4)
        cols, rows = geometry.neighbours[..., 0], geometry.neighbours[..., 1]
        values = x[0][:, rows, cols]  # [C, 3, 4, n, 4]
        recomputed = (values * geometry.weights).sum(dim=(-1, -2)) / geometry.count
        rois = torch.cat([torch.zeros(1), box])[None]  # (batch index 0, x1, y1, x2, y2)
        expected = tv.roi_align(x, rois, (3, 4), scale, sampling_ratio, aligned)[0]
        assert torch.allclose(recomputed, expected, atol=1e-5)
        # Samples lie inside their bins, and the bins tile the RoI.
        bx1, by1, bx2, by2 = geometry.bins.unbind(-1)
        sx, sy = geometry.samples[..., 0], geometry.samples[..., 1]
        assert ((sx >= bx1[..., None] - 1e-5) & (sx <= bx2[..., None] + 1e-5)).all()
        assert ((sy >= by1[..., None] - 1e-5) & (sy <= by2[..., None] + 1e-5)).all()
        assert geometry.bins[0, 0, 0].item() == pytest.approx(geometry.roi[0], abs=1e-5)
        assert geometry.bins[-1, -1, 3].item() == pytest.approx(geometry.roi[3], abs=1e-4)


def test_roi_align_geometry_half_cell_shift():
    box = (16.0, 32.0, 48.0, 64.0)  # cells 1..3 x 2..4 at stride 16
    plain = ops.roi_align_geometry(box, 2, 1 / 16, 1)
    shifted = ops.roi_align_geometry(box, 2, 1 / 16, 1, aligned=True)
    assert plain.roi == pytest.approx((1.0, 2.0, 3.0, 4.0))
    assert shifted.roi == pytest.approx((0.5, 1.5, 2.5, 3.5))
    assert plain.samples[0, 0, 0].tolist() == pytest.approx([1.5, 2.5])  # the centre of the first bin
    assert plain.weights[0, 0, 0].tolist() == pytest.approx([0.25, 0.25, 0.25, 0.25])


@pytest.mark.parametrize("scale", [1.0, 1 / 16, 0.3])
def test_roi_pool_geometry_reproduces_torchvision(scale):
    x = feature_maps(seed=41, images=1)
    for box in random_rois(scale, seed=42, count=8, images=1, degenerate=True)[:, 1:]:
        geometry = ops.roi_pool_geometry(box, (3, 4), scale, (HEIGHT, WIDTH))
        expected = tv.roi_pool(x, torch.cat([torch.zeros(1), box])[None], (3, 4), scale)[0]
        for row in range(3):
            for col in range(4):
                x1, y1, x2, y2 = geometry.bins[row, col].tolist()
                if geometry.empty[row, col]:
                    assert torch.equal(expected[:, row, col], torch.zeros(3))
                else:
                    assert torch.equal(x[0, :, y1:y2, x1:x2].amax(dim=(1, 2)), expected[:, row, col])


def test_roi_pool_geometry_worked_example():
    # Box 10..100 x 20..90 at stride 16: corners 0.625, 1.25, 6.25, 5.625 round to cells 1, 1, 6, 6;
    # the RoI is cells 1..6 (both included), 6 cells, split into 4 bins of 1.5 cells: 1-2, 2-4, 4-5, 5-7.
    geometry = ops.roi_pool_geometry((10, 20, 100, 90), 4, 1 / 16)
    assert geometry.roi == (1, 1, 7, 7)
    assert geometry.bins[0, :, 0].tolist() == [1, 2, 4, 5]
    assert geometry.bins[0, :, 2].tolist() == [3, 4, 6, 7]
    assert not geometry.empty.any()
    assert ops.misalignment_pixels((10, 20, 100, 90), 1 / 16).tolist() == [6.0, -4.0, 12.0, 22.0]


def test_misalignment_is_bounded_by_the_stride():
    g = torch.Generator().manual_seed(5)
    for stride in (8, 16, 32):
        for _ in range(50):
            x1, y1 = (torch.rand(2, generator=g) * 200).tolist()
            w, h = (torch.rand(2, generator=g) * 200 + 1).tolist()
            error = ops.misalignment_pixels((x1, y1, x1 + w, y1 + h), 1 / stride)
            assert (error[:2].abs() <= stride / 2 + 1e-9).all()  # rounding the near corner
            assert ((error[2:] >= stride / 2 - 1e-9) & (error[2:] <= 1.5 * stride + 1e-9)).all()  # + the last cell


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda x, b: ops.roi_align(x[0], b, 2), ValueError, "input must be a 4-D"),
        (lambda x, b: ops.roi_pool(x.long(), b, 2), TypeError, "input must be a floating-point"),
        (lambda x, b: ops.roi_align(x, b[:, 1:], 2), ValueError, r"Tensor\[K, 5\]"),
        (lambda x, b: ops.roi_pool(x, [b[:, 1:3]], 2), ValueError, r"boxes\[0\] must have shape \[L, 4\]"),
        (lambda x, b: ops.roi_pool(x, [b[:, 1:]] * 3, 2), ValueError, "3 tensors for a batch of 2"),
        (lambda x, b: ops.roi_align(x, b + torch.tensor([2.0, 0, 0, 0, 0]), 2), ValueError, r"\[0, 1\]"),
        (lambda x, b: ops.roi_align(x, b + torch.tensor([0.5, 0, 0, 0, 0]), 2), ValueError, "whole number"),
        (lambda x, b: ops.roi_pool(x, b.double(), 2), TypeError, "same dtype as input"),
        (lambda x, b: ops.roi_pool(x, b, 0), ValueError, r"output_size\[0\] must be >= 1"),
        (lambda x, b: ops.roi_align(x, b, (2, 0)), ValueError, r"output_size\[1\] must be >= 1"),
        (lambda x, b: ops.roi_align(x, b, (2, 2, 2)), TypeError, "output_size must be an int or a pair"),
        (lambda x, b: ops.roi_align(x, b, 2.5), TypeError, "output_size"),
        (lambda x, b: ops.roi_pool(x, b, 2, -1 / 16), ValueError, "spatial_scale must be > 0"),
        (lambda x, b: ops.roi_align(x, b, 2, 1.0, 1.5), TypeError, "sampling_ratio must be an integer"),
        (lambda x, b: ops.roi_align(x, b, 2, 1.0, 2, "yes"), TypeError, "aligned must be True or False"),
        (lambda x, b: ops.roi_align(x, "boxes", 2), TypeError, "boxes must be a Tensor"),
        (lambda x, b: ops.roi_align(x, b.long(), 2), TypeError, "boxes must be a floating-point"),
        (lambda x, b: ops.roi_pool(x, b * torch.tensor([1, float("nan"), 1, 1, 1]), 2), ValueError, "finite"),
        (lambda x, b: ops.bilinear_interpolate(x, 1.0, 1.0), ValueError, "feature must be a 2-D or 3-D"),
        (lambda x, b: ops.bilinear_interpolate(x[0], float("nan"), 1.0), ValueError, "y must not contain NaN"),
        (lambda x, b: ops.bilinear_interpolate(x[0], torch.zeros(3), torch.zeros(4)), ValueError, "same shape"),
        (lambda x, b: ops.bilinear_interpolate(x[0], "1", 1.0), TypeError, "y must be a number or a tensor"),
        (lambda x, b: ops.roi_align_geometry((1, 2, 3), 2), TypeError, "box must be 4 numbers"),
        (lambda x, b: ops.roi_align_geometry((1, 2, 3, float("inf")), 2), ValueError, "must be finite"),
        (lambda x, b: ops.roi_pool_geometry((1, 2, 3, 4), 2, 0.0), ValueError, "spatial_scale must be > 0"),
        (lambda x, b: ops.roi_pool_geometry((1, 2, 3, 4), 2, 1.0, (5,)), TypeError, "feature_size"),
        (lambda x, b: ops.misalignment_pixels(torch.zeros(5), 0.5), ValueError, "box must hold 4 numbers"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(call, error, message):
    x = feature_maps()
    boxes = torch.tensor([[0, 1.0, 2, 30, 40], [1, 5.0, 5, 9, 9]])
    with pytest.raises(error, match=message):
        call(x, boxes)
