"""Notebook 08's RoI exercise checkers accept right answers and name the typical mistakes."""

import math

import pytest
import torch
import torchvision

from vislib import ops
from vislib.exercises.roi import (
    _bilinear_cases,
    _roi_align_at_point,
    _roi_align_bin_cases,
    check_bilinear_interpolate,
    check_roi_align_bin,
    roi_align_bin_reference,
)

# --------------------------------------------------------------------------- bilinear interpolation


def bilinear(
    feature,
    y,
    x,
    *,
    swap=False,
    near_weights=False,
    nearest=False,
    negative_outside=False,
    last_row_outside=False,
    clamp_everything=False,
    no_last_row_rule=False,
):
    """The notebook's solution, with switches for the typical mistakes."""
    if swap:
        y, x = x, y
    height, width = feature.shape
    if not clamp_everything and (y < -1 or y > height or x < -1 or x > width):
        return 0.0
    if negative_outside and (y < 0 or x < 0):
        return 0.0
    if last_row_outside and (y > height - 1 or x > width - 1):
        return 0.0
    y, x = max(y, 0.0), max(x, 0.0)
    if clamp_everything:
        y, x = min(y, height - 1.0), min(x, width - 1.0)
    if nearest:
        return float(feature[round(y), round(x)])
    y_low, x_low = int(y), int(x)
    if y_low >= height - 1 and not no_last_row_rule:
        y_low = y_high = height - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1 and not no_last_row_rule:
        x_low = x_high = width - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    dy, dx = y - y_low, x - x_low
    if near_weights:
        dy, dx = 1 - dy, 1 - dx
    return float(
        (1 - dy) * (1 - dx) * feature[y_low, x_low]
        + (1 - dy) * dx * feature[y_low, x_high]
        + dy * (1 - dx) * feature[y_high, x_low]
        + dy * dx * feature[y_high, x_high]
    )


def test_the_oracle_is_torchvision_and_vislib():
    for feature, y, x in _bilinear_cases():
        assert _roi_align_at_point(feature, y, x) == pytest.approx(
            ops.bilinear_interpolate(feature, y, x).item(), abs=1e-12
        )


def test_right_answers_pass():
    assert check_bilinear_interpolate(bilinear) == len(_bilinear_cases())
    assert check_bilinear_interpolate(lambda f, y, x: ops.bilinear_interpolate(f, y, x)) > 0  # a 0-d tensor is fine


@pytest.mark.parametrize(
    "mistake, message",
    [
        ({"swap": True}, "x and y are swapped"),
        ({"near_weights": True}, "rectangle OPPOSITE"),
        ({"nearest": True}, "nearest grid point"),
        ({"negative_outside": True}, r"Points in \[-1, 0\) are not outside"),
        ({"last_row_outside": True}, "at or past the last row"),
        ({"clamp_everything": True}, "more than one cell outside"),
        ({"no_last_row_rule": True}, "raised IndexError"),
    ],
)
def test_bilinear_mistakes_are_named(mistake, message):
    with pytest.raises(AssertionError, match=message):
        check_bilinear_interpolate(lambda f, y, x: bilinear(f, y, x, **mistake))


def test_bilinear_must_return_a_number():
    with pytest.raises(AssertionError, match="must return a number"):
        check_bilinear_interpolate(lambda f, y, x: [1.0])
    with pytest.raises(TypeError, match="bilinear must be callable"):
        check_bilinear_interpolate("bilinear")


# --------------------------------------------------------------------------- RoI Align, one bin


def roi_align_bin(
    feature,
    box,
    output_size,
    bin_row,
    bin_col,
    spatial_scale,
    sampling_ratio,
    aligned,
    *,
    forget_offset=False,
    always_offset=False,
    no_minimum=False,
    round_box=False,
    round_bins=False,
    nearest=False,
    no_scale=False,
    corner=False,
    use_max=False,
    swap_bins=False,
    adaptive_as_one=False,
):
    """The notebook's solution, with switches for the typical mistakes."""
    if swap_bins:
        bin_row, bin_col = bin_col, bin_row
    scale = 1.0 if no_scale else spatial_scale
    offset = 0.5 if (aligned and not forget_offset) or always_offset else 0.0
    coordinates = [v * scale for v in box]
    if round_box:
        coordinates = [float(round(v)) for v in coordinates]
    x1, y1, x2, y2 = (v - offset for v in coordinates)
    roi_width, roi_height = x2 - x1, y2 - y1
    if not aligned and not no_minimum:
        roi_width, roi_height = max(roi_width, 1.0), max(roi_height, 1.0)
    bin_width, bin_height = roi_width / output_size, roi_height / output_size
    if sampling_ratio > 0:
        grid_h = grid_w = sampling_ratio
    elif adaptive_as_one:
        grid_h = grid_w = 1
    else:
        grid_h, grid_w = math.ceil(bin_height), math.ceil(bin_width)
    top, left = y1 + bin_row * bin_height, x1 + bin_col * bin_width
    bottom, right = top + bin_height, left + bin_width
    if round_bins:
        top, left, bottom, right = math.floor(top), math.floor(left), math.ceil(bottom), math.ceil(right)
    shift = 0.0 if corner else 0.5
    values = []
    for iy in range(grid_h):
        for ix in range(grid_w):
            y = top + (iy + shift) * (bottom - top) / grid_h
            x = left + (ix + shift) * (right - left) / grid_w
            if nearest:
                y, x = float(round(y)), float(round(x))
            values.append(ops.bilinear_interpolate(feature, y, x).item())
    return max(values) if use_max else sum(values) / max(grid_h * grid_w, 1)


def test_the_reference_equals_torchvision():
    for feature, box, size, row, col, scale, ratio, aligned in _roi_align_bin_cases():
        rois = torch.tensor([[0.0, *box]], dtype=torch.float64)
        expected = torchvision.ops.roi_align(feature[None, None], rois, size, scale, ratio, aligned)[0, 0, row, col]
        assert roi_align_bin_reference(feature, box, size, row, col, scale, ratio, aligned) == pytest.approx(
            expected.item(), abs=1e-12
        )


def test_right_roi_align_bins_pass():
    assert check_roi_align_bin(roi_align_bin) == len(_roi_align_bin_cases())
    assert check_roi_align_bin(roi_align_bin_reference) > 0


@pytest.mark.parametrize(
    "mistake, message",
    [
        ({"forget_offset": True}, "shift the scaled box by half a cell"),
        ({"always_offset": True}, "belongs to aligned=True only"),
        ({"no_minimum": True}, "at least one cell wide"),
        ({"round_box": True}, "Do not round the box to whole cells"),
        ({"round_bins": True}, r"Do not round the bins' edges \(floor / ceil"),
        ({"nearest": True}, "Do not round the sample points"),
        ({"no_scale": True}, "Multiply the box by spatial_scale"),
        ({"corner": True}, r"\(i \+ 1/2\) / sampling_ratio"),
        ({"use_max": True}, "averages a bin's samples"),
        ({"swap_bins": True}, "bin_row and bin_col are swapped"),
        ({"adaptive_as_one": True}, "sampling_ratio <= 0 is adaptive"),
    ],
)
def test_roi_align_bin_mistakes_are_named(mistake, message):
    with pytest.raises(AssertionError, match=message):
        check_roi_align_bin(lambda *args: roi_align_bin(*args, **mistake))


def test_roi_align_bin_must_return_a_number():
    with pytest.raises(AssertionError, match="must return a number"):
        check_roi_align_bin(lambda *args: None)
