"""How many ground-truth objects region proposals cover: :func:`proposal_recall` (at one IoU threshold)
and :func:`recall_at_counts` (over the first ``k`` proposals, for several ``k``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from vislib._validation import check_int, check_number, check_tensor, check_type
from vislib.ops.boxes import box_iou

__all__ = ["proposal_recall", "recall_at_counts"]


def _check_gt(name: str, boxes) -> Tensor:
    check_tensor(name, boxes, shape=("N", 4))
    boxes = boxes.float()
    if not torch.isfinite(boxes).all():
        raise ValueError(f"{name} must be finite; got {boxes.tolist()}"[:200])
    return boxes


def proposal_recall(proposals: Tensor, ground_truth: Tensor, iou_threshold: float = 0.5) -> float:
    """The fraction of ground-truth boxes that some proposal overlaps with IoU >= ``iou_threshold``.

    NaN for an image without ground truth.
    """
    check_tensor("proposals", proposals, shape=("K", 4))
    ground_truth = _check_gt("ground_truth", ground_truth)
    iou_threshold = check_number("iou_threshold", iou_threshold, min_value=0.0, max_value=1.0)
    if len(ground_truth) == 0:
        return math.nan
    if len(proposals) == 0:
        return 0.0
    best = box_iou(ground_truth, proposals.float()).max(dim=1).values
    return float((best >= iou_threshold).float().mean())


def recall_at_counts(
    proposals: Sequence[Tensor],
    ground_truth: Sequence[Tensor],
    counts: Sequence[int],
    iou_threshold: float = 0.5,
) -> np.ndarray:
    """Recall pooled over images when each image keeps only its first ``k`` proposals, for each ``k`` in ``counts``.

    ``proposals[i]`` are image ``i``'s proposals, best first; ``ground_truth[i]`` its boxes.
    Returns float64 ``[len(counts)]``: covered objects / all objects (IoU >= ``iou_threshold``).
    """
    check_type("proposals", proposals, (list, tuple), "a list of per-image proposal tensors")
    check_type("ground_truth", ground_truth, (list, tuple), "a list of per-image box tensors")
    if len(proposals) != len(ground_truth):
        raise ValueError(f"proposals has {len(proposals)} images but ground_truth has {len(ground_truth)}")
    check_type("counts", counts, (list, tuple, range, np.ndarray), "a sequence of proposal counts")
    counts = [check_int("counts", int(k) if isinstance(k, np.integer) else k, min_value=0) for k in counts]
    iou_threshold = check_number("iou_threshold", iou_threshold, min_value=0.0, max_value=1.0)
    covered = np.zeros(len(counts))
    total = 0
    for i, (boxes, truth) in enumerate(zip(proposals, ground_truth)):
        check_tensor(f"proposals[{i}]", boxes, shape=("K", 4))
        truth = _check_gt(f"ground_truth[{i}]", truth)
        total += len(truth)
        if len(truth) == 0 or len(boxes) == 0:
            continue
        iou = box_iou(truth, boxes.float())  # [N, K]
        # the rank of the first proposal that covers each object (K if none does)
        hits = iou >= iou_threshold
        first = torch.where(hits.any(dim=1), hits.float().argmax(dim=1), torch.full((len(truth),), len(boxes)))
        for c, k in enumerate(counts):
            covered[c] += int((first < k).sum())
    return covered / total if total else np.full(len(counts), np.nan)
