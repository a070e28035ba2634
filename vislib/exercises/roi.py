"""Checkers for the RoI exercises (notebook 08): bilinear interpolation and one RoI Align bin."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from vislib._validation import check_callable

__all__ = ["check_bilinear_interpolate", "check_roi_align_bin", "roi_align_bin_reference"]


# -- RoI Pool / RoI Align (notebook 08) ------------------------------------------------
def _roi_align_at_point(feature: torch.Tensor, y: float, x: float) -> float:
    """torchvision's bilinear read of ``feature [H, W]`` at ``(y, x)``: RoI Align of a 1 x 1-cell box centred on
    the point, one bin, one sample (which sits at the box's centre)."""
    import torchvision

    box = torch.tensor([[0.0, x - 0.5, y - 0.5, x + 0.5, y + 0.5]], dtype=torch.float64)
    return torchvision.ops.roi_align(feature.double()[None, None], box, 1, 1.0, 1, False).item()


def _bilinear_variant(feature: torch.Tensor, y: float, x: float, mistake: str) -> float:
    """Bilinear interpolation with one typical mistake, to recognise it in a student's numbers."""
    height, width = feature.shape
    f = feature.double()
    if mistake == "zero outside" and not (0 <= y <= height - 1 and 0 <= x <= width - 1):
        return 0.0  # every point off the grid reads 0 (no clamping band)
    if mistake != "no zero rule" and (y < -1 or y > height or x < -1 or x > width):
        return 0.0
    y, x = min(max(y, 0.0), height - 1.0), min(max(x, 0.0), width - 1.0)
    if mistake == "nearest":
        return f[int(round(y)), int(round(x))].item()
    y0, x0 = min(int(math.floor(y)), height - 1), min(int(math.floor(x)), width - 1)
    y1, x1 = min(y0 + 1, height - 1), min(x0 + 1, width - 1)
    ly, lx = y - y0, x - x0
    hy, hx = 1 - ly, 1 - lx
    if mistake == "near weights":  # each neighbour weighted by its own distance instead of the opposite area
        hy, ly, hx, lx = ly, hy, lx, hx
    return (hy * hx * f[y0, x0] + hy * lx * f[y0, x1] + ly * hx * f[y1, x0] + ly * lx * f[y1, x1]).item()


def _bilinear_cases():
    generator = torch.Generator().manual_seed(8)
    wide = torch.rand(5, 8, generator=generator, dtype=torch.float64)  # H != W: catches swapped x and y
    tall = torch.rand(9, 4, generator=generator, dtype=torch.float64)
    interior = [
        (wide, 1.25, 2.5),
        (wide, 3.7, 6.2),
        (tall, 6.4, 1.9),
        (wide, 2.0, 3.0),
        (tall, 0.5, 0.5),
        (wide, 0.1, 5.9),
    ]
    last_row_and_column = [(wide, 4.0, 2.3), (wide, 1.5, 7.0), (wide, 4.6, 7.4), (tall, 8.0, 3.0)]
    clamped_band = [(wide, -0.5, 3.3), (wide, 2.2, -0.8), (tall, -1.0, -1.0), (wide, 5.0, 8.0)]
    outside = [(wide, -1.5, 2.0), (wide, 2.0, 8.4), (tall, 9.2, 1.0), (tall, 3.0, -3.0)]
    return interior + last_row_and_column + clamped_band + outside


def _as_number(got, call: str) -> float:
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float, np.floating, np.integer)):
        raise AssertionError(f"{call} must return a number (a float), got {type(got).__name__}")
    return float(got)


def _likely_mistake(got: list, hypotheses, cases, failing_case, failing_value) -> str | None:
    """The hint of the mistake that reproduces the most of the student's numbers, among those that reproduce
    the first wrong one (``hypotheses``: ``(variant(*case), hint)`` pairs; ``got``: None where nothing ran)."""
    best, best_count = None, -1
    for variant, hint in hypotheses:
        if abs(failing_value - variant(*failing_case)) > 1e-6:
            continue
        count = sum(value is not None and abs(value - variant(*case)) <= 1e-6 for value, case in zip(got, cases))
        if count > best_count:
            best, best_count = hint, count
    return best


