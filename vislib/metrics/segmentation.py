"""Scoring semantic segmentation: the confusion matrix, per-class IoU, mean IoU and pixel accuracy.

A segmenter predicts one class per pixel. Every score here is read off one matrix:

1. :func:`confusion_matrix` counts pixels: ``confusion[t, p]`` is the number of pixels whose true class is
   ``t`` and whose predicted class is ``p`` (rows = truth, columns = prediction, the convention of
   ``sklearn.metrics.confusion_matrix``). Pixels whose *target* equals ``ignore_index`` (PASCAL VOC's 255
   border pixels, for example) are left out. Matrices of several batches simply add up, so a data set is
   scored by summing its batches' matrices (never by averaging per-batch IoUs).
2. :func:`per_class_iou`: for class ``c``, ``TP = confusion[c, c]``, ``FP = column sum - TP`` (pixels
   predicted ``c`` that are something else), ``FN = row sum - TP``, and

       IoU_c = TP / (TP + FP + FN)        (intersection over union of the predicted and true regions)

   A class that appears neither in the targets nor in the predictions has no union: its IoU is NaN.
3. :func:`mean_iou`: the mean of the per-class IoUs over the classes that have a union (NaNs left out), the
   headline number of PASCAL VOC and of DeepLab (Chen et al. 2018, arXiv 1802.02611). Each class counts
   the same however many pixels it covers, so small objects matter as much as the background.
4. :func:`pixel_accuracy`: the fraction of (non-ignored) pixels labelled correctly, ``trace / total``.
   Dominated by the largest class: predicting "background" everywhere often scores high here and badly
   in mIoU. :func:`class_accuracy` is the per-class recall ``TP / (TP + FN)``.

:func:`segmentation_scores` returns all of them at once as a :class:`SegmentationScores`.

Inputs are integer label maps of any shape (``[H, W]``, ``[N, H, W]``, ...), torch tensors or numpy arrays;
pass ``logits.argmax(dim=1)``, not the logits. Everything is torch only (works on CPU and CUDA); the
scores are float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from vislib._validation import check_int, check_type

__all__ = [
    "SegmentationScores",
    "MAX_CLASSES",
    "class_accuracy",
    "confusion_matrix",
    "mean_iou",
    "object_ious",
    "per_class_iou",
    "pixel_accuracy",
    "segmentation_scores",
]

#: The most classes a confusion matrix may have: it holds ``num_classes ** 2`` int64 counts (10,000 classes:
#: 800 MB; the largest segmentation benchmarks have about 1,200 classes).
MAX_CLASSES = 10_000


def _as_label_tensor(name: str, value) -> Tensor:
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    check_type(name, value, Tensor, "a torch.Tensor (or numpy array) of integer class labels")
    if value.is_floating_point() or value.is_complex():
        raise TypeError(
            f"{name} must hold integer class labels, got dtype {value.dtype}; for a model's "
            "scores [N, C, H, W] pass scores.argmax(dim=1)"
        )
    if value.dtype == torch.bool:
        value = value.long()
    return value


def confusion_matrix(pred, target, num_classes: int, ignore_index: int | None = None) -> Tensor:
    """``int64 Tensor[num_classes, num_classes]``: ``confusion[t, p]`` counts pixels of true class ``t``
    predicted as ``p``.

    Args:
        pred: integer Tensor (or numpy array) of predicted labels, any shape, values in ``[0, num_classes)``.
        target: integer Tensor (or numpy array) of true labels, the same shape as ``pred``; values in
            ``[0, num_classes)`` or equal to ``ignore_index``.
        num_classes (int): number of classes ``K`` (including the background class 0), at most ``MAX_CLASSES``.
        ignore_index (int or None): target value of pixels to leave out (their prediction is not checked).

    Equal to ``sklearn.metrics.confusion_matrix(target.ravel(), pred.ravel(), labels=range(K))`` on the
    non-ignored pixels. Computed with one ``torch.bincount`` of ``target * K + pred``, on the inputs' device.
    """
    pred = _as_label_tensor("pred", pred)
    target = _as_label_tensor("target", target)
    num_classes = check_int("num_classes", num_classes, min_value=1, max_value=MAX_CLASSES)
    if ignore_index is not None:
        ignore_index = check_int("ignore_index", ignore_index)
    if pred.shape != target.shape:
        hint = (
            " (did you pass the scores [N, C, H, W]? use scores.argmax(dim=1))" if pred.ndim == target.ndim + 1 else ""
        )
        raise ValueError(
            f"pred and target must have the same shape, got {list(pred.shape)} and {list(target.shape)}{hint}"
        )
    if pred.device != target.device:
        raise ValueError(f"pred and target must be on the same device, got {pred.device} and {target.device}")
    pred, target = pred.reshape(-1).long(), target.reshape(-1).long()
    if ignore_index is not None:
        keep = target != ignore_index
        pred, target = pred[keep], target[keep]
    for name, labels in (("pred", pred), ("target", target)):
        if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
            bad = labels[(labels < 0) | (labels >= num_classes)][0].item()
            extra = "" if name == "pred" or ignore_index is None else f" or ignore_index {ignore_index}"
            raise ValueError(
                f"{name} labels must be in [0, {num_classes - 1}]{extra} for num_classes={num_classes}, got {bad}"
            )
    counts = torch.bincount(target * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def _check_confusion(confusion) -> Tensor:
    if isinstance(confusion, np.ndarray):
        confusion = torch.from_numpy(confusion)
    check_type("confusion", confusion, Tensor, "a square torch.Tensor from confusion_matrix")
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1] or confusion.shape[0] == 0:
        raise ValueError(f"confusion must be a square [K, K] matrix, got shape {list(confusion.shape)}")
    if (confusion < 0).any():
        raise ValueError("confusion must hold pixel counts (no negative entries)")
    return confusion.to(torch.float64)


def per_class_iou(confusion) -> Tensor:
    """``float64 Tensor[K]``: ``TP / (TP + FP + FN)`` per class; NaN for a class with no union (absent from
    both the targets and the predictions)."""
    confusion = _check_confusion(confusion)
    tp = confusion.diagonal()
    union = confusion.sum(dim=0) + confusion.sum(dim=1) - tp  # TP + FP + FN
    return torch.where(union > 0, tp / union.clamp(min=1), torch.full_like(tp, float("nan")))


def mean_iou(confusion) -> float:
    """The mean of :func:`per_class_iou` over the classes that have a union (NaN if none has)."""
    iou = per_class_iou(confusion)
    present = ~iou.isnan()
    return float(iou[present].mean()) if present.any() else float("nan")


def pixel_accuracy(confusion) -> float:
    """Correct pixels / counted pixels (``trace / sum``); NaN if no pixel was counted."""
    confusion = _check_confusion(confusion)
    total = confusion.sum()
    return float(confusion.trace() / total) if total > 0 else float("nan")


def class_accuracy(confusion) -> Tensor:
    """``float64 Tensor[K]``: per-class recall ``TP / (TP + FN)``; NaN for a class absent from the targets."""
    confusion = _check_confusion(confusion)
    support = confusion.sum(dim=1)
    return torch.where(support > 0, confusion.diagonal() / support.clamp(min=1), torch.full_like(support, float("nan")))


def object_ious(pred, masks, labels, margin: int = 4) -> Tensor:
    """``float64 Tensor[K]``: the IoU of each ground-truth object with the prediction of its class nearby.

    mIoU pools pixels, so a few large objects outweigh many small ones. To score objects one by one (small
    ones, for example), object ``k`` of class ``c`` with visible mask ``M = masks[k]`` is compared with the
    pixels predicted ``c`` inside its **window**: its bounding box grown by ``margin`` pixels on every side
    (clipped to the image), minus the pixels of the *other* objects (so a neighbour of the same class is not
    counted against it). With ``P`` those predicted pixels, ``IoU_k = |P ∩ M| / |P ∪ M|``: 1 for an exact
    prediction, lower for missed pixels or spill-over around it; equal to
    ``sklearn.metrics.jaccard_score`` of the window's pixels. An empty mask gives NaN.

    Args:
        pred: integer label map ``[H, W]`` (one image's prediction).
        masks: bool ``[K, H, W]``: the image's visible instance masks (disjoint), as
            :class:`~vislib.data.shapes.ShapesDataset` gives in ``target["masks"]``.
        labels: integer ``[K]``: each object's class.
        margin: how many pixels the window extends past the box.
    """
    pred = _as_label_tensor("pred", pred)
    if pred.ndim != 2:
        raise ValueError(f"pred must be one label map [H, W], got shape {list(pred.shape)}")
    if isinstance(masks, np.ndarray):
        masks = torch.from_numpy(masks)
    check_type("masks", masks, Tensor, "a torch.Tensor [K, H, W] of instance masks")
    if masks.ndim != 3 or masks.shape[-2:] != pred.shape:
        raise ValueError(f"masks must be [K, H, W] with H, W = {list(pred.shape)}, got shape {list(masks.shape)}")
    labels = _as_label_tensor("labels", labels)
    if labels.shape != (len(masks),):
        raise ValueError(f"labels must hold one label per mask ({len(masks)}), got shape {list(labels.shape)}")
    margin = check_int("margin", margin, min_value=0)
    masks = masks.bool().to(pred.device)
    height, width = pred.shape
    occupied = masks.sum(dim=0)  # how many objects cover each pixel (the masks are disjoint: 0 or 1)
    ious = torch.full((len(masks),), float("nan"), dtype=torch.float64)
    for k, (mask, label) in enumerate(zip(masks, labels.tolist())):
        rows, cols = torch.nonzero(mask.any(dim=1)).ravel(), torch.nonzero(mask.any(dim=0)).ravel()
        if len(rows) == 0:
            continue
        r0, r1 = max(int(rows[0]) - margin, 0), min(int(rows[-1]) + 1 + margin, height)
        c0, c1 = max(int(cols[0]) - margin, 0), min(int(cols[-1]) + 1 + margin, width)
        window = torch.zeros_like(mask)
        window[r0:r1, c0:c1] = True
        window &= (occupied - mask.long()) == 0  # not another object's pixel
        predicted = (pred == label) & window
        ious[k] = (predicted & mask).sum().item() / (predicted | mask).sum().item()
    return ious


@dataclass(frozen=True)
class SegmentationScores:
    """Every score of one confusion matrix (see the module docstring).

    Attributes:
        confusion (Tensor[K, K]): int64 pixel counts, rows = truth, columns = prediction.
        iou (Tensor[K]): float64 per-class IoU (NaN where a class has no union).
        mean_iou (float): mean of ``iou`` over the classes with a union.
        pixel_accuracy (float): fraction of pixels labelled correctly.
        class_accuracy (Tensor[K]): float64 per-class recall.
    """

    confusion: Tensor
    iou: Tensor
    mean_iou: float
    pixel_accuracy: float
    class_accuracy: Tensor

    @classmethod
    def from_confusion(cls, confusion) -> SegmentationScores:
        checked = _check_confusion(confusion)
        return cls(
            confusion=checked.round().to(torch.int64),
            iou=per_class_iou(checked),
            mean_iou=mean_iou(checked),
            pixel_accuracy=pixel_accuracy(checked),
            class_accuracy=class_accuracy(checked),
        )


def segmentation_scores(pred, target, num_classes: int, ignore_index: int | None = None) -> SegmentationScores:
    """:func:`confusion_matrix` of ``pred`` and ``target``, and every score computed from it."""
    return SegmentationScores.from_confusion(confusion_matrix(pred, target, num_classes, ignore_index))
