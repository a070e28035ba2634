"""How good are a segmentation's *boundaries*? Boundary maps, boundary bands, trimap IoU, boundary F-score.

Mean IoU counts every pixel once, and most pixels lie deep inside a region, where every reasonable model is
right. Where models differ is along the edges: a decoder that upsamples coarse scores bilinearly draws blobs
with rounded corners; one with skip connections draws the exact outline. Two standard ways to score edges:

* **Trimap IoU** (Kohli et al. 2009; used by DeepLab, Chen et al. 2016, arXiv 1606.00915): the mean IoU of the
  pixels within ``width`` pixels of a true class boundary only (a band, or "trimap", around the edges).
  :func:`boundary_band` gives the band, :func:`trimap_scores` the scores of the pixels in it and
  :func:`trimap_miou` their mean IoU.
* **Boundary F-score** (Martin et al. 2004, used for segmentation by Csurka et al. 2013 and the DAVIS
  benchmark): take the boundary pixels of the prediction and of the truth; *precision* is the share of
  predicted boundary pixels within ``tolerance`` pixels of a true one, *recall* the share of true boundary
  pixels within ``tolerance`` of a predicted one, and ``F = 2 P R / (P + R)``. It ignores the interiors
  entirely. :func:`boundary_f_score`.

Definitions (every function works on integer label maps ``[H, W]`` or ``[N, H, W]``, torch or numpy):

* a **boundary pixel** is a pixel with at least one 4-neighbour (up, down, left, right) of another label;
  both sides of an edge count, the image border does not (``skimage.segmentation.find_boundaries`` with
  ``mode="thick"``, ``connectivity=1``);
* "within ``d`` pixels" is the chessboard distance: a ``(2d + 1) x (2d + 1)`` square around the pixel
  (binary dilation with a square, as ``scipy.ndimage.binary_dilation``).

Counts are pooled over all images before dividing (as confusion matrices are summed), so large and small
images count by their pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from vislib._validation import check_int, check_type
from vislib.metrics.segmentation import SegmentationScores, _as_label_tensor, confusion_matrix

__all__ = [
    "BoundaryScore",
    "MAX_PIXELS",
    "boundary_band",
    "boundary_f_score",
    "boundary_map",
    "dilate",
    "trimap_miou",
    "trimap_scores",
]

#: The most pixels (over the whole batch) a boundary function takes: each needs a few bytes of scratch memory
#: per pixel (2**28 pixels: about 4 GiB at the peak of :func:`boundary_f_score`).
MAX_PIXELS = 2**28


def _labels(name: str, value) -> Tensor:
    value = _as_label_tensor(name, value)
    _check_pixels(name, value)
    if value.ndim not in (2, 3):
        raise ValueError(
            f"{name} must be a label map [H, W] or a batch of them [N, H, W], got shape {list(value.shape)}"
        )
    return value


def boundary_map(labels) -> Tensor:
    """``bool`` map of the same shape: True where a 4-neighbour has a different label.

    Equal to ``skimage.segmentation.find_boundaries(labels, connectivity=1, mode="thick")`` per image.
    """
    labels = _labels("labels", labels)
    edge = torch.zeros(labels.shape, dtype=torch.bool, device=labels.device)
    across = labels[..., :, 1:] != labels[..., :, :-1]  # [.., H, W-1]: pixel differs from its right neighbour
    down = labels[..., 1:, :] != labels[..., :-1, :]  # [.., H-1, W]: pixel differs from the one below
    edge[..., :, 1:] |= across
    edge[..., :, :-1] |= across
    edge[..., 1:, :] |= down
    edge[..., :-1, :] |= down
    return edge


def dilate(mask, radius: int) -> Tensor:
    """Binary dilation of ``mask`` (``bool [H, W]`` or ``[N, H, W]``) by a ``(2 radius + 1)`` square.

    Two window sums (rows, then columns): one pass over the pixels whatever the radius (a radius beyond the
    image is fine). Equal to ``scipy.ndimage.binary_dilation(mask, np.ones((3, 3)), iterations=radius)``.
    ``radius = 0`` returns the mask unchanged.
    """
    if isinstance(mask, np.ndarray):
        mask = torch.from_numpy(mask)
    check_type("mask", mask, Tensor, "a boolean torch.Tensor [H, W] or [N, H, W]")
    if mask.ndim not in (2, 3):
        raise ValueError(f"mask must be [H, W] or [N, H, W], got shape {list(mask.shape)}")
    _check_pixels("mask", mask)
    radius = check_int("radius", radius, min_value=0)
    mask = mask.bool()
    if radius == 0:
        return mask.clone()
    return _grow(_grow(mask, radius, -1), radius, -2)  # a square is a row segment times a column segment


def _check_pixels(name: str, value: Tensor) -> None:
    if value.numel() > MAX_PIXELS:
        raise ValueError(
            f"{name} has {value.numel():,} pixels, more than the limit of {MAX_PIXELS:,} (MAX_PIXELS): "
            "score the images in smaller batches"
        )


def _grow(mask: Tensor, radius: int, dim: int) -> Tensor:
    """True where ``mask`` has a True within ``radius`` along ``dim``: window sums from one cumulative sum, so
    the cost is one pass over the pixels whatever the radius (a max pool costs ``radius`` per pixel)."""
    n = mask.shape[dim]
    radius = min(radius, max(n - 1, 0))  # a wider window sees the whole row (or column) all the same
    pad = (radius + 1, radius) if dim == -1 else (0, 0, radius + 1, radius)
    counts = F.pad(mask.to(torch.int32), pad).cumsum(dim)  # counts[k]: Trues among the first k of the padded line
    return counts.narrow(dim, 2 * radius + 1, n) > counts.narrow(dim, 0, n)  # Trues in [i - radius, i + radius]


def boundary_band(labels, width: int) -> Tensor:
    """``bool`` map: the pixels within ``width`` pixels (chessboard distance) of a boundary of ``labels``.

    ``width = 0`` gives the boundary pixels themselves. This is the trimap of :func:`trimap_scores`.
    """
    width = check_int("width", width, min_value=0)
    return dilate(boundary_map(labels), width)


def _check_pair(pred, target) -> tuple[Tensor, Tensor]:
    pred, target = _labels("pred", pred), _labels("target", target)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {list(pred.shape)} and {list(target.shape)}")
    return pred, target


def trimap_scores(pred, target, num_classes: int, width: int = 2) -> SegmentationScores:
    """Segmentation scores (confusion matrix, per-class IoU, mIoU, ...) of the pixels within ``width``
    pixels of a boundary of ``target`` only.

    The band comes from the *true* mask, so every model is scored on the same pixels. ``.mean_iou`` is
    the "trimap IoU" of DeepLab's boundary experiment.
    """
    pred, target = _check_pair(pred, target)
    band = boundary_band(target, width)
    return SegmentationScores.from_confusion(confusion_matrix(pred[band], target[band], num_classes))


def trimap_miou(pred, target, num_classes: int, width: int = 2) -> float:
    """The trimap mIoU: the mean IoU of the pixels within ``width`` pixels of a boundary of ``target``.

    For each class ``c``, IoU = |pred = c and target = c| / |pred = c or target = c| counted over the band
    pixels of all images; classes with an empty union in the band are left out of the mean (NaN if none is
    left). Equal to ``trimap_scores(pred, target, num_classes, width).mean_iou``.
    """
    return trimap_scores(pred, target, num_classes, width).mean_iou


@dataclass(frozen=True)
class BoundaryScore:
    """Boundary precision, recall and F-score, and the pixel counts they come from."""

    precision: float
    recall: float
    f_score: float
    predicted_pixels: int  # boundary pixels of the prediction
    true_pixels: int  # boundary pixels of the target


def boundary_f_score(pred, target, tolerance: int = 1) -> BoundaryScore:
    """Boundary precision / recall / F-score of label maps ``pred`` and ``target`` (see the module docstring).

    Class-agnostic: a boundary is where the label changes, whatever the labels are. Counts are pooled over
    the images of a batch. With no boundary pixel at all in either map, precision and recall are 1; when
    only one map has boundaries, the other's share is 0. ``F = 0`` when ``P + R = 0``.
    """
    pred, target = _check_pair(pred, target)
    tolerance = check_int("tolerance", tolerance, min_value=0)
    predicted, true = boundary_map(pred), boundary_map(target)
    n_predicted, n_true = int(predicted.sum()), int(true.sum())
    matched_predicted = int((predicted & dilate(true, tolerance)).sum())  # predicted edges near a true edge
    matched_true = int((true & dilate(predicted, tolerance)).sum())  # true edges near a predicted edge
    if n_predicted == 0 and n_true == 0:
        precision = recall = 1.0
    else:
        precision = matched_predicted / n_predicted if n_predicted else 0.0
        recall = matched_true / n_true if n_true else 0.0
    f_score = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return BoundaryScore(precision, recall, f_score, n_predicted, n_true)