def check_bilinear_interpolate(bilinear: Callable) -> int:
    """Check ``bilinear(feature, y, x) -> float`` against ``torchvision.ops.roi_align`` read at single points.

    ``feature`` is a ``Tensor[H, W]``; the value ``feature[i, j]`` sits at the point ``(y=i, x=j)``; ``y`` and
    ``x`` are Python floats (row first, as in ``feature[y, x]``). A point between four grid points is the sum
    of their values, each weighted by the area of the rectangle opposite it. Border rules (torchvision's, those
    of :func:`vislib.ops.bilinear_interpolate`): a point with ``y < -1``, ``y > H``, ``x < -1`` or ``x > W``
    reads 0; otherwise coordinates below 0 are clamped to 0, and a point at or past the last row (column)
    reads that row (column) only. Returns the number of points checked.
    """
    check_callable("bilinear", bilinear)
    cases = _bilinear_cases()
    got, failure = [], None
    for feature, y, x in cases:
        call = f"bilinear(<feature {feature.shape[0]} x {feature.shape[1]}>, y={y}, x={x})"
        try:
            value = _as_number(bilinear(feature.clone(), y, x), call)
        except IndexError as error:
            if failure is not None:  # explain the first wrong number, from the answers so far
                break
            raise AssertionError(
                f"{call} raised IndexError ({error}). At or past the last row (y >= H - 1) both neighbours are "
                "the last row: y_low = y_high = H - 1 (the same for columns); points beyond y > H or x > W "
                "read 0 before any indexing."
            ) from None
        got.append(value)
        expected = _roi_align_at_point(feature, y, x)
        if failure is None and abs(value - expected) > 1e-6:
            failure = (call, value, expected, (feature, y, x))
    if failure is None:
        return len(cases)
    call, value, expected, case = failure
    _, y, x = case
    negative = y < 0 or x < 0
    hypotheses = [
        (
            lambda f, y_, x_: _roi_align_at_point(f, x_, y_),
            "x and y are swapped: y is the row (first index), x the column: feature[y, x].",
        ),
        (
            lambda f, y_, x_: _bilinear_variant(f, y_, x_, "near weights"),
            "Wrong weights: each neighbour is weighted by the area of the rectangle OPPOSITE it, "
            "(1 - dy) * (1 - dx) for the top-left one (dy = y - y_low, dx = x - x_low); "
            "you gave the nearest neighbour the smallest weight.",
        ),
        (
            lambda f, y_, x_: _bilinear_variant(f, y_, x_, "nearest"),
            "That is the nearest grid point's value: interpolate between the four neighbours instead of rounding "
            "the point (rounding is what RoI Align avoids).",
        ),
        (
            lambda f, y_, x_: _bilinear_variant(f, y_, x_, "zero outside"),
            "Points in [-1, 0) are not outside: clamp the coordinate to 0 (they read row / column 0); only points "
            "beyond -1 (or beyond H, W) read 0."
            if negative
            else "Points at or past the last row or column (y >= H - 1) read that row or column: set y_high = y_low = "
            "H - 1 (and y = y_low); only points beyond H (or W) read 0.",
        ),
        (
            lambda f, y_, x_: _bilinear_variant(f, y_, x_, "no zero rule"),
            "A point more than one cell outside the map (y < -1, y > H, x < -1 or x > W) reads 0; clamp only the "
            "points inside that band.",
        ),
    ]
    hint = _likely_mistake(got, hypotheses, cases, case, value) or (
        "The value is the weighted sum of the four neighbours feature[y_low, x_low], feature[y_low, x_high], "
        "feature[y_high, x_low] and feature[y_high, x_high]."
    )
    raise AssertionError(f"{call} returned {value:.6f}, but torchvision's roi_align reads {expected:.6f} there. {hint}")


