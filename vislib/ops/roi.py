"""Region-of-interest pooling: RoI Pool (Fast R-CNN) and RoI Align (Mask R-CNN).

A two-stage detector computes one feature map for the whole image and then
cuts a fixed-size feature (say 7 x 7) out of it for each proposed box, the
region of interest (RoI). The two functions here do that cutting, with
``torchvision.ops``' signatures and numbers (``tests/test_roi.py`` proves it):

* :func:`roi_pool` (Girshick, Fast R-CNN, arXiv 1504.08083) rounds the box to
  whole feature cells, splits it into ``output_size`` bins whose edges are
  rounded again (``floor`` / ``ceil``), and takes the maximum of each bin;
* :func:`roi_align` (He et al., Mask R-CNN, arXiv 1703.06870) rounds nothing:
  it splits the exact box into equal bins, reads a few regularly spaced points
  in each bin by bilinear interpolation (:func:`bilinear_interpolate`) and
  averages them.

Conventions (torchvision's):

* ``input`` is a batch of feature maps, ``Tensor[N, C, H, W]``.
* ``boxes`` are in *image* pixels, ``(x1, y1, x2, y2)``, either as one
  ``Tensor[K, 5]`` whose first column is the index of the image in the batch,
  or as a list of ``Tensor[L, 4]``, one per image.
* ``spatial_scale`` maps image pixels to feature cells: ``1 / stride``
  (``1 / 16`` for VGG-16's conv5).
* In feature coordinates, the value ``input[n, c, i, j]`` sits at the point
  ``(x=j, y=i)``. With ``aligned=True`` RoI Align first shifts the box by half
  a cell, so that a cell's value sits at the centre of the image pixels it
  covers (Detectron2's fix of the original Mask R-CNN code).
* Like torchvision, no gradient flows to the boxes; gradients flow to
  ``input`` (for RoI Pool, to the maximum of each bin).

The geometry helpers (:func:`roi_align_geometry`, :func:`roi_pool_geometry`,
:func:`misalignment_pixels`) return where the two operations read, for
pictures and exercises. The one addition to torchvision is input checking:
a wrong shape, a batch index out of range or a non-finite box raises
``ValueError``/``TypeError`` naming the argument.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from vislib._validation import check_bool, check_int, check_number, check_tensor

__all__ = [
    "bilinear_interpolate",
    "CHUNK_VALUES",
    "MAX_GEOMETRY_POINTS",
    "MAX_SAMPLE_POINTS",
    "misalignment_pixels",
    "roi_align",
    "roi_align_geometry",
    "roi_pool",
    "roi_pool_geometry",
    "RoIAlignGeometry",
    "RoIPoolGeometry",
]

# --------------------------------------------------------------------------- checks


def _check_feature_maps(input) -> Tensor:
    check_tensor("input", input, ndim=4, floating=True)
    if input.shape[2] < 1 or input.shape[3] < 1:
        raise ValueError(f"input must have a height and width of at least 1, got shape {list(input.shape)}")
    return input


def _check_finite_boxes(name: str, boxes: Tensor) -> None:
    if not boxes.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {boxes.dtype}")
    if not torch.isfinite(boxes).all():
        bad = int(torch.nonzero(~torch.isfinite(boxes).all(dim=1))[0])
        raise ValueError(f"{name} must be finite; row {bad} is {boxes[bad].tolist()}")


def _rois(boxes, input: Tensor) -> Tensor:
    """``boxes`` in either of torchvision's forms -> ``Tensor[K, 5]`` (batch index, x1, y1, x2, y2)."""
    images = input.shape[0]
    if isinstance(boxes, (list, tuple)):
        if len(boxes) > images:
            raise ValueError(
                f"boxes holds one Tensor[L, 4] per image: got {len(boxes)} tensors for a batch of {images} image(s)"
            )
        rows = []
        for index, image_boxes in enumerate(boxes):
            check_tensor(f"boxes[{index}]", image_boxes, shape=("L", 4))
            _check_finite_boxes(f"boxes[{index}]", image_boxes)
            batch_index = torch.full_like(image_boxes[:, :1], index)
            rows.append(torch.cat([batch_index, image_boxes], dim=1))
        rois = torch.cat(rows) if rows else input.new_zeros(0, 5)
    elif isinstance(boxes, Tensor):
        if boxes.ndim != 2 or boxes.shape[1] != 5:
            raise ValueError(
                f"boxes must be a Tensor[K, 5] (batch index, x1, y1, x2, y2) or a list of "
                f"Tensor[L, 4], one per image; got a tensor of shape {list(boxes.shape)}"
            )
        _check_finite_boxes("boxes", boxes)
        rois = boxes
        index = rois[:, 0]
        bad = (index != index.round()) | (index < 0) | (index >= images)
        if bad.any():
            row = int(torch.nonzero(bad)[0])
            raise ValueError(
                f"boxes[:, 0] must be the index of an image in the batch, a whole number in "
                f"[0, {images - 1}]; row {row} has {float(index[row]):g}"
            )
    else:
        raise TypeError(f"boxes must be a Tensor[K, 5] or a list of Tensor[L, 4], got {type(boxes).__name__}")
    if rois.dtype != input.dtype:
        raise TypeError(f"boxes must have the same dtype as input ({input.dtype}), got {rois.dtype}")
    if rois.device != input.device:
        raise ValueError(f"boxes must be on the same device as input ({input.device}), got {rois.device}")
    return rois.detach()  # as in torchvision, the boxes get no gradient


