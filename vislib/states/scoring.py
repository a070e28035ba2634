"""States for the detection-scoring notebook's widgets: IoU of two boxes, and a simulated detector.

Nothing here draws. :func:`iou_state` is what the IoU widget shows;
:func:`simulate_detections` plays a detector whose quality the user controls
(localization noise, false positives, score calibration), and
:func:`threshold_state` scores its detections at one score threshold: which
are true / false positives, which objects are missed, and where that puts
the (recall, precision) point on the PR curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from vislib._validation import check_detections, check_int, check_number, check_type
from vislib.metrics.detection import match_detections, precision_recall_curve
from vislib.ops.boxes import box_iou

__all__ = [
    "CORRECT_IOU",
    "iou_state",
    "IoUState",
    "MAX_FALSE_POSITIVES",
    "pool_matches",
    "pool_matches_fast",
    "PooledMatches",
    "simulate_detections",
    "SimulatedDetector",
    "threshold_state",
    "ThresholdState",
]

#: A detection matches an object of its class when their IoU is >= 0.5 (the lecture writes "IoU > 0.5";
#: :func:`pool_matches`, like COCO, counts exactly 0.5 as a match).
CORRECT_IOU = 0.5


# -- IoU of two boxes ------------------------------------------------------------------
@dataclass(frozen=True)
class IoUState:
    ground_truth: tuple[float, float, float, float]  # xyxy
    prediction: tuple[float, float, float, float]
    intersection: tuple[float, float, float, float] | None  # None when the boxes do not overlap
    intersection_area: float
    union_area: float
    iou: float

    @property
    def correct(self) -> bool:
        """IoU ``>= CORRECT_IOU``: the rule the matching uses."""
        return self.iou >= CORRECT_IOU


def _box(cx: float, cy: float, w: float, h: float) -> tuple[float, float, float, float]:
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def iou_state(
    gt_x: float, gt_y: float, gt_w: float, gt_h: float, pred_x: float, pred_y: float, pred_w: float, pred_h: float
) -> IoUState:
    """Two boxes given by centre and size (any units); their intersection, union and IoU."""
    values = {}
    for name, value in dict(
        gt_x=gt_x, gt_y=gt_y, gt_w=gt_w, gt_h=gt_h, pred_x=pred_x, pred_y=pred_y, pred_w=pred_w, pred_h=pred_h
    ).items():
        values[name] = check_number(name, value, min_value=0.0 if name.endswith(("_w", "_h")) else None)
    gt = _box(values["gt_x"], values["gt_y"], values["gt_w"], values["gt_h"])
    pred = _box(values["pred_x"], values["pred_y"], values["pred_w"], values["pred_h"])
    iou = float(box_iou(torch.tensor([gt], dtype=torch.float64), torch.tensor([pred], dtype=torch.float64))[0, 0])
    x1, y1 = max(gt[0], pred[0]), max(gt[1], pred[1])
    x2, y2 = min(gt[2], pred[2]), min(gt[3], pred[3])
    overlap = (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None
    intersection = (x2 - x1) * (y2 - y1) if overlap else 0.0
    union = values["gt_w"] * values["gt_h"] + values["pred_w"] * values["pred_h"] - intersection
    return IoUState(gt, pred, overlap, intersection, union, 0.0 if math.isnan(iou) else iou)


# -- a simulated detector --------------------------------------------------------------
MAX_FALSE_POSITIVES = 60


def _iou_nan_as_zero(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """:func:`vislib.ops.boxes.box_iou` of two NumPy box arrays (xyxy) in float64, with 0 where both boxes
    have zero area (there box_iou, like torchvision, gives ``0 / 0 = nan``)."""
    # box_iou's arithmetic in NumPy, in the same order (equal results): the widget calls this once per image
    # and class on every detector change, where torch's per-call overhead dominated on these tiny arrays.
    boxes1, boxes2 = np.asarray(boxes1, dtype=np.float64), np.asarray(boxes2, dtype=np.float64)
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    top_left = np.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = np.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    size = np.clip(bottom_right - top_left, 0.0, None)
    intersection = size[..., 0] * size[..., 1]
    union = area1[:, None] + area2[None, :] - intersection
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = intersection / union
    return np.nan_to_num(iou, nan=0.0)


def _poisson_count(rate: float, uniform: float) -> int:
    """The Poisson(rate) count whose CDF first reaches ``uniform`` (inverse-CDF sampling)."""
    term = cumulative = math.exp(-rate)
    count = 0
    while cumulative < uniform and count < MAX_FALSE_POSITIVES:
        count += 1
        term *= rate / count
        cumulative += term
    return count


@dataclass(frozen=True)
class _ImageDraws:
    """All random numbers one image's simulation needs, drawn once per (seed, image)."""

    truth: np.ndarray  # [G, 4]
    labels: np.ndarray  # [G]
    found: np.ndarray  # [G] uniform: missed when < miss_rate
    duplicate: np.ndarray  # [G] uniform: found twice when < duplicate_rate
    jitter: np.ndarray  # [G, 2, 4] standard normal: centre x, y and log-size w, h, per copy
    wrong_class: np.ndarray  # [G, 2] uniform, and a random other class
    other_class: np.ndarray  # [G, 2]
    score_noise: np.ndarray  # [G, 2] uniform
    fp_count: float  # uniform, for the Poisson count
    fp_boxes: np.ndarray  # [MAX_FALSE_POSITIVES, 4] uniform: size x, y and corner x, y
    fp_labels: np.ndarray
    fp_quality: np.ndarray  # uniform in [0, 0.3)
    fp_noise: np.ndarray  # uniform