def roi_align_bin_reference(
    feature: torch.Tensor,
    box,
    output_size: int,
    bin_row: int,
    bin_col: int,
    spatial_scale: float,
    sampling_ratio: int,
    aligned: bool,
    *,
    offset: float | None = None,
    minimum_size: bool | None = None,
    round_box: bool = False,
    round_bins: bool = False,
    nearest: bool = False,
    corner_samples: bool = False,
    reduce: str = "mean",
) -> float:
    """RoI Align for one RoI and one bin, written out (equal to ``torchvision.ops.roi_align``, see the tests);
    the keyword arguments switch on typical mistakes, to recognise them in a student's numbers."""
    from vislib.ops import bilinear_interpolate

    offset = (0.5 if aligned else 0.0) if offset is None else offset
    minimum_size = (not aligned) if minimum_size is None else minimum_size
    x1, y1, x2, y2 = (float(v) * spatial_scale for v in box)
    if round_box:  # RoI Pool's habit: snap the box to whole cells
        x1, y1, x2, y2 = (float(round(v)) for v in (x1, y1, x2, y2))
    x1, y1, x2, y2 = x1 - offset, y1 - offset, x2 - offset, y2 - offset
    width, height = x2 - x1, y2 - y1
    if minimum_size:
        width, height = max(width, 1.0), max(height, 1.0)
    bin_w, bin_h = width / output_size, height / output_size
    grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(height / output_size)
    grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(width / output_size)
    top, left = y1 + bin_row * bin_h, x1 + bin_col * bin_w
    bottom, right = top + bin_h, left + bin_w
    if round_bins:  # RoI Pool's habit: floor the bin's start, ceil its end
        top, left, bottom, right = math.floor(top), math.floor(left), math.ceil(bottom), math.ceil(right)
    step_h, step_w = (bottom - top) / max(grid_h, 1), (right - left) / max(grid_w, 1)
    shift = 0.0 if corner_samples else 0.5
    values = []
    for iy in range(grid_h):
        for ix in range(grid_w):
            y, x = top + (iy + shift) * step_h, left + (ix + shift) * step_w
            if nearest:
                y, x = float(round(y)), float(round(x))
            values.append(bilinear_interpolate(feature.double(), y, x).item())
    if not values:
        return 0.0
    return max(values) if reduce == "max" else sum(values) / max(grid_h * grid_w, 1)


def _roi_align_bin_cases():
    generator = torch.Generator().manual_seed(9)
    feature = torch.rand(10, 12, generator=generator, dtype=torch.float64)  # a stride-16 map of a 160 x 192 image
    cases = []
    for box, output_size, bin_row, bin_col, scale, ratio, aligned in [
        ((37.0, 21.0, 141.0, 118.0), 2, 0, 1, 1 / 16, 2, False),  # the slide's 2 x 2 split, two points a side
        ((37.0, 21.0, 141.0, 118.0), 2, 1, 0, 1 / 16, 2, True),
        ((10.5, 40.2, 99.9, 77.7), 3, 2, 1, 1 / 16, 1, True),
        ((50.0, 5.0, 170.0, 150.0), 7, 3, 5, 1 / 16, 2, False),
        ((50.0, 5.0, 170.0, 150.0), 7, 6, 0, 1 / 16, 3, True),
        ((3.0, 4.5, 9.0, 7.25), 2, 1, 1, 1.0, 2, True),  # spatial_scale 1: feature cells are pixels
        ((24.0, 40.0, 88.0, 120.0), 4, 1, 2, 1 / 8, 2, True),
        ((37.0, 21.0, 141.0, 118.0), 3, 1, 2, 1 / 16, -1, True),  # adaptive: ceil(bin size) points a side
        ((12.0, 30.0, 180.0, 100.0), 2, 0, 0, 1 / 16, -1, False),
        ((60.0, 60.0, 70.0, 68.0), 2, 1, 0, 1 / 16, 2, False),  # smaller than a cell: made 1 cell wide and high
        ((150.0, 120.0, 200.0, 170.0), 2, 1, 1, 1 / 16, 2, True),  # across the map's border
    ]:
        cases.append((feature, box, output_size, bin_row, bin_col, scale, ratio, aligned))
    return cases