def _output_size(output_size) -> tuple[int, int]:
    if isinstance(output_size, numbers.Integral) and not isinstance(output_size, bool):
        output_size = (output_size, output_size)
    if not isinstance(output_size, Sequence) or len(output_size) != 2:
        raise TypeError(f"output_size must be an int or a pair (height, width) of ints, got {output_size!r}")
    height = check_int("output_size[0]", output_size[0], min_value=1)
    width = check_int("output_size[1]", output_size[1], min_value=1)
    return height, width


def _spatial_scale(spatial_scale) -> float:
    scale = check_number("spatial_scale", spatial_scale)
    if scale <= 0:
        raise ValueError(f"spatial_scale must be > 0 (1 / stride of the feature map), got {scale}")
    return scale


def _one_box(box) -> Tensor:
    """A single box ``(x1, y1, x2, y2)`` in image pixels, as a float64 Tensor[4]."""
    if isinstance(box, Tensor):
        values = box.detach().double().cpu().flatten()
        if box.numel() != 4:
            raise ValueError(f"box must hold 4 numbers (x1, y1, x2, y2), got shape {list(box.shape)}")
    else:
        if not isinstance(box, Sequence) or len(box) != 4:
            raise TypeError(f"box must be 4 numbers (x1, y1, x2, y2), got {box!r}")
        values = torch.tensor([check_number(f"box[{i}]", v) for i, v in enumerate(box)], dtype=torch.float64)
    if not torch.isfinite(values).all():
        raise ValueError(f"box must be finite, got {values.tolist()}")
    return values


def _feature_size(feature_size) -> tuple[int, int] | None:
    if feature_size is None:
        return None
    if not isinstance(feature_size, Sequence) or len(feature_size) != 2:
        raise TypeError(f"feature_size must be None or (height, width) of the feature map, got {feature_size!r}")
    return (
        check_int("feature_size[0]", feature_size[0], min_value=1),
        check_int("feature_size[1]", feature_size[1], min_value=1),
    )


# --------------------------------------------------------------------------- bilinear interpolation


def _bilinear_neighbours(y: Tensor, x: Tensor, height: int | None, width: int | None):
    """The four grid points around each ``(y, x)`` and their bilinear weights, with torchvision's border rules.

    Returns ``(y_low, y_high, x_low, x_high)`` (int64, the shape of ``y``) and ``weights`` ``[..., 4]`` for
    the neighbours ``(y_low, x_low), (y_low, x_high), (y_high, x_low), (y_high, x_high)``.
    ``height = width = None`` means a map without borders (plain bilinear weights).
    """
    if height is None:
        inside = torch.ones_like(y, dtype=torch.bool)
    else:
        # 1. A point more than one cell outside the map reads nothing (all weights 0).
        inside = (y >= -1) & (y <= height) & (x >= -1) & (x <= width)
        y = torch.where(inside, y, 0).clamp(min=0)  # 2. a point in the last cell before the map reads row 0
        x = torch.where(inside, x, 0).clamp(min=0)
    y_low, x_low = y.floor().long(), x.floor().long()
    y_high, x_high = y_low + 1, x_low + 1
    if height is not None:
        # 3. A point at or beyond the last row / column reads that row / column only.
        at_bottom, at_right = y_low >= height - 1, x_low >= width - 1
        y_low, y_high = torch.where(at_bottom, height - 1, y_low), torch.where(at_bottom, height - 1, y_high)
        x_low, x_high = torch.where(at_right, width - 1, x_low), torch.where(at_right, width - 1, x_high)
        y, x = torch.where(at_bottom, y_low.to(y.dtype), y), torch.where(at_right, x_low.to(x.dtype), x)
    ly, lx = y - y_low, x - x_low  # how far past the low neighbour, in [0, 1)
    hy, hx = 1 - ly, 1 - lx
    weights = torch.stack([hy * hx, hy * lx, ly * hx, ly * lx], dim=-1) * inside[..., None]
    return (y_low, y_high, x_low, x_high), weights