def _draws(target: dict, seed: int, index: int, num_classes: int) -> _ImageDraws:
    rng = np.random.default_rng((seed, index))
    count = len(target["labels"])
    return _ImageDraws(
        truth=target["boxes"].double().numpy(),
        labels=target["labels"].numpy(),
        found=rng.random(count),
        duplicate=rng.random(count),
        jitter=rng.standard_normal((count, 2, 4)),
        wrong_class=rng.random((count, 2)),
        other_class=rng.integers(1, num_classes + 1, (count, 2)),
        score_noise=rng.random((count, 2)),
        fp_count=rng.random(),
        fp_boxes=rng.random((MAX_FALSE_POSITIVES, 4)),
        fp_labels=rng.integers(1, num_classes + 1, MAX_FALSE_POSITIVES),
        fp_quality=rng.uniform(0, 0.3, MAX_FALSE_POSITIVES),
        fp_noise=rng.random(MAX_FALSE_POSITIVES),
    )


def _simulate_image(
    d: _ImageDraws,
    noise: float,
    false_positives: float,
    calibration: float,
    image_size: int,
    miss_rate: float,
    duplicate_rate: float,
) -> dict:
    copies = np.where(d.found < miss_rate, 0, np.where(d.duplicate < duplicate_rate, 2, 1))  # [G]
    take = np.arange(2)[None, :] < copies[:, None]  # [G, 2]: which of the two possible copies exist
    truth = np.repeat(d.truth[:, None, :], 2, axis=1)[take]  # [D, 4]
    jitter = d.jitter[take] * noise  # [D, 4]
    w, h = truth[:, 2] - truth[:, 0], truth[:, 3] - truth[:, 1]
    cx = (truth[:, 0] + truth[:, 2]) / 2 + jitter[:, 0] * w
    cy = (truth[:, 1] + truth[:, 3]) / 2 + jitter[:, 1] * h
    w, h = w * np.exp(jitter[:, 2]), h * np.exp(jitter[:, 3])
    boxes = np.clip(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1), 0, image_size)
    quality = np.diagonal(_iou_nan_as_zero(boxes, truth))  # each box's IoU with the object it was made from
    labels = np.where(d.wrong_class[take] < 0.05, d.other_class[take], np.repeat(d.labels[:, None], 2, 1)[take])
    scores = calibration * quality + (1 - calibration) * d.score_noise[take]
    count = _poisson_count(false_positives, d.fp_count)
    size = (0.1 + 0.3 * d.fp_boxes[:count, :2]) * image_size
    corner = d.fp_boxes[:count, 2:] * (image_size - size)
    fp_boxes = np.concatenate([corner, corner + size], axis=1)
    fp_scores = calibration * d.fp_quality[:count] + (1 - calibration) * d.fp_noise[:count]
    return {
        "boxes": torch.from_numpy(np.concatenate([boxes, fp_boxes]).astype(np.float32)),
        "scores": torch.from_numpy(np.concatenate([scores, fp_scores]).astype(np.float32)),
        "labels": torch.from_numpy(np.concatenate([labels, d.fp_labels[:count]]).astype(np.int64)),
    }


