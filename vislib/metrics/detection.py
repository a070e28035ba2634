"""Scoring object detection for one class: matching, precision/recall, AP and mAP.

The pipeline the notebooks teach, one step per function:

1. :func:`match_detections`: visit one class's detections over a set of images
   in order of decreasing score; each takes the still unmatched ground-truth
   box of its image with the highest IoU, if that IoU is ``>= iou_threshold``
   (a true positive, TP); otherwise it is a false positive (FP).
2. :func:`precision_recall_at`: precision and recall of the detections scoring
   at least a threshold (one point on the curve, for a slider).
3. :func:`precision_recall_curve`: cumulative precision and recall after each
   detection (the whole curve).
4. :func:`voc_ap` (PASCAL VOC 2007 11-point and VOC 2010+ all-point AP) and
   :func:`coco_interpolated_ap` (COCO's 101 recall points): the area under the
   curve, three ways.
5. :func:`mean_average_precision`: the mean over classes that have ground truth.

Shapes follow torchvision's docstrings: ``Tensor[D]`` is one value per
detection, boxes are ``Tensor[N, 4]`` in ``(x1, y1, x2, y2)`` format.
Curves and APs are computed in float64.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from vislib._validation import check_int, check_number, check_tensor, check_type
from vislib.ops.boxes import _check_boxes, _check_scores, _iou

__all__ = [
    "coco_interpolated_ap",
    "coco_interpolated_precision",
    "COCO_RECALL_THRESHOLDS",
    "DetectionMatches",
    "match_detections",
    "mean_average_precision",
    "precision_envelope",
    "precision_recall_at",
    "precision_recall_curve",
    "voc_ap",
]

# COCO's recall thresholds, built exactly as pycocotools builds them (so the numbers agree bit for bit).
COCO_RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class DetectionMatches:
    """One class's detections over a set of images, matched to the ground truth.

    Detections are listed in the order they were matched: decreasing score,
    equal scores in image order and then in their order within the image (a
    stable sort, as COCO does). ``D`` is the number of detections.

    Attributes:
        scores (Tensor[D]): float64 scores, non-increasing.
        tp (Tensor[D]): bool, the detection matched a ground-truth box (true positive).
        fp (Tensor[D]): bool, the detection matched nothing it could claim (false positive).
        ignored (Tensor[D]): bool, it only matched a *difficult* box: neither TP nor FP.
        image_index (Tensor[D]): int64, which image (position in the input lists) it belongs to.
        detection_index (Tensor[D]): int64, its row in that image's ``pred_boxes``.
        matched_gt (Tensor[D]): int64, the row of the matched box in that image's
            ``gt_boxes`` (also for ignored detections), ``-1`` for false positives.
        iou (Tensor[D]): float64, IoU with the matched box; for a false positive,
            its best IoU with any ground-truth box of its image (0 if it has none).
        num_ground_truth (int): number of ground-truth boxes that count (not difficult).
    """

    scores: Tensor
    tp: Tensor
    fp: Tensor
    ignored: Tensor
    image_index: Tensor
    detection_index: Tensor
    matched_gt: Tensor
    iou: Tensor
    num_ground_truth: int

    def precision_recall_curve(self) -> tuple[Tensor, Tensor]:
        """:func:`precision_recall_curve` of these matches: ``(precision, recall)``, each ``Tensor[D]``."""
        return precision_recall_curve(self.tp, self.num_ground_truth, fp=self.fp)


def _as_image_list(name: str, value, *, required: bool = True):
    """A tensor (one image) or a list/tuple of tensors (one per image) -> (list, was_single)."""
    if value is None and not required:
        return None, False
    if isinstance(value, Tensor):
        return [value], True
    if isinstance(value, (list, tuple)):
        return list(value), False
    raise TypeError(
        f"{name} must be a torch.Tensor (one image) or a list of tensors (one per image), got {type(value).__name__}"
    )


def match_detections(
    pred_boxes,
    pred_scores,
    gt_boxes,
    iou_threshold: float = 0.5,
    *,
    gt_difficult=None,
) -> DetectionMatches:
    """Match one class's detections to its ground truth, greedily by decreasing score.

    Each detection, best score first, claims the ground-truth box *of its own
    image* with the highest IoU among those not claimed yet, provided that IoU
    is ``>= iou_threshold`` (equal IoUs: the first box). It is then a true
    positive; otherwise a false positive, and in particular a second detection
    of an already-found object is a false positive (a "duplicate").

    ``gt_difficult`` marks boxes that must not count (PASCAL VOC's *difficult*,
    COCO's crowds): they are not in ``num_ground_truth``, and a detection whose
    only match (IoU ``>= iou_threshold``, claimed or not) is such a box is
    *ignored*, neither TP nor FP. A free regular box is always preferred.

    How this differs from the PASCAL VOC devkit: the devkit looks only at the
    single best-overlapping box, even if it is already claimed (then the
    detection is a duplicate, FP, although another free box might overlap
    enough), requires IoU ``> 0.5`` (strict), and adds 1 to widths (integer
    pixel boxes). COCO's rule is the one here, with ``>=``.

    Args:
        pred_boxes (Tensor[D, 4] or list of Tensor[D_i, 4]): detections, one tensor per image.
        pred_scores (Tensor[D] or list of Tensor[D_i]): their confidence scores.
        gt_boxes (Tensor[G, 4] or list of Tensor[G_i, 4]): ground-truth boxes of the class, per image.
        iou_threshold (float): minimum IoU for a match, in ``[0, 1]``.
        gt_difficult (Tensor[G] or list of Tensor[G_i], optional): bool, boxes that do not count.

    Returns:
        DetectionMatches: TP/FP flags and the match of each detection, best score first.
    """
    boxes_list, single = _as_image_list("pred_boxes", pred_boxes)
    scores_list, single_scores = _as_image_list("pred_scores", pred_scores)
    gt_list, single_gt = _as_image_list("gt_boxes", gt_boxes)
    difficult_list, _ = _as_image_list("gt_difficult", gt_difficult, required=False)
    iou_threshold = check_number("iou_threshold", iou_threshold, min_value=0.0, max_value=1.0)
    if not (single == single_scores == single_gt):
        raise TypeError("pred_boxes, pred_scores and gt_boxes must all be tensors (one image) or all be lists")
    n_images = len(boxes_list)
    for name, items in (("pred_scores", scores_list), ("gt_boxes", gt_list), ("gt_difficult", difficult_list)):
        if items is not None and len(items) != n_images:
            raise ValueError(f"{name} must have one entry per image ({n_images} in pred_boxes), got {len(items)}")

    # Check every image's tensors and compute its IoU matrix at once: [D_i, G_i].
    ious, difficult = [], []
    for i in range(n_images):
        where = "" if single else f"[{i}]"
        _check_boxes(f"pred_boxes{where}", boxes_list[i])
        _check_scores(f"pred_scores{where}", scores_list[i], boxes_list[i].shape[0], f"pred_boxes{where}")
        _check_boxes(f"gt_boxes{where}", gt_list[i])
        n_gt = gt_list[i].shape[0]
        if difficult_list is None:
            flags = torch.zeros(n_gt, dtype=torch.bool)
        else:
            flags = check_tensor(f"gt_difficult{where}", difficult_list[i], shape=("G",))
            if flags.dtype != torch.bool:
                raise TypeError(f"gt_difficult{where} must be a bool tensor, got dtype {flags.dtype}")
            if flags.shape[0] != n_gt:
                raise ValueError(
                    f"gt_difficult{where} must have one flag per box ({n_gt} in gt_boxes{where}), got {flags.shape[0]}"
                )
        difficult.append(flags)
        ious.append(_iou(boxes_list[i].double(), gt_list[i].double()))

    # All detections, best score first (stable: ties stay in image order, then row order).
    scores = torch.cat([s.double() for s in scores_list]) if n_images else torch.zeros(0, dtype=torch.float64)
    image_index = (
        torch.cat([torch.full((len(s),), i, dtype=torch.long) for i, s in enumerate(scores_list)])
        if n_images
        else torch.zeros(0, dtype=torch.long)
    )
    detection_index = (
        torch.cat([torch.arange(len(s)) for s in scores_list]) if n_images else torch.zeros(0, dtype=torch.long)
    )
    order = torch.sort(scores, descending=True, stable=True).indices
    scores, image_index, detection_index = scores[order], image_index[order], detection_index[order]

    n = len(scores)
    tp = torch.zeros(n, dtype=torch.bool)
    ignored = torch.zeros(n, dtype=torch.bool)
    matched_gt = torch.full((n,), -1, dtype=torch.long)
    best_iou = torch.zeros(n, dtype=torch.float64)
    claimed = [torch.zeros(len(d), dtype=torch.bool) for d in difficult]
    for k in range(n):  # greedy: one detection at a time, in score order
        i, d = int(image_index[k]), int(detection_index[k])
        row = ious[i][d]  # [G_i]: IoU of this detection with every box of its image
        if row.numel() == 0:
            continue
        best_iou[k] = row.max()
        free = (~claimed[i]) & (~difficult[i]) & (row >= iou_threshold)
        if free.any():
            g = int(torch.argmax(torch.where(free, row, -1.0)))  # highest IoU among free boxes; first on ties
            claimed[i][g] = True
            tp[k], matched_gt[k], best_iou[k] = True, g, row[g]
            continue
        hard = difficult[i] & (row >= iou_threshold)
        if hard.any():
            g = int(torch.argmax(torch.where(hard, row, -1.0)))
            ignored[k], matched_gt[k], best_iou[k] = True, g, row[g]
    fp = ~tp & ~ignored
    num_ground_truth = int(sum(int((~flags).sum()) for flags in difficult))
    return DetectionMatches(
        scores=scores,
        tp=tp,
        fp=fp,
        ignored=ignored,
        image_index=image_index,
        detection_index=detection_index,
        matched_gt=matched_gt,
        iou=best_iou,
        num_ground_truth=num_ground_truth,
    )


def precision_recall_at(matches: DetectionMatches, score_threshold: float) -> dict:
    """Precision and recall of the detections whose score is ``>= score_threshold``.

    Returns:
        dict: ``tp``, ``fp``, ``fn`` (ground-truth boxes not found) as ints, and
        ``precision = tp / (tp + fp)`` and ``recall = tp / num_ground_truth`` as
        floats. With no score ``>= score_threshold``, precision is ``0 / 0 =
        nan`` (nothing was claimed, so nothing was right or wrong); with no
        ground truth, recall is ``nan``.
    """
    check_type("matches", matches, DetectionMatches, "a DetectionMatches (from match_detections)")
    score_threshold = check_number("score_threshold", score_threshold)
    kept = matches.scores >= score_threshold
    tp = int((matches.tp & kept).sum())
    fp = int((matches.fp & kept).sum())
    total = matches.num_ground_truth
    return {
        "tp": tp,
        "fp": fp,
        "fn": total - tp,
        "precision": tp / (tp + fp) if tp + fp else math.nan,
        "recall": tp / total if total else math.nan,
    }


# --------------------------------------------------------------------------- curves


def _vector(name: str, value, *, dtype=torch.float64) -> Tensor:
    """A 1-D tensor from a tensor, numpy array or list."""
    if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
        try:
            value = torch.as_tensor(np.asarray(value))
        except (TypeError, ValueError) as error:
            raise TypeError(f"{name} must be a 1-D tensor or array of numbers: {error}") from None
    check_tensor(name, value, ndim=1)
    if value.dtype == torch.bool and dtype != torch.bool:
        raise TypeError(f"{name} must hold numbers, got a bool tensor")
    if dtype == torch.bool:
        if value.dtype != torch.bool and not bool(((value == 0) | (value == 1)).all()):
            raise ValueError(f"{name} must hold flags (bool or 0/1)")
        return value.bool()
    value = value.to(dtype)
    if not torch.isfinite(value).all():
        raise ValueError(f"{name} must be finite; entry {int(torch.nonzero(~torch.isfinite(value))[0])} is not")
    return value


def precision_recall_curve(tp, num_ground_truth: int, *, scores=None, fp=None) -> tuple[Tensor, Tensor]:
    """Precision and recall after each detection, in ranked order.

    After the first ``k`` detections: ``precision[k-1] = TP_k / (TP_k + FP_k)``
    and ``recall[k-1] = TP_k / num_ground_truth``, where ``TP_k`` and ``FP_k``
    count the true and false positives among them (the PASCAL VOC devkit's
    formula; where ``TP_k + FP_k = 0``, because only ignored detections came so
    far, precision is 0).

    Args:
        tp (Tensor[D]): bool (or 0/1) true-positive flag of each detection.
        num_ground_truth (int): number of ground-truth objects, ``>= 1``
            (a class without ground truth has no recall; leave it out of the mAP).
        scores (Tensor[D], optional): the detections' scores. If given, the
            detections are first sorted by decreasing score (stable); if not,
            ``tp`` must already be in ranked order.
        fp (Tensor[D], optional): bool false-positive flags; default ``~tp``.
            Pass it when some detections are ignored (neither TP nor FP).

    Returns:
        tuple[Tensor[D], Tensor[D]]: ``(precision, recall)``, float64.
    """
    tp = _vector("tp", tp, dtype=torch.bool)
    num_ground_truth = check_int("num_ground_truth", num_ground_truth, min_value=1)
    fp = ~tp if fp is None else _vector("fp", fp, dtype=torch.bool)
    if fp.shape != tp.shape:
        raise ValueError(f"fp must have one flag per detection ({tp.shape[0]}), got {fp.shape[0]}")
    if (tp & fp).any():
        raise ValueError(f"a detection cannot be both TP and FP; detection {int(torch.nonzero(tp & fp)[0])} is")
    if scores is not None:
        scores = _vector("scores", scores)
        if scores.shape != tp.shape:
            raise ValueError(f"scores must have one score per detection ({tp.shape[0]}), got {scores.shape[0]}")
        order = torch.sort(scores, descending=True, stable=True).indices
        tp, fp = tp[order], fp[order]
    if int(tp.sum()) > num_ground_truth:
        raise ValueError(f"num_ground_truth ({num_ground_truth}) is smaller than the number of TPs ({int(tp.sum())})")
    tp_cum = torch.cumsum(tp.double(), 0)  # [D]
    fp_cum = torch.cumsum(fp.double(), 0)  # [D]
    precision = tp_cum / torch.clamp(tp_cum + fp_cum, min=np.finfo(np.float64).eps)
    recall = tp_cum / num_ground_truth
    return precision, recall


def _check_curve(recall, precision) -> tuple[np.ndarray, np.ndarray]:
    recall = _vector("recall", recall).numpy()
    precision = _vector("precision", precision).numpy()
    if recall.shape != precision.shape:
        raise ValueError(
            f"recall and precision must have the same length, got {recall.shape[0]} and {precision.shape[0]}"
        )
    for name, values in (("recall", recall), ("precision", precision)):
        if values.size and (values.min() < 0 or values.max() > 1):
            raise ValueError(f"{name} values must lie in [0, 1], got values from {values.min()} to {values.max()}")
    if recall.size > 1 and (np.diff(recall) < 0).any():
        bad = int(np.nonzero(np.diff(recall) < 0)[0][0]) + 1
        raise ValueError(
            f"recall must be non-decreasing (detections in ranked order); recall[{bad}] = {recall[bad]:.6g} "
            f"< recall[{bad - 1}] = {recall[bad - 1]:.6g}"
        )
    return recall, precision


def precision_envelope(precision) -> Tensor:
    """The monotone envelope: ``envelope[k] = max(precision[k:])``, as every AP flavour uses.

    Args:
        precision (Tensor[D]): precision after each ranked detection.

    Returns:
        Tensor[D]: float64, non-increasing.
    """
    precision = _vector("precision", precision)
    return torch.flip(torch.cummax(torch.flip(precision, [0]), 0).values, [0])


def voc_ap(recall, precision, use_07_metric: bool = False) -> float:
    """PASCAL VOC average precision (the devkit's ``voc_ap``).

    * ``use_07_metric=True`` (VOC 2007): the 11-point interpolated AP,
      ``AP = (1/11) * sum over t in {0, 0.1, ..., 1} of max(precision[recall >= t])``
      (0 where no recall reaches ``t``). The points here are exactly ``k / 10``.
      The devkit's popular Python port writes ``np.arange(0., 1.1, 0.1)``, whose
      0.3, 0.6 and 0.7 come out a hair too large (0.30000000000000004...), so
      there a recall of exactly 0.3 (3 of 10 objects) does not reach the 0.3
      point: a 1e-16 difference in ``t`` that can change that AP by up to 1/11.
    * ``use_07_metric=False`` (VOC 2010 on): the exact area under the monotone
      precision envelope. The curve gets the sentinel points ``(recall 0,
      precision 0)`` in front and ``(1, 0)`` at the end, the precision is made
      non-increasing from the right, and AP sums ``(r[i+1] - r[i]) * p[i+1]``
      wherever recall changes.

    Args:
        recall (Tensor[D]): recall after each ranked detection (non-decreasing).
        precision (Tensor[D]): precision after each ranked detection.
        use_07_metric (bool): the 11-point VOC 2007 metric.

    Returns:
        float: AP in ``[0, 1]``.
    """
    recall, precision = _check_curve(recall, precision)
    check_type("use_07_metric", use_07_metric, (bool, np.bool_), "a bool")
    if use_07_metric:
        ap = 0.0
        for k in range(11):
            t = k / 10
            reached = recall >= t
            p = float(precision[reached].max()) if reached.any() else 0.0
            ap = ap + p / 11.0
        return float(ap)
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # envelope: max of everything to the right
    changes = np.nonzero(mrec[1:] != mrec[:-1])[0]  # where recall steps up
    return float(np.sum((mrec[changes + 1] - mrec[changes]) * mpre[changes + 1]))


def coco_interpolated_precision(recall, precision) -> Tensor:
    """COCO's precision at the 101 recall points ``0, 0.01, ..., 1``.

    The precision is made monotone (:func:`precision_envelope`); for each
    recall point ``r`` the value is the envelope at the first detection whose
    recall is ``>= r`` (``searchsorted(recall, r, side='left')``), and 0 where
    no detection reaches ``r``. This is pycocotools' ``accumulate`` for one
    class, one IoU threshold, one area range.

    Returns:
        Tensor[101]: float64.
    """
    recall, precision = _check_curve(recall, precision)
    envelope = np.maximum.accumulate(precision[::-1])[::-1] if precision.size else precision
    index = np.searchsorted(recall, COCO_RECALL_THRESHOLDS, side="left")  # [101]
    reached = index < len(recall)
    values = np.zeros(len(COCO_RECALL_THRESHOLDS))
    values[reached] = envelope[index[reached]]
    return torch.from_numpy(values)


def coco_interpolated_ap(recall, precision) -> float:
    """COCO's AP for one class and one IoU threshold: the mean of :func:`coco_interpolated_precision`.

    Args:
        recall (Tensor[D]): recall after each ranked detection (non-decreasing).
        precision (Tensor[D]): precision after each ranked detection.

    Returns:
        float: AP in ``[0, 1]``.
    """
    return float(np.mean(coco_interpolated_precision(recall, precision).numpy()))


# --------------------------------------------------------------------------- mAP


def mean_average_precision(per_class_ap, num_ground_truth=None) -> float:
    """The mean of the per-class APs over the classes that have ground truth.

    A class without ground-truth objects has no recall, so no AP: it is left
    out of the mean (not counted as 0), as in the VOC devkit and COCO. Such a
    class is recognised by an AP of ``None``, ``nan`` or ``-1`` (COCO's marker),
    or, if ``num_ground_truth`` is given, by a count of 0.

    Args:
        per_class_ap (Mapping[class, float] or Sequence[float] or Tensor[C]): AP of each class.
        num_ground_truth (same structure as ``per_class_ap``, optional): ground-truth objects per class.

    Returns:
        float: the mAP. Raises ``ValueError`` if no class has ground truth.
    """
    if isinstance(per_class_ap, Mapping):
        names = list(per_class_ap)
        values = [per_class_ap[name] for name in names]
    elif isinstance(per_class_ap, (Sequence, np.ndarray, Tensor)) and not isinstance(per_class_ap, str):
        names = list(range(len(per_class_ap)))
        values = [v.item() if isinstance(v, (Tensor, np.generic)) else v for v in per_class_ap]
    else:
        raise TypeError(f"per_class_ap must be a mapping or a sequence of APs, got {type(per_class_ap).__name__}")
    counts = None
    if num_ground_truth is not None:
        if isinstance(per_class_ap, Mapping):
            if not isinstance(num_ground_truth, Mapping) or set(num_ground_truth) != set(names):
                raise ValueError("num_ground_truth must be a mapping with the same classes as per_class_ap")
            counts = [num_ground_truth[name] for name in names]
        else:
            if not isinstance(num_ground_truth, (Sequence, np.ndarray, Tensor)) or isinstance(num_ground_truth, str):
                raise TypeError(f"num_ground_truth must be a sequence of counts, got {type(num_ground_truth).__name__}")
            counts = [c.item() if isinstance(c, (Tensor, np.generic)) else c for c in num_ground_truth]
            if len(counts) != len(values):
                raise ValueError(f"num_ground_truth must have one count per class ({len(values)}), got {len(counts)}")
    kept = []
    for position, (name, ap) in enumerate(zip(names, values)):
        if counts is not None:
            check_int(f"num_ground_truth[{name!r}]", counts[position], min_value=0)
            if counts[position] == 0:
                continue
        if ap is None:
            continue
        ap = check_number(f"per_class_ap[{name!r}]", ap) if not (isinstance(ap, float) and math.isnan(ap)) else ap
        if math.isnan(ap) or ap == -1:
            continue
        if not 0.0 <= ap <= 1.0:
            raise ValueError(
                f"per_class_ap[{name!r}] must lie in [0, 1] (or be None/nan/-1 for no ground truth), got {ap}"
            )
        kept.append(ap)
    if not kept:
        raise ValueError("no class has ground truth: the mAP is undefined")
    return float(np.mean(kept))