def _read(feature: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
    """``feature[:, rows, cols]`` for ``feature [C, H, W]`` and index tensors of shape S -> ``[C, *S]``.

    (Written with a flat index: PyTorch's ``feature[:, rows, cols]`` is much slower for some index layouts.)
    """
    flat_index = (rows * feature.shape[-1] + cols).reshape(-1)
    return feature.flatten(1).index_select(1, flat_index).reshape(feature.shape[0], *rows.shape)


def _interpolate(feature: Tensor, y: Tensor, x: Tensor) -> Tensor:
    """Bilinear interpolation of ``feature [C, H, W]`` at points ``y, x`` (same shape S) -> ``[C, *S]``."""
    (y_low, y_high, x_low, x_high), w = _bilinear_neighbours(y, x, feature.shape[-2], feature.shape[-1])
    w = w.to(feature.dtype)
    return (
        w[..., 0] * _read(feature, y_low, x_low)
        + w[..., 1] * _read(feature, y_low, x_high)
        + w[..., 2] * _read(feature, y_high, x_low)
        + w[..., 3] * _read(feature, y_high, x_high)
    )


def bilinear_interpolate(feature: Tensor, y, x) -> Tensor:
    """Read a feature map between its grid points, the way RoI Align does.

    The value ``feature[..., i, j]`` sits at the point ``(y=i, x=j)``; a point
    in between is the weighted mean of its four neighbours, each weighted by
    the area of the rectangle opposite it. At the border, torchvision's rules:

    1. a point with ``y < -1``, ``y > H``, ``x < -1`` or ``x > W`` reads 0;
    2. otherwise negative coordinates are clamped to 0;
    3. a point at or past the last row (``y >= H - 1``) reads that row only
       (the same for columns).

    Args:
        feature (Tensor[C, H, W] or Tensor[H, W]): the feature map.
        y (float or Tensor[S]): row coordinates of the points.
        x (float or Tensor[S]): column coordinates, broadcastable with ``y``.

    Returns:
        Tensor[C, *S] (or Tensor[*S] for a 2-D ``feature``): the interpolated values, differentiable
        with respect to ``feature``.
    """
    check_tensor("feature", feature, ndim=(2, 3), floating=True)
    if feature.shape[-1] < 1 or feature.shape[-2] < 1:
        raise ValueError(f"feature must have a height and width of at least 1, got shape {list(feature.shape)}")
    coordinates = []
    for name, value in (("y", y), ("x", x)):
        if isinstance(value, Tensor):
            if not (value.is_floating_point() or value.dtype in (torch.int32, torch.int64)):
                raise TypeError(f"{name} must be a real-valued tensor, got dtype {value.dtype}")
            value = value.to(feature.dtype)
        else:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a number or a tensor, got {type(value).__name__}")
            value = torch.tensor(float(value), dtype=feature.dtype)
        if torch.isnan(value).any():
            raise ValueError(f"{name} must not contain NaN")
        coordinates.append(value.to(feature.device))
    try:
        y, x = torch.broadcast_tensors(*coordinates)
    except RuntimeError:
        raise ValueError(
            f"y and x must have the same shape (or broadcast), got {list(coordinates[0].shape)} "
            f"and {list(coordinates[1].shape)}"
        ) from None
    if feature.ndim == 2:
        return _interpolate(feature[None], y, x)[0]
    return _interpolate(feature, y, x)


# --------------------------------------------------------------------------- RoI Align


@dataclass(frozen=True)
class _AlignSampling:
    """Where RoI Align reads for one RoI, in feature coordinates (the kernel's own arithmetic)."""

    x1: Tensor  # the RoI's corner, after scaling (and the half-cell shift when aligned)
    y1: Tensor
    roi_width: Tensor  # at least 1 cell unless aligned
    roi_height: Tensor
    bin_width: Tensor
    bin_height: Tensor
    grid_h: int  # sampling points per bin, vertically (may be <= 0 for a degenerate aligned box: none)
    grid_w: int
    count: int  # what the sum over a bin's points is divided by: max(grid_h * grid_w, 1)
    ys: Tensor  # [oh, max(grid_h, 0)]: row of the iy-th point in bin row ph
    xs: Tensor  # [ow, max(grid_w, 0)]


def _align_sampling(
    box: Tensor,
    output_size: tuple[int, int],
    spatial_scale: float,
    sampling_ratio: int,
    aligned: bool,
    dtype: torch.dtype,
    limit: int | None = None,
    index: int | None = None,
) -> _AlignSampling:
    """``box`` (x1, y1, x2, y2) in image pixels -> RoI Align's bins and sample points, in ``dtype``."""
    oh, ow = output_size
    offset = 0.5 if aligned else 0.0
    # Scale to feature coordinates (in double, like the kernel, then in the feature map's precision).
    x1, y1, x2, y2 = (box.double() * spatial_scale - offset).to(dtype).unbind()
    roi_width, roi_height = x2 - x1, y2 - y1
    if not aligned:  # the original Mask R-CNN code forces a RoI of at least one cell
        roi_width, roi_height = roi_width.clamp(min=1.0), roi_height.clamp(min=1.0)
    bin_width, bin_height = roi_width / ow, roi_height / oh
    if sampling_ratio > 0:
        grid_h = grid_w = sampling_ratio
    else:  # adaptive: about one point per cell, at least ceil(bin size)
        grid_h, grid_w = int(torch.ceil(roi_height / oh)), int(torch.ceil(roi_width / ow))
    if limit is not None:
        _check_sample_count(grid_h, grid_w, output_size, limit, index)
    count = max(grid_h * grid_w, 1)
    # Point iy of bin row ph sits at y1 + ph * bin_height + (iy + 1/2) * bin_height / grid_h.
    bins_y = torch.arange(oh, dtype=dtype)[:, None]
    bins_x = torch.arange(ow, dtype=dtype)[:, None]
    steps_y = torch.arange(max(grid_h, 0), dtype=dtype)[None, :] + 0.5
    steps_x = torch.arange(max(grid_w, 0), dtype=dtype)[None, :] + 0.5
    ys = y1 + bins_y * bin_height + steps_y * bin_height / max(grid_h, 1)
    xs = x1 + bins_x * bin_width + steps_x * bin_width / max(grid_w, 1)
    return _AlignSampling(x1, y1, roi_width, roi_height, bin_width, bin_height, grid_h, grid_w, count, ys, xs)


#: The most sample points RoI Align reads for one RoI (``output_size`` x ``grid_h x grid_w``); an adaptive
#: ``sampling_ratio`` on a huge box would need more, and is refused with a ValueError.
MAX_SAMPLE_POINTS = 2**20

#: Values (channels x sample points) interpolated at once; larger RoIs are computed in chunks of sample rows,
#: so memory stays bounded whatever the box size.
CHUNK_VALUES = 2**22


def _check_sample_count(grid_h: int, grid_w: int, output_size, limit: int, index: int | None = None) -> None:
    points = output_size[0] * output_size[1] * max(grid_h, 0) * max(grid_w, 0)
    if points > limit:
        which = "the box" if index is None else f"boxes row {index}"
        raise ValueError(
            f"sampling_ratio: {which} needs {points:,} sample points ({grid_h} x {grid_w} per bin), more than "
            f"the limit of {limit:,}; give a smaller box or a small positive sampling_ratio (points per bin side)"
        )


def _align_one(feature: Tensor, box: Tensor, output_size, spatial_scale, sampling_ratio, aligned, index=None) -> Tensor:
    """RoI Align of one box on one feature map ``[C, H, W]`` -> ``[C, oh, ow]``."""
    s = _align_sampling(
        box, output_size, spatial_scale, sampling_ratio, aligned, feature.dtype, MAX_SAMPLE_POINTS, index
    )
    oh, gh = s.ys.shape
    ow, gw = s.xs.shape
    channels = feature.shape[0]
    rows_per_chunk = max(1, CHUNK_VALUES // max(channels * gh * ow * gw, 1))
    if rows_per_chunk >= oh:
        # Every sample point of every bin at once: rows [oh, gh, 1, 1] x columns [1, 1, ow, gw].
        ys = s.ys.to(feature.device)[:, :, None, None].expand(oh, gh, ow, gw)
        xs = s.xs.to(feature.device)[None, None, :, :].expand(oh, gh, ow, gw)
        values = _interpolate(feature, ys, xs)  # [C, oh, gh, ow, gw]
        return values.sum(dim=(2, 4)) / s.count  # the mean over each bin's grid_h x grid_w points
    # A huge RoI: one bin row at a time, its sample rows in chunks (memory bounded by CHUNK_VALUES).
    out = feature.new_zeros(channels, oh, ow)
    points_per_chunk = max(1, CHUNK_VALUES // max(channels * ow * gw, 1))
    xs_row = s.xs.to(feature.device)
    for ph in range(oh):
        for first in range(0, gh, points_per_chunk):
            ys = s.ys[ph, first : first + points_per_chunk].to(feature.device)
            rows = len(ys)
            values = _interpolate(
                feature, ys[:, None, None].expand(rows, ow, gw), xs_row[None].expand(rows, ow, gw)
            )  # [C, rows, ow, gw]
            out[:, ph] += values.sum(dim=(1, 3))
    return out / s.count


def roi_align(
    input: Tensor, boxes, output_size, spatial_scale: float = 1.0, sampling_ratio: int = -1, aligned: bool = False
) -> Tensor:
    """RoI Align (Mask R-CNN): average of bilinearly interpolated points in equal bins; nothing is rounded.

    Each box is scaled to feature coordinates (``* spatial_scale``; minus half a
    cell when ``aligned``), split into ``output_size`` equal bins, and each bin
    is the mean of ``grid_h x grid_w`` points read with :func:`bilinear_interpolate`,
    spaced evenly at ``(i + 1/2) / grid`` of the bin. The grid is
    ``sampling_ratio`` points per side, or, when ``sampling_ratio <= 0``,
    ``ceil(bin size)`` (about one point per feature cell).

    Args:
        input (Tensor[N, C, H, W]): feature maps.
        boxes (Tensor[K, 5] or list of Tensor[L, 4]): ``(batch index, x1, y1, x2, y2)`` rows, or one
            tensor of ``(x1, y1, x2, y2)`` boxes per image; image pixels; same dtype as ``input``.
        output_size (int or (int, int)): bins per RoI, ``(height, width)``.
        spatial_scale (float): feature cells per image pixel (``1 / stride``).
        sampling_ratio (int): points per bin side; ``<= 0`` adapts to the box size.
        aligned (bool): shift the box by -0.5 cell so that pixel centres line up (Detectron2).
            When False, a box is also made at least one cell wide and high.

    Returns:
        Tensor[K, C, output_height, output_width].
    """
    input = _check_feature_maps(input)
    rois = _rois(boxes, input)
    output_size = _output_size(output_size)
    spatial_scale = _spatial_scale(spatial_scale)
    sampling_ratio = check_int("sampling_ratio", sampling_ratio)
    aligned = check_bool("aligned", aligned)
    outputs = [
        _align_one(input[int(roi[0])], roi[1:].cpu(), output_size, spatial_scale, sampling_ratio, aligned, index)
        for index, roi in enumerate(rois)
    ]
    if not outputs:
        return input.new_zeros(0, input.shape[1], *output_size)
    return torch.stack(outputs)


# --------------------------------------------------------------------------- RoI Pool


def _round_half_away_from_zero(value: Tensor) -> Tensor:
    """C's ``round``: 2.5 -> 3 and -2.5 -> -3 (``torch.round`` would give 2 and -2)."""
    whole = value.trunc()
    return whole + torch.where((value - whole).abs() >= 0.5, value.sign(), torch.zeros_like(value))


def _pool_bins(
    box: Tensor,
    output_size: tuple[int, int],
    spatial_scale: float,
    dtype: torch.dtype,
    feature_size: tuple[int, int] | None,
):
    """RoI Pool's snapped RoI ``(x_start, y_start, width, height)`` in whole cells, and each bin's cell range.

    Returns ``(roi, x_start [ow], x_end [ow], y_start [oh], y_end [oh])``; a bin reads the cells
    ``[start, end)``, clipped to the map when ``feature_size`` is given.
    """
    oh, ow = output_size
    # 1. Snap the box to whole cells: the first and the last cell it covers (both included).
    x1, y1, x2, y2 = (int(v) for v in _round_half_away_from_zero(box.double() * spatial_scale))
    roi_width, roi_height = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)  # a malformed box becomes 1 x 1
    # 2. Split it into bins of (roi_width / ow) cells and round each bin outwards: floor the start, ceil the end.
    bin_width = torch.tensor(roi_width, dtype=dtype) / ow
    bin_height = torch.tensor(roi_height, dtype=dtype) / oh
    x_start = x1 + torch.floor(torch.arange(ow, dtype=dtype) * bin_width).long()
    x_end = x1 + torch.ceil(torch.arange(1, ow + 1, dtype=dtype) * bin_width).long()
    y_start = y1 + torch.floor(torch.arange(oh, dtype=dtype) * bin_height).long()
    y_end = y1 + torch.ceil(torch.arange(1, oh + 1, dtype=dtype) * bin_height).long()
    if feature_size is not None:  # 3. keep the part of each bin inside the map
        height, width = feature_size
        x_start, x_end = x_start.clamp(0, width), x_end.clamp(0, width)
        y_start, y_end = y_start.clamp(0, height), y_end.clamp(0, height)
    return (x1, y1, roi_width, roi_height), x_start, x_end, y_start, y_end


def _pool_one(feature: Tensor, box: Tensor, output_size, spatial_scale) -> Tensor:
    """RoI Pool of one box on one feature map ``[C, H, W]`` -> ``[C, oh, ow]``."""
    height, width = feature.shape[-2:]
    _, x_start, x_end, y_start, y_end = _pool_bins(box, output_size, spatial_scale, feature.dtype, (height, width))
    # Work on the rows and columns the bins cover (at least one of each, even for a RoI outside the map).
    top = min(int(y_start.min()), height - 1)
    left = min(int(x_start.min()), width - 1)
    bottom, right = max(int(y_end.max()), top + 1), max(int(x_end.max()), left + 1)
    crop = feature[:, top:bottom, left:right]  # [C, h, w]
    device = feature.device
    rows, cols = torch.arange(top, bottom, device=device), torch.arange(left, right, device=device)
    in_bin_row = (rows >= y_start.to(device)[:, None]) & (rows < y_end.to(device)[:, None])  # [oh, h]
    in_bin_col = (cols >= x_start.to(device)[:, None]) & (cols < x_end.to(device)[:, None])  # [ow, w]
    # The maximum over a rectangle is the maximum over its rows of each row's maximum over its columns:
    # first each row's maximum within every bin column, then the maximum of those within every bin row.
    lowest = torch.finfo(torch.float32).min  # torchvision's -FLT_MAX, whatever the dtype
    row_max = crop[:, :, None, :].masked_fill(~in_bin_col, -math.inf).amax(dim=-1)  # [C, h, ow]
    bin_max = row_max[:, None, :, :].masked_fill(~in_bin_row[:, :, None], -math.inf).amax(dim=2)  # [C, oh, ow]
    empty = (y_end <= y_start)[:, None] | (x_end <= x_start)[None, :]  # [oh, ow]: a bin outside the map
    # torchvision starts each maximum at the lowest float (so even -inf inputs give it); an empty bin is 0.
    return torch.where(empty.to(device), 0.0, bin_max.clamp(min=lowest)).to(feature.dtype)


def roi_pool(input: Tensor, boxes, output_size, spatial_scale: float = 1.0) -> Tensor:
    """RoI Pool (Fast R-CNN): max over bins of a box snapped to whole feature cells.

    Each box is scaled to feature coordinates and its corners rounded to the
    nearest cell (``round``, halves away from zero); the RoI covers the cells
    from the first to the last, both included (at least one). It is split into
    ``output_size`` bins of ``RoI cells / output_size`` cells, rounded outwards
    (``floor`` the start, ``ceil`` the end), so bins are uneven and may overlap;
    each bin outputs the maximum of its cells (0 when it lies outside the map).

    Args:
        input (Tensor[N, C, H, W]): feature maps.
        boxes (Tensor[K, 5] or list of Tensor[L, 4]): ``(batch index, x1, y1, x2, y2)`` rows, or one
            tensor of ``(x1, y1, x2, y2)`` boxes per image; image pixels; same dtype as ``input``.
        output_size (int or (int, int)): bins per RoI, ``(height, width)``.
        spatial_scale (float): feature cells per image pixel (``1 / stride``).

    Returns:
        Tensor[K, C, output_height, output_width].
    """
    input = _check_feature_maps(input)
    rois = _rois(boxes, input)
    output_size = _output_size(output_size)
    spatial_scale = _spatial_scale(spatial_scale)
    outputs = [_pool_one(input[int(roi[0])], roi[1:].cpu(), output_size, spatial_scale) for roi in rois]
    if not outputs:
        return input.new_zeros(0, input.shape[1], *output_size)
    return torch.stack(outputs)


# --------------------------------------------------------------------------- geometry, for pictures


@dataclass(frozen=True)
class RoIAlignGeometry:
    """Where RoI Align reads for one box, in feature coordinates (value ``[i, j]`` at ``x=j, y=i``).

    ``n = grid[0] * grid[1]`` points per bin, ordered row by row; ``neighbours[..., k, :]`` is the
    ``(x, y)`` grid point with weight ``weights[..., k]``, in the order
    ``(x_low, y_low), (x_high, y_low), (x_low, y_high), (x_high, y_high)``. A bin's output is
    ``sum(weights * values at neighbours) / count``.
    """

    roi: tuple[float, float, float, float]  # (x1, y1, x2, y2) of the region split into bins
    bins: Tensor  # [oh, ow, 4]: each bin's (x1, y1, x2, y2)
    samples: Tensor  # [oh, ow, n, 2]: each point's (x, y)
    neighbours: Tensor  # [oh, ow, n, 4, 2] int64: each point's four grid neighbours (x, y)
    weights: Tensor  # [oh, ow, n, 4]: their bilinear weights (0 for a point outside the map)
    grid: tuple[int, int]  # (grid_h, grid_w) points per bin
    count: int  # the divisor of each bin's sum: max(grid_h * grid_w, 1)
    spatial_scale: float
    aligned: bool


#: The most sample points :func:`roi_align_geometry` describes (each carries its neighbours and weights).
MAX_GEOMETRY_POINTS = 2**18


def roi_align_geometry(
    box,
    output_size,
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
    feature_size=None,
    *,
    dtype: torch.dtype = torch.float32,
) -> RoIAlignGeometry:
    """RoI Align's bins, sample points and bilinear neighbours for one box (see :class:`RoIAlignGeometry`).

    Args:
        box (4 numbers or Tensor[4]): ``(x1, y1, x2, y2)`` in image pixels.
        output_size, spatial_scale, sampling_ratio, aligned: as for :func:`roi_align`.
        feature_size ((int, int) or None): ``(H, W)`` of the feature map, for torchvision's border rules
            (see :func:`bilinear_interpolate`); None: a map without borders.
        dtype: the precision of the arithmetic (that of the feature map, for identical numbers).
    """
    box = _one_box(box)
    output_size = _output_size(output_size)
    spatial_scale = _spatial_scale(spatial_scale)
    sampling_ratio = check_int("sampling_ratio", sampling_ratio)
    aligned = check_bool("aligned", aligned)
    feature_size = _feature_size(feature_size)
    s = _align_sampling(box, output_size, spatial_scale, sampling_ratio, aligned, dtype, MAX_GEOMETRY_POINTS)
    oh, ow = output_size
    gh, gw = s.ys.shape[1], s.xs.shape[1]
    top = s.y1 + torch.arange(oh, dtype=dtype) * s.bin_height  # [oh]
    left = s.x1 + torch.arange(ow, dtype=dtype) * s.bin_width  # [ow]
    bins = torch.stack(
        torch.broadcast_tensors(left[None, :], top[:, None], left[None, :] + s.bin_width, top[:, None] + s.bin_height),
        dim=-1,
    )  # [oh, ow, 4]
    ys = s.ys[:, None, :, None].expand(oh, ow, gh, gw).reshape(oh, ow, gh * gw)
    xs = s.xs[None, :, None, :].expand(oh, ow, gh, gw).reshape(oh, ow, gh * gw)
    height, width = feature_size if feature_size is not None else (None, None)
    (y_low, y_high, x_low, x_high), weights = _bilinear_neighbours(ys, xs, height, width)
    neighbours = torch.stack(
        [
            torch.stack([x_low, y_low], -1),
            torch.stack([x_high, y_low], -1),
            torch.stack([x_low, y_high], -1),
            torch.stack([x_high, y_high], -1),
        ],
        dim=-2,
    )
    roi = (float(s.x1), float(s.y1), float(s.x1 + s.roi_width), float(s.y1 + s.roi_height))
    return RoIAlignGeometry(
        roi,
        bins,
        torch.stack([xs, ys], dim=-1),
        neighbours,
        weights,
        (s.grid_h, s.grid_w),
        s.count,
        spatial_scale,
        aligned,
    )


@dataclass(frozen=True)
class RoIPoolGeometry:
    """Which feature cells RoI Pool reads for one box; ranges are half-open ``[start, end)`` in cells."""

    roi: tuple[int, int, int, int]  # (x_start, y_start, x_end, y_end): the snapped RoI (not clipped)
    bins: Tensor  # [oh, ow, 4] int64: each bin's (x_start, y_start, x_end, y_end)
    empty: Tensor  # [oh, ow] bool: bins with no cell inside the map (they output 0)
    spatial_scale: float


def roi_pool_geometry(
    box, output_size, spatial_scale: float = 1.0, feature_size=None, *, dtype: torch.dtype = torch.float32
) -> RoIPoolGeometry:
    """RoI Pool's snapped RoI and its uneven integer bins for one box (see :class:`RoIPoolGeometry`).

    Args:
        box (4 numbers or Tensor[4]): ``(x1, y1, x2, y2)`` in image pixels.
        output_size, spatial_scale: as for :func:`roi_pool`.
        feature_size ((int, int) or None): ``(H, W)`` of the feature map: bins are clipped to it;
            None: not clipped.
        dtype: the precision of the bin arithmetic (that of the feature map, for identical numbers).
    """
    box = _one_box(box)
    output_size = _output_size(output_size)
    spatial_scale = _spatial_scale(spatial_scale)
    feature_size = _feature_size(feature_size)
    (x1, y1, width, height), x_start, x_end, y_start, y_end = _pool_bins(
        box, output_size, spatial_scale, dtype, feature_size
    )
    oh, ow = output_size
    bins = torch.stack(
        [
            x_start[None, :].expand(oh, ow),
            y_start[:, None].expand(oh, ow),
            x_end[None, :].expand(oh, ow),
            y_end[:, None].expand(oh, ow),
        ],
        dim=-1,
    )
    empty = (bins[..., 2] <= bins[..., 0]) | (bins[..., 3] <= bins[..., 1])
    return RoIPoolGeometry((x1, y1, x1 + width, y1 + height), bins, empty, spatial_scale)


def misalignment_pixels(box, spatial_scale: float) -> Tensor:
    """How far RoI Pool's snapped RoI lies from the box, edge by edge, in image pixels.

    Feature cell ``i`` covers the image pixels ``[i / spatial_scale, (i + 1) / spatial_scale)``. RoI Pool
    reads the cells from ``round(x1 * scale)`` to ``round(x2 * scale)``, both included, so its region in
    the image is ``[round(x1 * s) / s, (round(x2 * s) + 1) / s)``. Rounding moves each edge by up to half
    a stride; including the last cell moves the far edges (x2, y2) out by one more stride.

    Args:
        box (4 numbers or Tensor[4]): ``(x1, y1, x2, y2)`` in image pixels.
        spatial_scale (float): ``1 / stride``.

    Returns:
        Tensor[4] (float64): snapped minus true, for ``x1, y1, x2, y2`` (positive: right / down).
    """
    true_box = _one_box(box)
    geometry = roi_pool_geometry(true_box, 1, spatial_scale)
    snapped = torch.tensor(geometry.roi, dtype=torch.float64) / geometry.spatial_scale
    return snapped - true_box