def simulate_detections(
    targets: list[dict],
    localization_noise: float,
    false_positives: float,
    calibration: float,
    *,
    num_classes: int,
    image_size: int,
    miss_rate: float = 0.1,
    duplicate_rate: float = 0.1,
    seed: int = 0,
) -> list[dict]:
    """Detections of a made-up detector for each image's ``target`` (``boxes`` xyxy, ``labels`` 1..C).

    * each object is found with probability ``1 - miss_rate``; its box is the
      true box with its centre moved by ``localization_noise`` times its size
      (Gaussian) and its sides scaled by ``exp(N(0, localization_noise))``; 5%
      get a wrong class; ``duplicate_rate`` of them are found twice (the second
      box is a duplicate);
    * ``false_positives`` random boxes per image on average (Poisson);
    * the score is ``calibration * quality + (1 - calibration) * noise``:
      quality is the IoU with the object (below 0.3 for a false positive) and
      noise is uniform, so at ``calibration = 1`` good boxes score high and at
      0 scores say nothing.

    The random numbers are fixed per (seed, image index), so changing one
    setting changes the detections smoothly. Returns ``[{"boxes", "scores", "labels"}]``.
    """
    return _Simulator(targets, num_classes, image_size, seed).run(
        localization_noise, false_positives, calibration, miss_rate, duplicate_rate
    )


class _Simulator:
    def __init__(self, targets: list[dict], num_classes: int, image_size: int, seed: int):
        self.num_classes = check_int("num_classes", num_classes, min_value=1)
        self.image_size = check_int("image_size", image_size, min_value=8)
        targets = check_detections("targets", targets, keys=("boxes", "labels"))
        seed = check_int("seed", seed, min_value=0)
        self.draws = [_draws(t, seed, i, self.num_classes) for i, t in enumerate(targets)]

    def run(self, localization_noise, false_positives, calibration, miss_rate=0.1, duplicate_rate=0.1):
        noise = check_number("localization_noise", localization_noise, min_value=0.0, max_value=2.0)
        rate = check_number("false_positives", false_positives, min_value=0.0, max_value=50.0)
        calibration = check_number("calibration", calibration, min_value=0.0, max_value=1.0)
        miss_rate = check_number("miss_rate", miss_rate, min_value=0.0, max_value=1.0)
        duplicate_rate = check_number("duplicate_rate", duplicate_rate, min_value=0.0, max_value=1.0)
        return [
            _simulate_image(d, noise, rate, calibration, self.image_size, miss_rate, duplicate_rate) for d in self.draws
        ]


def _check_matching(detections, targets, iou_threshold):
    targets = check_detections("targets", targets, keys=("boxes", "labels"))
    detections = check_detections("detections", detections, length=len(targets), length_name="targets")
    iou_threshold = check_number("iou_threshold", iou_threshold, min_value=0.0, max_value=1.0)
    return detections, targets, iou_threshold


@dataclass(frozen=True)
class PooledMatches:
    """All classes' matches in one ranked list (a "micro-averaged" PR curve)."""

    scores: np.ndarray  # [D], decreasing
    tp: np.ndarray  # [D] bool
    image_index: np.ndarray  # [D]
    detection_index: np.ndarray  # [D]
    matched_gt: np.ndarray  # [D], -1 for false positives
    precision: np.ndarray  # [D], after each detection
    recall: np.ndarray  # [D]
    num_ground_truth: int


