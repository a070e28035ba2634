"""Scoring object detection: matching, precision/recall, VOC and COCO AP, mAP, COCO evaluation.

* :mod:`vislib.metrics.detection`: one class at a time, the steps the notebooks teach.
* :mod:`vislib.metrics.coco`: ``coco_evaluate``, equal to pycocotools' COCOeval.
"""

from vislib.metrics.coco import CocoEvaluation, coco_evaluate
from vislib.metrics.detection import (
    DetectionMatches,
    coco_interpolated_ap,
    coco_interpolated_precision,
    match_detections,
    mean_average_precision,
    precision_envelope,
    precision_recall_at,
    precision_recall_curve,
    voc_ap,
)

__all__ = [
    "CocoEvaluation",
    "DetectionMatches",
    "coco_evaluate",
    "coco_interpolated_ap",
    "coco_interpolated_precision",
    "match_detections",
    "mean_average_precision",
    "precision_envelope",
    "precision_recall_at",
    "precision_recall_curve",
    "voc_ap",
]
