"""COCO evaluation (``bbox`` and ``segm``), equal to pycocotools' COCOeval, vectorized.

``coco_evaluate(gt, results)`` gives the twelve numbers that
``COCOeval.evaluate(); accumulate(); summarize()`` prints, and the arrays
behind them, without pycocotools (``tests/test_coco_eval.py`` proves them
equal to 1e-9 on random data sets with crowds, score ties, empty categories
and every area range). It follows pycocotools step by step:

1. **Detections per image.** For every (image, category), the detections are
   sorted by decreasing score (stable: equal scores keep their order in
   ``results``) and only the best ``maxDets[-1] = 100`` are kept.
2. **IoU** of every kept detection with every ground-truth box of the same
   image and category. For a *crowd* region (``iscrowd=1``) the IoU is
   ``intersection / area(detection)``: a detection inside a crowd is not
   penalised for the crowd being bigger.
3. **Matching**, for each IoU threshold ``t`` in ``0.50, 0.55, ..., 0.95`` and
   each area range (all, small < 32², medium, large > 96²): detections, best
   first, each take the free ground truth with the highest IoU ``>= t``
   (equal IoUs: the later one). Ground truth outside the area range (decided
   by its ``area`` field, not its box) and crowds are *ignored*: a detection
   matched to one is neither TP nor FP, and it can only take one when no
   regular ground truth is free; crowds can be matched any number of times.
   An unmatched detection outside the area range is ignored too.
4. **Accumulation**, for each category, area range and ``maxDets`` in
   ``1, 10, 100``: the detections of all images, capped at ``maxDets`` per
   image, are sorted by decreasing score (stable, in image-id order), giving
   cumulative precision ``TP / (TP + FP)`` and recall ``TP / (#ground truth
   not ignored)``; the precision is made monotone and read at the 101 recall
   points ``0, 0.01, ..., 1``.
5. **Summary**: AP is the mean of those precisions over IoU thresholds,
   recall points and categories that have ground truth (-1 if none has), AR
   the mean of the final recalls.

Step 3 is a greedy loop, so it cannot be a single array operation; instead
it runs over the rank of a detection in its (image, category) group, for all
groups at once, all thresholds and area ranges at once (arrays
``[groups, A, T, G]``). That is what makes it faster than pycocotools, whose
loops are per image, category, area, threshold, detection and ground truth.

Two pycocotools behaviours that look like choices are kept, to stay equal:
the ground truth's ``ignore`` field has no effect (pycocotools overwrites it
with ``iscrowd``), and for ``segm`` results that carry a ``bbox`` the
detection's area is the box's ``w * h`` (pycocotools' ``loadRes``), else the
mask's pixel count; which of the two is decided by the first result, as in
``loadRes``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from vislib._validation import check_choice, check_type
from vislib.metrics.detection import COCO_RECALL_THRESHOLDS
from vislib.ops.rle import polygons_to_mask, rle_counts

__all__ = [
    "AREA_LABELS",
    "AREA_RANGES",
    "coco_evaluate",
    "CocoEvaluation",
    "IOU_THRESHOLDS",
    "IOU_TYPES",
    "MAX_DETS",
    "RECALL_THRESHOLDS",
    "SUMMARY_KEYS",
]

# The parameters of COCOeval for bbox/segm, built exactly as pycocotools builds them.
IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_THRESHOLDS = COCO_RECALL_THRESHOLDS
MAX_DETS = (1, 10, 100)
AREA_RANGES = ((0**2, 1e5**2), (0**2, 32**2), (32**2, 96**2), (96**2, 1e5**2))
AREA_LABELS = ("all", "small", "medium", "large")
SUMMARY_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
IOU_TYPES = ("bbox", "segm")


@dataclass
class CocoEvaluation:
    """The result of :func:`coco_evaluate`, named as in pycocotools.

    Attributes:
        summary (dict[str, float]): the twelve numbers of ``COCOeval.stats``, keyed
            ``AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl``; -1 where
            no category has ground truth in that setting.
        precision (np.ndarray[T, R, K, A, M]): ``COCOeval.eval['precision']``: interpolated
            precision at IoU threshold ``t``, recall point ``r``, category ``k``, area range
            ``a``, max detections ``m``; -1 for a category without (non-ignored) ground truth.
        recall (np.ndarray[T, K, A, M]): ``COCOeval.eval['recall']``: the final recall; -1 likewise.
        scores (np.ndarray[T, R, K, A, M]): ``COCOeval.eval['scores']``: the score at which each
            recall point is reached (for picking an operating threshold).
        iou_thresholds (np.ndarray[T]), recall_thresholds (np.ndarray[R]): the axes' values.
        category_ids (list[int]): the category id of each ``k`` (sorted ids, as pycocotools).
        area_labels (tuple[str]): ``("all", "small", "medium", "large")``.
        max_dets (tuple[int]): ``(1, 10, 100)``.
    """

    summary: dict
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    category_ids: list
    iou_thresholds: np.ndarray = field(default_factory=lambda: IOU_THRESHOLDS.copy())
    recall_thresholds: np.ndarray = field(default_factory=lambda: RECALL_THRESHOLDS.copy())
    area_labels: tuple = AREA_LABELS
    max_dets: tuple = MAX_DETS

    def per_class_ap(self, iou_threshold: float | None = None, area: str = "all", max_dets: int = 100) -> dict:
        """AP of each category (mean over recall points, and IoU thresholds unless one is given).

        Returns:
            dict[int, float]: category id -> AP; ``nan`` for a category without ground truth.
        """
        check_choice("area", area, AREA_LABELS)
        check_choice("max_dets", max_dets, MAX_DETS)
        p = self.precision[:, :, :, AREA_LABELS.index(area), MAX_DETS.index(max_dets)]  # [T, R, K]
        if iou_threshold is not None:
            t = np.nonzero(np.isclose(self.iou_thresholds, iou_threshold))[0]
            if len(t) == 0:
                raise ValueError(
                    f"iou_threshold must be one of {self.iou_thresholds.round(2).tolist()}, got {iou_threshold}"
                )
            p = p[t]
        out = {}
        for k, category in enumerate(self.category_ids):
            values = p[:, :, k]
            out[category] = float(np.mean(values)) if (values > -1).all() else float("nan")
        return out


def coco_evaluate(gt: dict, results: list, iou_type: str = "bbox", *, iou_thresholds=None) -> CocoEvaluation:
    """COCO's detection metrics, equal to pycocotools' ``COCOeval`` (evaluate, accumulate, summarize).

    Args:
        gt (dict): a COCO ground-truth dict: ``images`` (``id``; ``height`` and
            ``width`` for ``segm``), ``categories`` (``id``) and ``annotations``
            (``id, image_id, category_id, bbox [x, y, w, h], area, iscrowd``, and
            ``segmentation`` for ``segm``: an RLE dict, compressed or not, or polygons).
        results (list[dict]): detections ``{image_id, category_id, score, bbox [x, y, w, h]}``
            (``bbox``) or with ``segmentation`` as an RLE dict (``segm``). An empty
            list is allowed (everything is missed).
        iou_type (str): ``"bbox"`` or ``"segm"``.
        iou_thresholds (sequence of float, optional): other IoU thresholds than COCO's
            ``0.5, 0.55, ..., 0.95`` (pycocotools' ``params.iouThrs``), each in (0, 1]; the
            summary's AP50 / AP75 are -1 when 0.5 / 0.75 are not among them.

    Returns:
        CocoEvaluation: ``summary`` (the 12 numbers), ``precision [T, R, K, A, M]``,
        ``recall [T, K, A, M]``, ``scores``, and the axes.

    Raises:
        ValueError: on malformed input (missing keys, unknown image or category
        ids, duplicate ids, negative widths, NaN scores, masks of the wrong size).
    """
    check_choice("iou_type", iou_type, IOU_TYPES)
    thresholds = IOU_THRESHOLDS if iou_thresholds is None else _check_iou_thresholds(iou_thresholds)
    data = _parse(gt, results, iou_type)
    n_images, n_categories = len(data.image_ids), len(data.category_ids)
    max_det = MAX_DETS[-1]
    T, R, K, A, M = len(thresholds), len(RECALL_THRESHOLDS), n_categories, len(AREA_RANGES), len(MAX_DETS)

    # 1. Group by (category, image); detections best first (stable), capped at 100 per group.
    dt_group = data.dt_category * n_images + data.dt_image  # [D]
    by_score = np.argsort(-data.dt_score, kind="mergesort")
    order = by_score[np.argsort(dt_group[by_score], kind="mergesort")]
    dt_group_sorted = dt_group[order]
    group_start = np.searchsorted(dt_group_sorted, dt_group_sorted, side="left")
    rank = np.arange(len(order)) - group_start  # position within the (category, image) group
    dt = order[rank < max_det]  # indices into the results, in evaluation order
    dt_rank = rank[rank < max_det]
    dt_group = dt_group[dt]

    gt_group_all = data.gt_category * n_images + data.gt_image  # [G]
    gt = np.argsort(gt_group_all, kind="mergesort")  # annotation order within a group
    gt_group = gt_group_all[gt]

    # How many ground truths each detection's group has, and where they start.
    gt_first = np.searchsorted(gt_group, dt_group, side="left")  # [D]
    gt_count = np.searchsorted(gt_group, dt_group, side="right") - gt_first  # [D]

    # A group's detections are contiguous: group g is dt[start[g] : start[g] + size[g]].
    first_of_group = np.nonzero(dt_rank == 0)[0]
    groups = (first_of_group, np.diff(np.append(first_of_group, len(dt))))

    # 2. IoU of every detection with every ground truth of its group, flattened: pair p is
    #    (detection pair_dt[p], ground truth pair_gt[p]); detection i's pairs start at pair_start[i].
    pair_start = np.concatenate(([0], np.cumsum(gt_count)))
    n_pairs = int(pair_start[-1])
    pair_dt = np.repeat(np.arange(len(dt)), gt_count)
    pair_gt = gt_first[pair_dt] + (np.arange(n_pairs) - pair_start[pair_dt])  # position in `gt`
    if iou_type == "bbox":
        pair_iou = _box_iou_coco(data.dt_box[dt[pair_dt]], data.gt_box[gt[pair_gt]], data.gt_crowd[gt[pair_gt]])
    else:
        pair_iou = _segm_pair_ious(data, dt, gt, groups, gt_first, gt_count, pair_start, n_pairs)

    # 3. Greedy matching for all thresholds and area ranges.
    gt_ignore = _gt_ignore(data, gt)  # [A, G] in `gt` order
    matched = _match(groups, gt_first, gt_count, pair_start, pair_iou, data.gt_crowd[gt], gt_ignore, thresholds)
    # matched[i, a, t]: position in `gt` of detection i's match, or -1.
    is_matched = matched >= 0
    if len(gt):
        safe = np.where(is_matched, matched, 0)
        matched_ignored = is_matched & gt_ignore[np.arange(A)[None, :, None], safe]  # [D, A, T]
        # pycocotools stores the matched ground truth's *id* and tests it against 0, so a match to an
        # annotation with id 0 counts as "unmatched" there; kept for equality.
        nonzero_match = is_matched & (data.gt_id[gt][safe] != 0)
    else:
        matched_ignored = nonzero_match = is_matched  # all False: nothing to match
    dt_outside = _outside(data.dt_area[dt])  # [D, A]
    dt_ignored = matched_ignored | (~nonzero_match & dt_outside[:, :, None])
    tp = nonzero_match & ~dt_ignored  # [D, A, T]
    fp = ~nonzero_match & ~dt_ignored

    # 4. Accumulate per category, area range and maxDets.
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    scores = -np.ones((T, R, K, A, M))
    gt_category_sorted = data.gt_category[gt]
    n_regular = np.zeros((K, A), dtype=np.int64)  # ground truth that counts, per category and area
    for a in range(A):
        n_regular[:, a] = np.bincount(gt_category_sorted[~gt_ignore[a]], minlength=K)
    dt_category = data.dt_category[dt]
    dt_score = data.dt_score[dt]
    category_bounds = np.searchsorted(dt_category, np.arange(K + 1))  # detections are grouped by category
    for k in range(K):
        if not n_regular[k].any():
            continue
        lo, hi = category_bounds[k], category_bounds[k + 1]
        ranked = np.argsort(-dt_score[lo:hi], kind="mergesort") + lo  # all images, best first (stable)
        for m, cap in enumerate(MAX_DETS):
            chosen = ranked[dt_rank[ranked] < cap]
            sorted_scores = dt_score[chosen]
            for a in range(A):
                if n_regular[k, a] == 0:
                    continue
                q, rc_last, ss = _precision_at_recall_points(
                    tp[chosen, a].T, fp[chosen, a].T, n_regular[k, a], sorted_scores
                )
                precision[:, :, k, a, m] = q
                recall[:, k, a, m] = rc_last
                scores[:, :, k, a, m] = ss

    summary = _summarize(precision, recall, thresholds)
    return CocoEvaluation(
        summary=summary,
        precision=precision,
        recall=recall,
        scores=scores,
        category_ids=[int(c) for c in data.category_ids],
        iou_thresholds=np.array(thresholds, dtype=np.float64),
    )


def _check_iou_thresholds(values) -> np.ndarray:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
        raise TypeError(f"iou_thresholds must be a non-empty sequence of numbers in (0, 1], got {values!r}")
    for v in values:
        if not _is_number(v) or not 0 < v <= 1:
            raise ValueError(f"iou_thresholds must be numbers in (0, 1], got {v!r}")
    return np.asarray(values, dtype=np.float64).reshape(-1)


# --------------------------------------------------------------------------- input checking


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _ids(name: str, values: list, *, strings: bool = False) -> np.ndarray:
    """Integer ids -> int64 array; a whole float such as ``1.0`` counts as its integer (pycocotools compares
    ids with ``==``). With ``strings``, ids that are all strings are allowed too (a str array). Bools, other
    floats and a mix of strings and numbers are refused."""
    types = set(map(type, values))
    if types <= {int}:  # the common case, checked fast
        return np.asarray(values, dtype=np.int64).reshape(-1)
    if strings and types <= {str}:
        return np.asarray(values, dtype=str).reshape(-1)
    converted = []
    for i, value in enumerate(values):
        if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral) and float(value).is_integer():
            value = int(value)
        if not _is_int(value):
            expected = "integers (or all strings)" if strings else "integers"
            raise ValueError(f"{name} must be {expected}; entry {i} is {value!r}")
        converted.append(value)
    return np.asarray(converted, dtype=np.int64).reshape(-1)


def _field(name: str, records: list, key: str) -> list:
    """``[r[key] for r in records]`` with a message naming the first record that lacks it."""
    try:
        return [r[key] for r in records]
    except (KeyError, TypeError):
        for i, r in enumerate(records):
            if not isinstance(r, dict):
                raise ValueError(f"{name}[{i}] must be a dict, got {type(r).__name__}") from None
            if key not in r:
                raise ValueError(f"{name}[{i}] has no {key!r} key") from None
        raise


def _boxes(name: str, values: list) -> np.ndarray:
    """COCO boxes ``[x, y, w, h]`` -> float64 array [N, 4], finite with ``w, h >= 0``."""
    try:
        boxes = np.asarray(values, dtype=np.float64).reshape(len(values), -1) if values else np.zeros((0, 4))
    except (TypeError, ValueError):
        boxes = None
    if boxes is None or boxes.shape[1] != 4:
        for i, box in enumerate(values):
            if not isinstance(box, (list, tuple, np.ndarray)) or len(box) != 4 or not all(_is_number(v) for v in box):
                raise ValueError(f"{name}[{i}]['bbox'] must be [x, y, width, height] (4 numbers), got {box!r}")
        raise ValueError(f"{name} boxes must be [x, y, width, height]")
    bad = ~np.isfinite(boxes).all(axis=1)
    if bad.any():
        i = int(np.nonzero(bad)[0][0])
        raise ValueError(f"{name}[{i}]['bbox'] must be finite, got {values[i]!r}")
    bad = (boxes[:, 2] < 0) | (boxes[:, 3] < 0)
    if bad.any():
        i = int(np.nonzero(bad)[0][0])
        raise ValueError(f"{name}[{i}]['bbox'] must have width >= 0 and height >= 0, got {values[i]!r}")
    return boxes


def _index_of(name: str, ids: np.ndarray, known: np.ndarray, what: str) -> np.ndarray:
    """Positions of ``ids`` in the sorted array ``known``; every id must be there."""
    if len(ids) and len(known) and (ids.dtype.kind == "U") != (known.dtype.kind == "U"):  # strings vs numbers
        raise ValueError(f"{name}[0] refers to unknown {what} {ids[0].item()!r}")
    pos = np.searchsorted(known, ids)
    pos_clipped = np.minimum(pos, max(len(known) - 1, 0))
    found = (pos < len(known)) & (known[pos_clipped] == ids) if len(known) else np.zeros(len(ids), bool)
    if not found.all():
        i = int(np.nonzero(~found)[0][0])
        raise ValueError(f"{name}[{i}] refers to unknown {what} {ids[i].item()!r}")
    return pos


def _unique_ids(name: str, ids: np.ndarray) -> None:
    values, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise ValueError(
            f"{name} must be unique; id {values[counts > 1][0].item()!r} appears {int(counts.max())} times"
        )


@dataclass
class _Parsed:
    """Ground truth and detections as flat arrays (one row per annotation / result)."""

    image_ids: np.ndarray  # [I] sorted
    category_ids: np.ndarray  # [K] sorted
    image_sizes: dict  # image index -> (h, w), for segm
    # ground truth [G]
    gt_image: np.ndarray
    gt_category: np.ndarray
    gt_id: np.ndarray
    gt_box: np.ndarray  # [G, 4] xywh
    gt_area: np.ndarray
    gt_crowd: np.ndarray
    gt_segm: list
    # detections [D]
    dt_image: np.ndarray
    dt_category: np.ndarray
    dt_score: np.ndarray
    dt_box: np.ndarray  # [D, 4] xywh (bbox) or None (segm without boxes)
    dt_area: np.ndarray
    dt_segm: list


def _parse(gt, results, iou_type: str) -> _Parsed:
    check_type("gt", gt, dict, "a COCO ground-truth dict (images, annotations, categories)")
    for key in ("images", "annotations", "categories"):
        if key not in gt:
            raise ValueError(f"gt has no {key!r} key (a COCO ground-truth dict has images, annotations, categories)")
        if not isinstance(gt[key], list):
            raise ValueError(f"gt[{key!r}] must be a list, got {type(gt[key]).__name__}")
    check_type("results", results, list, "a list of COCO result dicts")

    images = gt["images"]
    image_ids = _ids("gt['images'] ids", _field("gt['images']", images, "id"), strings=True)
    _unique_ids("gt['images'] ids", image_ids)
    category_ids = _ids("gt['categories'] ids", _field("gt['categories']", gt["categories"], "id"))
    _unique_ids("gt['categories'] ids", category_ids)
    image_order = np.argsort(image_ids, kind="stable")
    sorted_images = image_ids[image_order]
    sorted_categories = np.sort(category_ids)

    image_sizes = {}
    if iou_type == "segm":
        for position, i in enumerate(image_order):
            image = images[i]
            for key in ("height", "width"):
                if key not in image:
                    raise ValueError(f"gt['images'][{i}] has no {key!r} key (needed to decode masks)")
                if not _is_int(image[key]) or image[key] < 1:
                    raise ValueError(f"gt['images'][{i}][{key!r}] must be a positive integer, got {image[key]!r}")
            image_sizes[position] = (int(image["height"]), int(image["width"]))

    # Ground truth.
    anns = gt["annotations"]
    name = "gt['annotations']"
    gt_id = _ids(f"{name} ids", _field(name, anns, "id"))
    _unique_ids(f"{name} ids", gt_id)
    gt_image = _index_of(
        f"{name} image_id",
        _ids(f"{name} image_id", _field(name, anns, "image_id"), strings=True),
        sorted_images,
        "image id",
    )
    gt_category = _index_of(
        f"{name} category_id",
        _ids(f"{name} category_id", _field(name, anns, "category_id")),
        sorted_categories,
        "category id",
    )
    gt_box = _boxes(name, _field(name, anns, "bbox"))
    areas = _field(name, anns, "area")
    for i, a in enumerate(areas):
        if not _is_number(a) or not np.isfinite(a) or a < 0:
            raise ValueError(f"{name}[{i}]['area'] must be a finite number >= 0, got {a!r}")
    gt_area = np.asarray(areas, dtype=np.float64).reshape(-1)
    crowds = _field(name, anns, "iscrowd")
    for i, c in enumerate(crowds):
        if c not in (0, 1) or not isinstance(c, (numbers.Integral, bool)):
            raise ValueError(f"{name}[{i}]['iscrowd'] must be 0 or 1, got {c!r}")
    gt_crowd = np.asarray(crowds, dtype=bool).reshape(-1)
    gt_segm = []
    if iou_type == "segm":
        for i, segmentation in enumerate(_field(name, anns, "segmentation")):
            gt_segm.append(_check_segmentation(f"{name}[{i}]['segmentation']", segmentation, image_sizes[gt_image[i]]))

    # Detections.
    name = "results"
    for i, r in enumerate(results):
        if not isinstance(r, dict):
            raise ValueError(f"results[{i}] must be a dict, got {type(r).__name__}")
    dt_image = _index_of(
        f"{name} image_id",
        _ids(f"{name} image_id", _field(name, results, "image_id"), strings=True),
        sorted_images,
        "image id",
    )
    dt_category = _index_of(
        f"{name} category_id",
        _ids(f"{name} category_id", _field(name, results, "category_id")),
        sorted_categories,
        "category id",
    )
    scores = _field(name, results, "score")
    try:
        dt_score = np.asarray(scores, dtype=np.float64).reshape(len(scores))
        if any(isinstance(s, (bool, str, bytes)) for s in scores):
            raise TypeError
    except (TypeError, ValueError):
        i = next(i for i, s in enumerate(scores) if not _is_number(s))
        raise ValueError(f"results[{i}]['score'] must be a number, got {scores[i]!r}") from None
    if np.isnan(dt_score).any():
        raise ValueError(f"results[{int(np.nonzero(np.isnan(dt_score))[0][0])}]['score'] is NaN")
    dt_segm = []
    if iou_type == "bbox":
        dt_box = _boxes(name, _field(name, results, "bbox"))
        dt_area = dt_box[:, 2] * dt_box[:, 3]  # pycocotools' loadRes: the box's area
    else:
        # loadRes: the first result decides whether areas come from boxes or masks; with boxes, a result
        # without a segmentation gets its box as a polygon.
        with_boxes = bool(results) and "bbox" in results[0] and not results[0]["bbox"] == []
        if with_boxes:
            dt_box = _boxes(name, _field(name, results, "bbox"))
            dt_area = dt_box[:, 2] * dt_box[:, 3]
        segmentations = [
            r["segmentation"] if "segmentation" in r else _box_polygon(dt_box[i]) if with_boxes else None
            for i, r in enumerate(results)
        ]
        for i, segmentation in enumerate(segmentations):
            if segmentation is None:
                raise ValueError(f"results[{i}] has no 'segmentation' key")
            dt_segm.append(_check_segmentation(f"results[{i}]['segmentation']", segmentation, image_sizes[dt_image[i]]))
        if not with_boxes:
            dt_box = None
            dt_area = np.asarray([_segmentation_area(s) for s in dt_segm], dtype=np.float64).reshape(-1)
    return _Parsed(
        image_ids=sorted_images,
        category_ids=sorted_categories,
        image_sizes=image_sizes,
        gt_image=gt_image,
        gt_category=gt_category,
        gt_id=gt_id,
        gt_box=gt_box,
        gt_area=gt_area,
        gt_crowd=gt_crowd,
        gt_segm=gt_segm,
        dt_image=dt_image,
        dt_category=dt_category,
        dt_score=dt_score,
        dt_box=dt_box,
        dt_area=dt_area,
        dt_segm=dt_segm,
    )


def _check_segmentation(name: str, segmentation, size: tuple[int, int]):
    """An RLE dict (either form) or a list of polygons, of the image's size."""
    h, w = size
    if isinstance(segmentation, list):
        if not segmentation:
            raise ValueError(f"{name} must be an RLE dict or a non-empty list of polygons")
        for j, polygon in enumerate(segmentation):
            if (
                not isinstance(polygon, (list, tuple))
                or len(polygon) < 6
                or len(polygon) % 2
                or not all(_is_number(v) and np.isfinite(v) for v in polygon)
            ):
                shown = repr(polygon)[:200]
                raise ValueError(
                    f"{name}[{j}] must be a polygon [x1, y1, x2, y2, x3, y3, ...] "
                    f"(an even count, at least 3 points), got {shown}"
                )
        return ("polygons", segmentation, h, w)
    counts, rh, rw = rle_counts(segmentation, name)
    if (rh, rw) != (h, w):
        raise ValueError(f"{name}['size'] must be the image's [height, width] = [{h}, {w}], got [{rh}, {rw}]")
    return ("counts", counts, h, w)


def _box_polygon(box: np.ndarray) -> list:
    """pycocotools' loadRes: a result's ``[x, y, w, h]`` as the polygon ``[[x1, y1, x1, y2, x2, y2, x2, y1]]``."""
    x, y, w, h = (float(v) for v in box)
    x1, x2, y1, y2 = x, x + w, y, y + h
    return [[x1, y1, x1, y2, x2, y2, x2, y1]]


def _segmentation_area(checked) -> int:
    kind, data, h, w = checked
    if kind == "counts":
        return int(data[1::2].sum())
    return int(polygons_to_mask(data, h, w).sum())


def _flat_mask(checked) -> np.ndarray:
    """The mask as a flat column-major bool vector [h * w]."""
    kind, data, h, w = checked
    if kind == "counts":
        return np.repeat((np.arange(len(data)) % 2).astype(bool), data)
    return polygons_to_mask(data, h, w).T.reshape(-1).astype(bool)


# --------------------------------------------------------------------------- IoU


def _box_iou_coco(dt: np.ndarray, gt: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """pycocotools' ``bbIou`` for matching rows: ``dt[i]`` with ``gt[i]`` ([P, 4] xywh each) -> [P].

    The same floating-point operations in the same order as the C code, so the
    IoUs agree bit for bit (a match at exactly IoU = 0.5 stays a match).
    """
    dt_area = dt[:, 2] * dt[:, 3]
    gt_area = gt[:, 2] * gt[:, 3]
    w = np.minimum(dt[:, 2] + dt[:, 0], gt[:, 2] + gt[:, 0]) - np.maximum(dt[:, 0], gt[:, 0])
    h = np.minimum(dt[:, 3] + dt[:, 1], gt[:, 3] + gt[:, 1]) - np.maximum(dt[:, 1], gt[:, 1])
    overlap = (w > 0) & (h > 0)
    inter = w * h
    union = np.where(crowd, dt_area, dt_area + gt_area - inter)
    iou = np.zeros(len(dt))
    iou[overlap] = inter[overlap] / union[overlap]
    return iou


def _mask_iou(dt_masks: np.ndarray, gt_masks: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """pycocotools' ``rleIou``: [D, P] and [G, P] flat bool masks -> IoU [D, G].

    ``intersection / union``, or ``intersection / area(detection)`` for a crowd;
    0 where the masks do not intersect. Pixel counts are exact integers.
    """
    dt_area = dt_masks.sum(axis=1).astype(np.float64)
    gt_area = gt_masks.sum(axis=1).astype(np.float64)
    inter = dt_masks.astype(np.float32) @ gt_masks.astype(np.float32).T  # exact up to 2**24 pixels
    inter = np.rint(inter).astype(np.float64)
    union = np.where(crowd[None, :], dt_area[:, None], dt_area[:, None] + gt_area[None, :] - inter)
    iou = np.zeros(inter.shape)
    hit = inter > 0
    iou[hit] = inter[hit] / union[hit]
    return iou


# --------------------------------------------------------------------------- evaluation


def _gt_ignore(data: _Parsed, gt: np.ndarray) -> np.ndarray:
    """[A, G]: crowds, and ground truth whose ``area`` is outside the range, are ignored."""
    return data.gt_crowd[gt][None, :] | _outside(data.gt_area[gt]).T


def _outside(area: np.ndarray) -> np.ndarray:
    """[N, A]: the area lies outside each area range (the ranges include their ends)."""
    lo = np.array([r[0] for r in AREA_RANGES], dtype=np.float64)
    hi = np.array([r[1] for r in AREA_RANGES], dtype=np.float64)
    return (area[:, None] < lo[None, :]) | (area[:, None] > hi[None, :])


def _segm_pair_ious(data, dt, gt, groups, gt_first, gt_count, pair_start, n_pairs) -> np.ndarray:
    """Mask IoUs in the flat pair layout: each group's [D_g, G_g] block is contiguous."""
    pair_iou = np.zeros(n_pairs)
    for start, size in zip(*groups):
        g0, g = gt_first[start], gt_count[start]
        if g == 0:
            continue
        dt_masks = np.stack([_flat_mask(data.dt_segm[d]) for d in dt[start : start + size]])  # [D_g, h*w]
        gt_masks = np.stack([_flat_mask(data.gt_segm[x]) for x in gt[g0 : g0 + g]])  # [G_g, h*w]
        block = _mask_iou(dt_masks, gt_masks, data.gt_crowd[gt[g0 : g0 + g]])  # [D_g, G_g]
        pair_iou[pair_start[start] : pair_start[start + size]] = block.reshape(-1)
    return pair_iou


def _match(groups, gt_first, gt_count, pair_start, pair_iou, gt_crowd, gt_ignore, iou_thresholds) -> np.ndarray:
    """COCOeval.evaluateImg's greedy matching for every group, threshold and area range at once.

    Returns:
        np.ndarray[D, A, T]: int64, the position (in the sorted ground truth) of
        each detection's match, -1 if none.
    """
    A, T = gt_ignore.shape[0], len(iou_thresholds)
    thresholds = np.minimum(iou_thresholds, 1 - 1e-10)  # as pycocotools: IoU 1 can match at t = 1
    matched = np.full((len(gt_first), A, T), -1, dtype=np.int64)
    # Groups with both detections and ground truth.
    group_start, group_size = groups
    with_gt = gt_count[group_start] > 0
    starts, n_dets = group_start[with_gt], group_size[with_gt]
    if len(starts) == 0:
        return matched
    n_gts = gt_count[starts]
    # Bucket the groups by ground-truth count (padded to a power of two) to keep the arrays small.
    padded = 2 ** np.ceil(np.log2(n_gts)).astype(np.int64)
    for width in np.unique(padded):
        bucket = np.nonzero(padded == width)[0]
        bucket = bucket[np.argsort(-n_dets[bucket], kind="stable")]  # most detections first
        first_dt, dets, gts, first_gt = starts[bucket], n_dets[bucket], n_gts[bucket], gt_first[starts[bucket]]
        columns = np.arange(width)
        valid = columns[None, :] < gts[:, None]  # [n, W] real ground truth, not padding
        gt_index = np.where(valid, first_gt[:, None] + columns[None, :], 0)  # [n, W] positions in `gt`
        crowd = gt_crowd[gt_index] & valid  # [n, W]
        ignore = gt_ignore[:, gt_index].transpose(1, 0, 2)  # [n, A, W]
        taken = np.zeros((len(bucket), A, T, width), dtype=bool)
        for r in range(int(dets.max())):
            n = int(np.searchsorted(-dets, -r, side="left"))  # groups with more than r detections
            det = first_dt[:n] + r  # [n]
            cols = np.minimum(columns[None, :], gts[:n, None] - 1)
            iou = pair_iou[pair_start[det][:, None] + cols]  # [n, W]
            iou = np.where(valid[:n], iou, -np.inf)[:, None, None, :]  # [n, 1, 1, W]
            free = valid[:n, None, None, :] & (~taken[:n] | crowd[:n, None, None, :])  # [n, A, T, W]
            candidate = free & (iou >= thresholds[None, None, :, None])
            ign = ignore[:n, :, None, :]  # [n, A, 1, W]
            # Regular ground truth first; ignored ground truth only if no regular one qualifies.
            has_regular = (candidate & ~ign).any(axis=-1, keepdims=True)  # [n, A, T, 1]
            pick = _last_best(candidate & (ign != has_regular), iou)  # [n, A, T]
            g, a, t = np.nonzero(pick >= 0)
            taken[g, a, t, pick[g, a, t]] = True
            matched[det] = np.where(pick >= 0, first_gt[:n, None, None] + pick, -1)
    return matched


def _last_best(candidate: np.ndarray, iou: np.ndarray) -> np.ndarray:
    """Index of the candidate with the highest IoU, the *last* one on ties (-1 if none) -> [n, A, T].

    pycocotools replaces its best match whenever ``iou >= best so far``, so among
    equal IoUs the last ground truth wins.
    """
    width = candidate.shape[-1]
    values = np.where(candidate, iou, -np.inf)
    best = values.max(axis=-1, keepdims=True)
    at_best = candidate & (values == best)
    last = width - 1 - np.argmax(at_best[..., ::-1], axis=-1)
    return np.where(at_best.any(axis=-1), last, -1)


def _precision_at_recall_points(tps, fps, n_regular, sorted_scores):
    """COCOeval.accumulate for one category, area range and maxDets.

    Args:
        tps, fps (np.ndarray[T, D]): TP/FP flags of the ranked detections per IoU threshold.
        n_regular (int): ground truth that counts.
        sorted_scores (np.ndarray[D]): the ranked detections' scores.

    Returns:
        (precision [T, R], final recall [T], score at each recall point [T, R]).
    """
    tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
    fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
    n_det = tp_sum.shape[1]
    rc = tp_sum / n_regular
    pr = tp_sum / (fp_sum + tp_sum + np.spacing(1))
    final_recall = rc[:, -1] if n_det else np.zeros(len(tps))
    if n_det:
        pr = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]  # make precision non-increasing
    q = np.zeros((len(tps), len(RECALL_THRESHOLDS)))
    ss = np.zeros((len(tps), len(RECALL_THRESHOLDS)))
    for t in range(len(tps)):
        index = np.searchsorted(rc[t], RECALL_THRESHOLDS, side="left")
        reached = index < n_det
        q[t, reached] = pr[t, index[reached]]
        ss[t, reached] = sorted_scores[index[reached]]
    return q, final_recall, ss


def _summarize(precision: np.ndarray, recall: np.ndarray, iou_thresholds: np.ndarray = IOU_THRESHOLDS) -> dict:
    """COCOeval.summarize's twelve numbers (without printing)."""

    def mean(ap: bool, iou=None, area="all", max_dets=100) -> float:
        a, m = AREA_LABELS.index(area), MAX_DETS.index(max_dets)
        s = precision if ap else recall
        if iou is not None:
            s = s[np.where(iou == iou_thresholds)[0]]
        s = s[:, :, :, a, m] if ap else s[:, :, a, m]
        return float(np.mean(s[s > -1])) if (s > -1).any() else -1.0

    values = [
        mean(True),
        mean(True, iou=0.5),
        mean(True, iou=0.75),
        mean(True, area="small"),
        mean(True, area="medium"),
        mean(True, area="large"),
        mean(False, max_dets=1),
        mean(False, max_dets=10),
        mean(False),
        mean(False, area="small"),
        mean(False, area="medium"),
        mean(False, area="large"),
    ]
    return dict(zip(SUMMARY_KEYS, values))