def pool_matches(
    detections: list[dict], targets: list[dict], num_classes: int, iou_threshold: float = CORRECT_IOU
) -> PooledMatches:
    """Match each class's detections to its objects (IoU >= threshold, greedy by score), then pool the classes."""
    detections, targets, iou_threshold = _check_matching(detections, targets, iou_threshold)
    num_classes = check_int("num_classes", num_classes, min_value=1)
    for name, items in (("detections", detections), ("targets", targets)):
        for i, item in enumerate(items):
            labels = item["labels"]
            if len(labels) and (int(labels.min()) < 1 or int(labels.max()) > num_classes):
                raise ValueError(
                    f"{name}[{i}]['labels'] must be in 1..num_classes ({num_classes}), got {labels.tolist()}"
                )
    parts = []
    present = sorted({int(v) for item in [*detections, *targets] for v in item["labels"].tolist()})
    for label in present:  # classes absent from both contribute nothing (and num_classes may be large)
        pred_boxes = [d["boxes"][d["labels"] == label] for d in detections]
        pred_scores = [d["scores"][d["labels"] == label] for d in detections]
        gt_boxes = [t["boxes"][t["labels"] == label] for t in targets]
        gt_rows = [torch.nonzero(t["labels"] == label).flatten() for t in targets]
        det_rows = [torch.nonzero(d["labels"] == label).flatten() for d in detections]
        matches = match_detections(pred_boxes, pred_scores, gt_boxes, iou_threshold)
        image = matches.image_index.numpy()
        detection = np.array([int(det_rows[i][j]) for i, j in zip(image, matches.detection_index.tolist())], dtype=int)
        matched = np.array(
            [int(gt_rows[i][j]) if j >= 0 else -1 for i, j in zip(image, matches.matched_gt.tolist())], dtype=int
        )
        parts.append((matches.scores.numpy(), matches.tp.numpy(), image, detection, matched))
    if not parts:
        parts = [(np.zeros(0), np.zeros(0, bool), np.zeros(0, int), np.zeros(0, int), np.zeros(0, int))]
    scores, tp, image, detection, matched = (np.concatenate([p[k] for p in parts]) for k in range(5))
    order = np.argsort(-scores, kind="stable")
    total = sum(len(t["labels"]) for t in targets)
    if len(order):
        precision, recall = (c.numpy() for c in precision_recall_curve(torch.from_numpy(tp[order]), max(total, 1)))
    else:
        precision = recall = np.zeros(0)
    return PooledMatches(
        scores[order], tp[order].astype(bool), image[order], detection[order], matched[order], precision, recall, total
    )


def pool_matches_fast(detections: list[dict], targets: list[dict], iou_threshold: float = CORRECT_IOU) -> PooledMatches:
    """:func:`pool_matches` in NumPy for the widget (the tests prove the two agree).

    The same greedy rule: all detections in decreasing score order (stable);
    each claims the not-yet-claimed object of its own image and class with
    the highest IoU, if that IoU is >= ``iou_threshold``.
    """
    detections, targets, iou_threshold = _check_matching(detections, targets, iou_threshold)
    scores = np.concatenate([d["scores"].numpy() for d in detections]).astype(np.float64)
    image = np.concatenate([np.full(len(d["scores"]), i) for i, d in enumerate(detections)]).astype(int)
    detection = np.concatenate([np.arange(len(d["scores"])) for d in detections]).astype(int)
    ious = []
    for d, t in zip(detections, targets):
        iou = _iou_nan_as_zero(d["boxes"].double().numpy(), t["boxes"].double().numpy())
        iou[d["labels"].numpy()[:, None] != t["labels"].numpy()[None, :]] = -1.0  # other classes never match
        ious.append(iou)
    order = np.argsort(-scores, kind="stable")
    claimed = [np.zeros(len(t["labels"]), dtype=bool) for t in targets]
    tp = np.zeros(len(order), dtype=bool)
    matched = np.full(len(order), -1)
    for rank, k in enumerate(order):
        row = ious[image[k]][detection[k]].copy()
        row[claimed[image[k]]] = -1.0
        if row.size and row.max() >= iou_threshold:
            best = int(np.argmax(row))
            claimed[image[k]][best] = True
            tp[rank], matched[rank] = True, best
    total = sum(len(t["labels"]) for t in targets)
    true_positives = np.cumsum(tp)
    precision = true_positives / np.arange(1, len(order) + 1)
    recall = true_positives / max(total, 1)
    return PooledMatches(scores[order], tp, image[order], detection[order], matched, precision, recall, total)


@dataclass(frozen=True)
class ThresholdState:
    """The simulated detector scored at one threshold, with what the picture needs for a few images."""

    score_threshold: float
    precision: float  # nan when no score is >= the threshold
    recall: float
    tp: int
    fp: int
    fn: int
    curve_recall: np.ndarray
    curve_precision: np.ndarray
    shown: list[dict]  # per shown image: boxes, scores, status ("TP", "FP", "below"), missed ground truth


