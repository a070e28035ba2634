"""What a detector's training monitor records after each epoch (the numbers; drawing is elsewhere).

After every epoch the held-out images are predicted and scored with
:func:`vislib.metrics.coco_evaluate`; an :class:`EpochEvaluation` keeps the
summary numbers (AP@.5, AP@[.5:.95], ...), each class's precision-recall
curve at IoU 0.5 on COCO's 101 recall points, and how long the evaluation
took, so that its cost can be compared with the epoch's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from vislib._validation import check_int, check_type
from vislib.metrics.coco import coco_evaluate
from vislib.training.epochs import to_coco_results

__all__ = ["EpochEvaluation", "evaluate_epoch", "MonitorHistory"]


@dataclass(frozen=True)
class EpochEvaluation:
    epoch: int
    mean_loss: float
    summary: dict  # the 12 COCO numbers (AP, AP50, AP75, ...)
    recall_points: np.ndarray  # [101]
    precision_at_50: np.ndarray  # [K, 101]: per class, NaN where undefined
    per_class_ap50: dict  # category id -> AP at IoU 0.5
    seconds: float  # time spent evaluating
    mask_summary: dict | None = None  # the 12 COCO numbers of the masks (segm), when the monitor scores masks


@dataclass
class MonitorHistory:
    """Everything the monitor has seen so far."""

    class_names: tuple[str, ...]
    step_losses: list[float] = field(default_factory=list)
    epochs: list[EpochEvaluation] = field(default_factory=list)

    @property
    def ap50(self) -> list[float]:
        return [e.summary["AP50"] for e in self.epochs]

    @property
    def ap(self) -> list[float]:
        return [e.summary["AP"] for e in self.epochs]

    @property
    def mask_ap50(self) -> list[float]:
        return [e.mask_summary["AP50"] for e in self.epochs if e.mask_summary is not None]

    @property
    def mask_ap(self) -> list[float]:
        return [e.mask_summary["AP"] for e in self.epochs if e.mask_summary is not None]


def evaluate_epoch(
    epoch: int, predictions: list[dict], ground_truth: dict, step_losses: list[float], masks: bool = False
) -> EpochEvaluation:
    """Score one epoch's held-out predictions against a COCO ground-truth dict (with ``masks``, also
    their ``masks`` by COCO's ``segm`` evaluation: mask AP)."""
    epoch = check_int("epoch", epoch, min_value=0)
    check_type("ground_truth", ground_truth, dict, "a COCO ground-truth dict")
    start = time.perf_counter()
    image_ids = [image["id"] for image in ground_truth["images"]]
    evaluation = coco_evaluate(ground_truth, to_coco_results(predictions, image_ids), iou_type="bbox")
    mask_summary = None
    if masks:
        from vislib.training.mask_rcnn import to_coco_mask_results

        mask_summary = dict(
            coco_evaluate(ground_truth, to_coco_mask_results(predictions, image_ids), iou_type="segm").summary
        )
    curves = evaluation.precision[0, :, :, 0, -1].T.astype(float)  # IoU 0.5, all areas, 100 detections: [K, R]
    curves[curves < 0] = np.nan
    return EpochEvaluation(
        epoch=epoch,
        mean_loss=float(np.mean(step_losses)) if len(step_losses) else math.nan,
        summary=dict(evaluation.summary),
        recall_points=evaluation.recall_thresholds,
        precision_at_50=curves,
        per_class_ap50=evaluation.per_class_ap(iou_threshold=0.5),
        seconds=time.perf_counter() - start,
        mask_summary=mask_summary,
    )