def check_roi_align_bin(roi_align_bin: Callable) -> int:
    """Check ``roi_align_bin(feature, box, output_size, bin_row, bin_col, spatial_scale, sampling_ratio,
    aligned) -> float`` against ``torchvision.ops.roi_align``.

    ``feature`` is one feature map ``Tensor[H, W]``; ``box`` is ``(x1, y1, x2, y2)`` in image pixels (floats);
    ``output_size`` the number of bins per side (an int); the function returns the output of bin
    ``(bin_row, bin_col)``: the mean of ``sampling_ratio x sampling_ratio`` bilinear reads at evenly spaced
    points ``(i + 1/2) / sampling_ratio`` of the bin (``sampling_ratio <= 0``: ``ceil(bin height)`` x
    ``ceil(bin width)`` points, the bin sizes in cells). The box is scaled by ``spatial_scale`` and, when
    ``aligned``, shifted by -0.5 cell; when not ``aligned`` it is made at least one cell wide and high.
    Returns the number of cases checked.
    """
    import torchvision

    check_callable("roi_align_bin", roi_align_bin)
    cases = _roi_align_bin_cases()
    got, failure = [], None
    for case in cases:
        feature, box, output_size, bin_row, bin_col, scale, ratio, aligned = case
        rois = torch.tensor([[0.0, *box]], dtype=torch.float64)
        output = torchvision.ops.roi_align(feature[None, None], rois, output_size, scale, ratio, aligned)
        expected = output[0, 0, bin_row, bin_col].item()
        call = (
            f"roi_align_bin(<feature {feature.shape[0]} x {feature.shape[1]}>, box={box}, output_size="
            f"{output_size}, bin_row={bin_row}, bin_col={bin_col}, spatial_scale={scale:g}, "
            f"sampling_ratio={ratio}, aligned={aligned})"
        )
        value = _as_number(
            roi_align_bin(feature.clone(), tuple(box), output_size, bin_row, bin_col, scale, ratio, aligned), call
        )
        got.append(value)
        if failure is None and abs(value - expected) > 1e-6:
            failure = (call, value, expected, case)
    if failure is None:
        return len(cases)
    call, value, expected, case = failure
    ratio = case[6]

    def mistake(**changes):
        def variant(feature, box, output_size, bin_row, bin_col, scale, ratio, aligned):
            arguments = dict(
                feature=feature,
                box=box,
                output_size=output_size,
                bin_row=bin_row,
                bin_col=bin_col,
                spatial_scale=scale,
                sampling_ratio=ratio,
                aligned=aligned,
            )
            if changes.get("swap"):
                arguments.update(bin_row=bin_col, bin_col=bin_row)
            if changes.get("unscaled"):
                arguments.update(spatial_scale=1.0)
            options = {k: v for k, v in changes.items() if k not in ("swap", "unscaled")}
            return roi_align_bin_reference(**arguments, **options)

        return variant

    hypotheses = [
        (
            mistake(offset=0.0, minimum_size=False),
            "With aligned=True, shift the scaled box by half a cell: x1 * spatial_scale - 0.5 (every coordinate). "
            "Feature value [i, j] stands for the pixels of cell (i, j), whose centre is at feature coordinate "
            "(j + 0.5, i + 0.5) before the shift.",
        ),
        (
            mistake(offset=0.0),
            "With aligned=True, shift the scaled box by half a cell: x1 * spatial_scale - 0.5 (every coordinate).",
        ),
        (
            mistake(offset=0.5, minimum_size=False),
            "The half-cell shift belongs to aligned=True only; with aligned=False use x1 * spatial_scale.",
        ),
        (
            mistake(minimum_size=False),
            "With aligned=False (the original Mask R-CNN code) the RoI is made at least one cell wide and high: "
            "roi_width = max(x2 - x1, 1) after scaling.",
        ),
        (
            mistake(round_box=True),
            "Do not round the box to whole cells: that is RoI Pool's habit and the misalignment RoI Align removes. "
            "Keep x1 * spatial_scale as a float.",
        ),
        (
            mistake(round_box=True, round_bins=True),
            "Do not round the box to whole cells, nor the bins' edges: those are RoI Pool's habits and the "
            "misalignment RoI Align removes.",
        ),
        (
            mistake(round_bins=True),
            "Do not round the bins' edges (floor / ceil is RoI Pool's): every bin is exactly roi_width / output_size "
            "cells wide, a float.",
        ),
        (
            mistake(nearest=True),
            "Do not round the sample points: read them with bilinear interpolation at their exact position.",
        ),
        (
            mistake(unscaled=True),
            "Multiply the box by spatial_scale first: the box is in image pixels, the feature map in cells.",
        ),
        (
            mistake(corner_samples=True),
            "Sample points sit at (i + 1/2) / sampling_ratio of the bin (centred), not at i / sampling_ratio (the "
            "bin's corner).",
        ),
        (mistake(reduce="max"), "RoI Align averages a bin's samples (torchvision); the maximum is RoI Pool's rule."),
        (mistake(swap=True), "bin_row and bin_col are swapped: bin_row counts down (y), bin_col across (x)."),
    ]
    hint = _likely_mistake(got, hypotheses, cases, case, value)
    if hint is None and ratio <= 0:
        hint = (
            "sampling_ratio <= 0 is adaptive: ceil(roi_height / output_size) points vertically and "
            "ceil(roi_width / output_size) horizontally (bin sizes in cells)."
        )
    hint = hint or "Scale the box, split it into equal bins and average the bilinear reads at each bin's sample points."
    raise AssertionError(f"{call} returned {value:.6f}, but torchvision.ops.roi_align gives {expected:.6f}. {hint}")
