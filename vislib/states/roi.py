"""The RoI Align sampling widget's state: where RoI Pool and RoI Align read on a coarse feature map.

The "feature map" is deliberately simple so that its values can be seen: a
real photo (scikit-image's bundled astronaut, no download) in grey, averaged
over ``stride x stride`` blocks of pixels. One cell of the map is one block,
so a pooled 7 x 7 output is a tiny picture of the box's content and the
difference between RoI Pool and RoI Align shows up as a different picture.

:class:`RoIAlignExplorer` precomputes the photo and one feature map per
stride; :meth:`RoIAlignExplorer.state` computes, for one box and one choice
of settings, both operations' geometry (from :mod:`vislib.ops.roi`), their
outputs (``vislib.ops.roi_pool`` / ``roi_align``, equal to torchvision's) and
everything the picture needs in image pixels. Nothing here draws.

Coordinates in the picture: feature cell ``(i, j)`` covers the image pixels
``[j * stride, (j + 1) * stride) x [i * stride, (i + 1) * stride)``, and its
value sits at the cell's centre. RoI Align's feature coordinate ``u`` (in
which value ``j`` sits at ``u = j``) is therefore drawn at image pixel
``(u + 0.5) * stride``: with ``aligned=True`` its points fall inside the
box, with ``aligned=False`` they are shifted by half a cell (right and down).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vislib._validation import check_bool, check_choice, check_int, check_number, check_type
from vislib.data.photos import load_grey_photo
from vislib.ops.roi import (
    RoIAlignGeometry,
    RoIPoolGeometry,
    misalignment_pixels,
    roi_align,
    roi_align_geometry,
    roi_pool,
    roi_pool_geometry,
)
from vislib.runtime import single_thread

__all__ = ["BACKGROUNDS", "block_feature_map", "RoIAlignExplorer", "RoIAlignState", "SAMPLING_RATIOS", "STRIDES"]

STRIDES = (8, 16, 32)
BACKGROUNDS = ("photo", "feature map")
SAMPLING_RATIOS = (-1, 1, 2, 3)


def block_feature_map(image: np.ndarray, stride: int) -> torch.Tensor:
    """``Tensor[1, 1, H / stride, W / stride]`` (float32): the mean of each ``stride x stride`` block."""
    check_type("image", image, np.ndarray, "a 2-D NumPy array")
    if image.ndim != 2:
        raise ValueError(f"image must be a 2-D (grey) array, got shape {image.shape}")
    stride = check_int("stride", stride, min_value=1)
    height, width = image.shape
    if height % stride or width % stride:
        raise ValueError(f"stride must divide the image size {image.shape}, got {stride}")
    blocks = image.reshape(height // stride, stride, width // stride, stride)
    return torch.from_numpy(blocks.mean(axis=(1, 3))).float()[None, None]


@dataclass(frozen=True)
class RoIAlignState:
    """Everything the RoI Align widget shows for one box and one choice of settings.

    Geometry is given twice: in feature coordinates (``pool``, ``align``, from :mod:`vislib.ops.roi`) and,
    for drawing, in image pixels (the ``*_px`` fields).
    """

    box: tuple[float, float, float, float]  # the RoI, (x1, y1, x2, y2) in image pixels
    stride: int
    output_size: int
    sampling_ratio: int
    aligned: bool
    background: str  # "photo" or "feature map"
    feature_size: tuple[int, int]
    pool: RoIPoolGeometry
    align: RoIAlignGeometry
    pool_output: np.ndarray  # [oh, ow]: vislib.ops.roi_pool of the feature map
    align_output: np.ndarray  # [oh, ow]: vislib.ops.roi_align
    misalignment: tuple[float, float, float, float]  # RoI Pool's snapped edges minus the box's, in pixels
    # Drawing coordinates, image pixels:
    pool_roi_px: tuple[float, float, float, float]  # the cells RoI Pool reads (before clipping)
    pool_bins_px: np.ndarray  # [oh, ow, 4]: each bin's cells, clipped to the map
    pool_bins_unclipped_px: np.ndarray  # [oh, ow, 4]: the same bins before clipping (where empty bins lie)
    align_roi_px: tuple[float, float, float, float]  # the region RoI Align splits into bins
    align_bins_px: np.ndarray  # [oh, ow, 4]
    samples_px: np.ndarray  # [oh, ow, n, 2]: (x, y) of every sample point
    # The selected bin and sample:
    bin_row: int
    bin_col: int
    sample: int  # index within the bin (clamped to the bin's points)
    samples_per_bin: int
    sample_xy: tuple[float, float] | None  # feature coordinates of the selected sample (None: no points)
    neighbours_px: np.ndarray  # [4, 2]: centres of its four neighbour cells (x, y)
    neighbour_cells: np.ndarray  # [4, 2] int: (column, row) of the neighbour cells
    neighbour_weights: np.ndarray  # [4]: bilinear weights (0 outside the map)
    neighbour_values: np.ndarray  # [4]: feature values there
    neighbour_fraction: tuple[float, float] | None  # (x, y) of the sample between its neighbours, in [0, 1]
    sample_value: float  # the interpolated value: sum(weights * values)

    @property
    def pool_value(self) -> float:
        return float(self.pool_output[self.bin_row, self.bin_col])

    @property
    def align_value(self) -> float:
        return float(self.align_output[self.bin_row, self.bin_col])

    @property
    def grid(self) -> tuple[int, int]:
        return self.align.grid

    @property
    def empty_bins(self) -> int:
        return int(self.pool.empty.sum())


class RoIAlignExplorer:
    """The photo, one block-averaged feature map per stride, and :meth:`state` for the widget's controls."""

    def __init__(self, image_size: int = 256, strides: tuple[int, ...] = STRIDES):
        self.image_size = check_int("image_size", image_size, min_value=32, max_value=512)
        self.strides = tuple(check_int("strides[]", s, min_value=1) for s in strides)
        if not self.strides:
            raise ValueError("strides must hold at least one stride")
        for s in self.strides:
            if self.image_size % s:
                raise ValueError(f"strides must divide image_size ({self.image_size}); got {s}")
        self.photo = load_grey_photo("astronaut", self.image_size)
        self.features = {s: block_feature_map(self.photo, s) for s in self.strides}
        # The feature maps at image resolution (each cell a block), for showing them under the boxes.
        self.feature_pictures = {s: np.kron(f[0, 0].numpy(), np.ones((s, s))) for s, f in self.features.items()}

    def picture(self, stride: int, background: str) -> np.ndarray:
        """The grey picture shown under the boxes: the photo, or the feature map at image resolution."""
        return self.photo if background == "photo" else self.feature_pictures[stride]

    def state(
        self,
        x: float,
        y: float,
        width: float,
        height: float,
        output_size: int = 7,
        sampling_ratio: int = 2,
        aligned: bool = False,
        stride: int = 16,
        bin_row: int = 0,
        bin_col: int = 0,
        sample: int = 0,
        background: str = "photo",
    ) -> RoIAlignState:
        """The box ``(x, y, x + width, y + height)`` in image pixels pooled both ways on the ``stride`` map.

        ``bin_row``, ``bin_col`` and ``sample`` select the RoI Align sample whose bilinear neighbours are
        shown; they are clamped to the bins and points that exist.
        """
        x, y = check_number("x", x), check_number("y", y)
        width = check_number("width", width, min_value=0.0)
        height = check_number("height", height, min_value=0.0)
        output_size = check_int("output_size", output_size, min_value=1, max_value=16)
        sampling_ratio = check_int("sampling_ratio", sampling_ratio, min_value=-1, max_value=8)
        aligned = check_bool("aligned", aligned)
        stride = check_choice("stride", stride, self.strides)
        bin_row, bin_col = check_int("bin_row", bin_row, min_value=0), check_int("bin_col", bin_col, min_value=0)
        sample = check_int("sample", sample, min_value=0)
        background = check_choice("background", background, BACKGROUNDS)

        box = (x, y, x + width, y + height)
        features = self.features[stride]
        feature_size = tuple(features.shape[-2:])
        scale = 1.0 / stride
        with single_thread():
            rois = torch.tensor([[0.0, *box]])
            pool_output = roi_pool(features, rois, output_size, scale)[0, 0].numpy()
            align_output = roi_align(features, rois, output_size, scale, sampling_ratio, aligned)[0, 0].numpy()
            pool = roi_pool_geometry(box, output_size, scale, feature_size)
            pool_unclipped = roi_pool_geometry(box, output_size, scale)
            align = roi_align_geometry(box, output_size, scale, sampling_ratio, aligned, feature_size)
            misalignment = tuple(misalignment_pixels(box, scale).tolist())

        def cells_to_px(values):  # RoI Pool's cell edges -> image pixels
            return np.asarray(values, dtype=np.float64) * stride

        def align_to_px(values):  # RoI Align's feature coordinates (value j at u = j) -> image pixels
            return (np.asarray(values, dtype=np.float64) + 0.5) * stride

        bin_row, bin_col = min(bin_row, output_size - 1), min(bin_col, output_size - 1)
        count = align.samples.shape[2]
        sample = min(sample, max(count - 1, 0))
        if count:
            sx, sy = align.samples[bin_row, bin_col, sample].tolist()
            cells = align.neighbours[bin_row, bin_col, sample].numpy()  # [4, 2] (column, row)
            weights = align.weights[bin_row, bin_col, sample].double().numpy()
            values = features[0, 0].double().numpy()[cells[:, 1], cells[:, 0]]
            sample_xy = (sx, sy)
            # The weights are (1-fy)(1-fx), (1-fy)fx, fy(1-fx), fy fx: fx and fy are where the point lies between
            # its neighbours (after torchvision's border rules); a point outside the map has no neighbours.
            inside = weights.sum() > 0
            fraction = (float(weights[1] + weights[3]), float(weights[2] + weights[3])) if inside else None
        else:  # a degenerate aligned box with adaptive sampling has no points at all
            cells, weights, values, sample_xy = np.zeros((4, 2), np.int64), np.zeros(4), np.zeros(4), None
            fraction = None
        return RoIAlignState(
            box=box,
            stride=stride,
            output_size=output_size,
            sampling_ratio=sampling_ratio,
            aligned=aligned,
            background=background,
            feature_size=feature_size,
            pool=pool,
            align=align,
            pool_output=pool_output,
            align_output=align_output,
            misalignment=misalignment,
            pool_roi_px=tuple(cells_to_px(pool.roi).tolist()),
            pool_bins_px=cells_to_px(pool.bins.numpy()),
            pool_bins_unclipped_px=cells_to_px(pool_unclipped.bins.numpy()),
            align_roi_px=tuple(align_to_px(align.roi).tolist()),
            align_bins_px=align_to_px(align.bins.numpy()),
            samples_px=align_to_px(align.samples.numpy()),
            bin_row=bin_row,
            bin_col=bin_col,
            sample=sample,
            samples_per_bin=count,
            sample_xy=sample_xy,
            neighbours_px=align_to_px(cells),
            neighbour_cells=cells,
            neighbour_weights=weights,
            neighbour_values=values,
            neighbour_fraction=fraction,
            sample_value=float(np.dot(weights, values)),
        )