def threshold_state(
    pooled: PooledMatches,
    detections: list[dict],
    targets: list[dict],
    score_threshold: float,
    shown_images: tuple[int, ...] = (0, 1),
) -> ThresholdState:
    """TP / FP / FN at ``score_threshold`` (a detection counts when its score is >= the threshold)."""
    score_threshold = check_number("score_threshold", score_threshold, min_value=0.0, max_value=1.0)
    check_type("pooled", pooled, PooledMatches, "the PooledMatches of these detections")
    detections = check_detections("detections", detections)
    targets = check_detections(
        "targets", targets, keys=("boxes", "labels"), length=len(detections), length_name="detections"
    )
    shown_images = _check_shown_images(shown_images, len(targets))
    return _threshold_state(pooled, detections, targets, score_threshold, shown_images)


def _threshold_state(pooled, detections, targets, score_threshold, shown_images) -> ThresholdState:
    """:func:`threshold_state` on arguments already checked (the widget's moves: the detector's own data)."""
    above = pooled.scores >= score_threshold
    tp = int((pooled.tp & above).sum())
    fp = int((~pooled.tp & above).sum())
    shown = []
    for image in shown_images:
        in_image = pooled.image_index == image
        status = np.full(len(detections[image]["scores"]), "below", dtype=object)
        rows = pooled.detection_index[in_image]
        status[rows] = np.where(above[in_image], np.where(pooled.tp[in_image], "TP", "FP"), "below")
        found = pooled.matched_gt[in_image & above & pooled.tp]
        missed = np.setdiff1d(np.arange(len(targets[image]["labels"])), found)
        shown.append(
            {
                "boxes": detections[image]["boxes"].numpy(),
                "scores": detections[image]["scores"].numpy(),
                "status": status,
                "missed": targets[image]["boxes"].numpy()[missed],
            }
        )
    return ThresholdState(
        score_threshold=score_threshold,
        precision=tp / (tp + fp) if tp + fp else math.nan,
        recall=tp / pooled.num_ground_truth if pooled.num_ground_truth else math.nan,
        tp=tp,
        fp=fp,
        fn=pooled.num_ground_truth - tp,
        curve_recall=pooled.recall,
        curve_precision=pooled.precision,
        shown=shown,
    )


def _check_shown_images(shown_images, count: int) -> tuple[int, ...]:
    check_type("shown_images", shown_images, (list, tuple, range), "a sequence of image indices")
    return tuple(
        check_int(f"shown_images[{i}]", v, min_value=0, max_value=count - 1) for i, v in enumerate(shown_images)
    )


class SimulatedDetector:
    """A fixed set of images and targets; detections and matches cached per detector setting.

    ``state(localization_noise, false_positives, calibration, score_threshold)``
    is the precision-recall widget's state: moving the threshold only indexes
    cached matches; changing the detector re-simulates once per setting.
    """

    def __init__(
        self,
        targets: list[dict],
        *,
        num_classes: int,
        image_size: int,
        seed: int = 0,
        shown_images: tuple[int, ...] = (0, 1),
    ):
        targets = check_detections("targets", targets, keys=("boxes", "labels"))
        if not targets:
            raise ValueError("targets must hold at least one image")
        self.targets = targets
        self.num_classes = check_int("num_classes", num_classes, min_value=1)
        self.image_size = check_int("image_size", image_size, min_value=8)
        self.shown_images = _check_shown_images(shown_images, len(targets))
        self._simulator = _Simulator(targets, num_classes, image_size, seed)
        self._simulate = lru_cache(maxsize=64)(self._simulate_uncached)

    def _simulate_uncached(self, localization_noise: float, false_positives: float, calibration: float):
        detections = self._simulator.run(localization_noise, false_positives, calibration)
        return detections, pool_matches_fast(detections, self.targets)

    def detections_and_matches(
        self, localization_noise: float, false_positives: float, calibration: float
    ) -> tuple[list[dict], PooledMatches]:
        """The simulated detections (one dict per image) and their pooled matches (cached per setting)."""
        return self._simulate(float(localization_noise), float(false_positives), float(calibration))

    def state(
        self, localization_noise: float, false_positives: float, calibration: float, score_threshold: float
    ) -> ThresholdState:
        detections, pooled = self.detections_and_matches(localization_noise, false_positives, calibration)
        score_threshold = check_number("score_threshold", score_threshold, min_value=0.0, max_value=1.0)
        return _threshold_state(pooled, detections, self.targets, score_threshold, self.shown_images)
