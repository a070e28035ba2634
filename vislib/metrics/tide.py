"""Why is AP low? Detection error analysis: TIDE's error types and COCO's ``analyze()`` curves.

**TIDE** (Bolya et al., ECCV 2020, arXiv 2008.08115) gives every false positive
and every missed object one error type, with a foreground IoU ``t_f = 0.5`` and
a background IoU ``t_b = 0.1``. Detections are matched per image, best score
first, to the free ground truth of their class with the highest IoU ``>= t_f``
(at most ``max_dets`` per image); what is not matched is an error, tested in
this order (``IoU_cls``: the highest IoU with ground truth of the detection's
class, matched or not; ``IoU_other``: with ground truth of other classes):

* **Loc** (localization): ``t_b <= IoU_cls <= t_f``: the right class, a poor box.
* **Cls** (classification): ``IoU_other >= t_f``: a good box, the wrong class.
* **Dupe** (duplicate): ``IoU >= t_f`` with ground truth of its class that a
  higher-scoring detection already matched.
* **Bkg** (background): ``IoU <= t_b`` with every object (or no object in the image).
* **Both**: none of the above (wrong class *and* poor box, ``t_b < IoU < t_f``).
* **Miss**: ground truth that no detection matched, and that is not the target
  of a Cls or Loc error (those errors already account for it).

**ΔAP by oracle.** Each type's oracle fixes its errors and AP is computed again
(with :func:`vislib.metrics.coco.coco_evaluate`, at IoU ``t_f``): a Cls error
is relabelled to its object's class, a Loc error gets its object's box (only
the highest-scoring Cls or Loc error of an object is fixed; the others are
removed, as one object can be found once), Dupe, Bkg and Both errors are
removed, and missed objects are removed from the ground truth. ``ΔAP`` is the
AP gained (clipped at 0, as TIDE does: a small negative gain only comes from
the 101-point sampling). Two special oracles: **FalsePos** removes every false
positive, **FalseNeg** every unmatched object.

Differences from the ``tidecv`` package (1.0.1), tested in ``tests/test_tide.py``:

* AP is COCO's: classes without ground truth are left out of the mean;
  ``tidecv`` counts a class with detections but no ground truth as AP 0.
* A detection ignored by a crowd region (``iscrowd = 1``, intersection over the
  detection's area ``> t_f``, same class) is ignored: no error. ``tidecv`` still
  gives it an error type, whose oracle can then add a true positive that was
  never a false positive.

**COCO's analyze()** (Hoiem et al., ECCV 2012, as ``CocoEval.m`` computes it;
never in pycocotools' Python API): seven PR curves per class, each a
re-evaluation with changed parameters and relabelled data:
C75 and C50 (IoU 0.75 and 0.5), Loc (IoU 0.1), Sim (confusions with classes of
the same supercategory ignored), Oth (all class confusions ignored), BG
(perfect precision up to Oth's recall) and FN (precision 1 everywhere).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from vislib._validation import check_int, check_number, check_type
from vislib.metrics.coco import AREA_LABELS, RECALL_THRESHOLDS, _parse, coco_evaluate

__all__ = [
    "ANALYZE_CURVES",
    "coco_analyze",
    "CocoAnalysis",
    "ERROR_NAMES",
    "ERROR_TYPES",
    "oracle_combinations",
    "SPECIAL_ERROR_TYPES",
    "tide_errors",
    "TideErrors",
]

ERROR_TYPES = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
SPECIAL_ERROR_TYPES = ("FalsePos", "FalseNeg")
ERROR_NAMES = {
    "Cls": "classification",
    "Loc": "localization",
    "Both": "both (class and box)",
    "Dupe": "duplicate",
    "Bkg": "background",
    "Miss": "missed",
    "FalsePos": "all false positives",
    "FalseNeg": "all false negatives",
}
ANALYZE_CURVES = ("C75", "C50", "Loc", "Sim", "Oth", "BG", "FN")
# Marks ground truth that analyze() ignores: an area outside every COCO area range.
_IGNORED_AREA = 1e11


@dataclass
class TideErrors:
    """The result of :func:`tide_errors`.

    Attributes:
        detection_types (list[str]): per result (in the order of ``results``): ``"TP"``, one of
            ``ERROR_TYPES`` but ``"Miss"``, ``"ignored"`` (inside a crowd region) or
            ``"capped"`` (beyond ``max_dets`` in its image: not evaluated).
        detection_targets (list[int | None]): the ground truth's annotation id a detection was
            matched to (TP) or that its Cls / Loc / Dupe error refers to; else None.
        missed (list[int]): annotation ids of the missed ground truth.
        unmatched (list[int]): annotation ids of all ground truth no detection matched.
        counts (dict[str, int]): errors per type.
        ap (float): AP at IoU ``pos_threshold`` (mean over classes with ground truth).
        delta_ap (dict[str, float]): AP gained by each oracle (``ERROR_TYPES`` and
            ``SPECIAL_ERROR_TYPES``), clipped at 0.
        pos_threshold, bg_threshold (float): the IoU thresholds.
    """

    detection_types: list
    detection_targets: list
    missed: list
    unmatched: list
    counts: dict
    ap: float
    delta_ap: dict
    pos_threshold: float
    bg_threshold: float
    gt: dict = field(repr=False)
    results: list = field(repr=False)
    fix_chosen: set = field(default_factory=set, repr=False)  # the Cls / Loc errors an oracle fixes
    iou_type: str = "bbox"

    def fixed(self, error_types) -> tuple[dict, list]:
        """Ground truth and results with the oracles of ``error_types`` applied (see the module)."""
        return _apply_oracles(self, _check_error_types(error_types))

    def evaluate_fixed(self, error_types):
        """:func:`coco_evaluate` at IoU ``pos_threshold`` after fixing ``error_types``."""
        gt, results = self.fixed(error_types)
        return coco_evaluate(gt, results, self.iou_type, iou_thresholds=[self.pos_threshold])


def tide_errors(
    gt: dict,
    results: list,
    pos_threshold: float = 0.5,
    bg_threshold: float = 0.1,
    max_dets: int = 100,
) -> TideErrors:
    """TIDE's error types of every detection and object, and ΔAP of each type by its oracle.

    Args:
        gt (dict): a COCO ground-truth dict (as :func:`vislib.metrics.coco.coco_evaluate`).
        results (list[dict]): COCO box results ``{image_id, category_id, score, bbox [x, y, w, h]}``.
        pos_threshold (float): foreground IoU ``t_f`` in (0, 1): a match, and the IoU of the AP.
        bg_threshold (float): background IoU ``t_b`` in (0, 1), at most ``pos_threshold``.
        max_dets (int): detections kept per image (best scores), as TIDE's ``max_dets``.

    Returns:
        TideErrors: per-detection types, missed objects, counts, AP and ΔAP per type.

    Raises:
        TypeError, ValueError: malformed dicts, unknown ids, thresholds outside (0, 1).
    """
    pos = check_number("pos_threshold", pos_threshold, min_value=0, max_value=1)
    bg = check_number("bg_threshold", bg_threshold, min_value=0, max_value=1)
    if not 0 < pos < 1:
        raise ValueError(f"pos_threshold must be in (0, 1), got {pos_threshold!r}")
    if not 0 < bg < 1:
        raise ValueError(f"bg_threshold must be in (0, 1), got {bg_threshold!r}")
    if bg > pos:
        raise ValueError(f"bg_threshold ({bg}) must not exceed pos_threshold ({pos})")
    max_dets = check_int("max_dets", max_dets, min_value=1)
    data = _parse(gt, results, "bbox")

    types = ["capped"] * len(results)
    targets = [None] * len(results)
    gt_used = np.zeros(len(data.gt_id), dtype=bool)
    gt_usable = np.zeros(len(data.gt_id), dtype=bool)  # the target of a Cls or Loc error
    best_fix = {}  # gt index -> (score, result index) of its highest-scoring Cls / Loc error
    gt_by_image = _group(data.gt_image, len(data.image_ids))
    dt_by_image = _group(data.dt_image, len(data.image_ids))
    for image in range(len(data.image_ids)):
        dts = dt_by_image[image]
        dts = dts[np.argsort(-data.dt_score[dts], kind="stable")][:max_dets]
        if len(dts) == 0:
            continue
        all_gts = gt_by_image[image]
        gts = all_gts[~data.gt_crowd[all_gts]]
        crowds = all_gts[data.gt_crowd[all_gts]]
        iou = _iou_matrix(data.dt_box[dts], data.gt_box[gts])  # [D, G]
        same = data.dt_category[dts][:, None] == data.gt_category[gts][None, :]
        cls_iou = iou * same
        # Matching: best score first, the free object of its class with the highest IoU >= t_f.
        free = cls_iou.copy()
        matched = np.full(len(dts), -1)
        for i in range(len(dts)):
            if len(gts) == 0:
                break
            j = int(np.argmax(free[i]))
            if free[i, j] >= pos:
                matched[i] = j
                free[:, j] = 0
                gt_used[gts[j]] = True
        used_cls_iou = cls_iou * gt_used[gts][None, :]
        other_iou = iou * ~same
        if len(crowds):
            crowd_iou = _crowd_iou(data.dt_box[dts], data.gt_box[crowds])
            crowd_same = data.dt_category[dts][:, None] == data.gt_category[crowds][None, :]
            in_crowd = ((crowd_iou > pos) & crowd_same).any(axis=1)
        else:
            in_crowd = np.zeros(len(dts), dtype=bool)
        for i, d in enumerate(dts):
            if matched[i] >= 0:
                types[d], targets[d] = "TP", int(data.gt_id[gts[matched[i]]])
                continue
            if in_crowd[i]:
                types[d] = "ignored"
                continue
            kind, target = _error_type(i, len(gts), cls_iou, other_iou, used_cls_iou, iou, pos, bg)
            types[d] = kind
            if target is not None:
                g = gts[target]
                targets[d] = int(data.gt_id[g])
                if kind in ("Cls", "Loc") and not gt_used[g]:
                    gt_usable[g] = True
                    if g not in best_fix or best_fix[g][0] < data.dt_score[d]:
                        best_fix[g] = (data.dt_score[d], d)
    regular = ~data.gt_crowd
    missed = [int(i) for i in data.gt_id[regular & ~gt_used & ~gt_usable]]
    unmatched = [int(i) for i in data.gt_id[regular & ~gt_used]]
    counts = {t: types.count(t) for t in ERROR_TYPES if t != "Miss"}
    counts["Miss"] = len(missed)
    errors = TideErrors(
        detection_types=types,
        detection_targets=targets,
        missed=missed,
        unmatched=unmatched,
        counts={t: counts[t] for t in ERROR_TYPES},
        ap=0.0,
        delta_ap={},
        pos_threshold=pos,
        bg_threshold=bg,
        gt=gt,
        results=results,
    )
    errors.fix_chosen = {d for _, d in best_fix.values()}
    errors.ap = _mean_ap(errors.evaluate_fixed(()))
    errors.delta_ap = {
        t: max(_mean_ap(errors.evaluate_fixed((t,))) - errors.ap, 0.0) for t in ERROR_TYPES + SPECIAL_ERROR_TYPES
    }
    return errors


def oracle_combinations(errors: TideErrors) -> dict:
    """AP and the pooled PR curve for every subset of ``ERROR_TYPES`` fixed (2^6 = 64 evaluations).

    Returns:
        dict[frozenset[str], tuple[float, np.ndarray[R]]]: fixed types -> (AP at IoU
        ``pos_threshold``, precision at the 101 recall points averaged over classes).
    """
    check_type("errors", errors, TideErrors, "a TideErrors from tide_errors")
    out = {}
    for n in range(len(ERROR_TYPES) + 1):
        for subset in itertools.combinations(ERROR_TYPES, n):
            evaluation = errors.evaluate_fixed(subset)
            out[frozenset(subset)] = (_mean_ap(evaluation), _mean_curve(evaluation))
    return out


@dataclass
class CocoAnalysis:
    """The result of :func:`coco_analyze`: CocoEval.m's seven PR curves.

    Attributes:
        precision (np.ndarray[7, R, K, A]): precision at the 101 recall points of each curve
            (``ANALYZE_CURVES``), class ``k`` and area range ``a`` (0 where a class has no
            ground truth in the range, as CocoEval.m sets -1 to 0).
        curves (tuple[str]): ``("C75", "C50", "Loc", "Sim", "Oth", "BG", "FN")``.
        category_ids (list[int]), supercategories (dict[int, str]), recall_thresholds, area_labels.
    """

    precision: np.ndarray
    category_ids: list
    supercategories: dict
    curves: tuple = ANALYZE_CURVES
    recall_thresholds: np.ndarray = field(default_factory=lambda: RECALL_THRESHOLDS.copy())
    area_labels: tuple = AREA_LABELS

    def ap(self, area: str = "all") -> dict:
        """The area under each curve, averaged over classes -> dict curve name -> AP."""
        a = self.area_labels.index(area) if area in self.area_labels else _bad_area(area)
        return {name: float(self.precision[i, :, :, a].mean()) for i, name in enumerate(self.curves)}

    def mean_curves(self, area: str = "all") -> np.ndarray:
        """[7, R]: each curve averaged over classes (CocoEval.m's ``overall-all`` plot)."""
        a = self.area_labels.index(area) if area in self.area_labels else _bad_area(area)
        return self.precision[:, :, :, a].mean(axis=2)


def coco_analyze(gt: dict, results: list, supercategories: dict | None = None) -> CocoAnalysis:
    """COCO's ``analyze()`` PR curves (C75, C50, Loc, Sim, Oth, BG, FN), computed as ``CocoEval.m`` does.

    For every class ``k``: C75, C50 and Loc are COCO's precision at IoU 0.75, 0.5 and
    0.1; then only class ``k``'s detections are evaluated at IoU 0.1 without classes
    (``useCats = 0``), against class ``k``'s objects plus, *ignored*, the other
    objects of its supercategory (Sim) or all other objects (Oth): a detection on an
    ignored object is neither right nor wrong. BG is 1 where Oth is above 0, FN is 1.

    Args:
        gt (dict): a COCO ground-truth dict; categories need a ``name``.
        results (list[dict]): COCO box results.
        supercategories (dict, optional): category name (or id) -> supercategory name, for
            every category; default each category's ``supercategory`` field.

    Returns:
        CocoAnalysis: ``precision [7, R, K, A]`` and per-curve AP.
    """
    _parse(gt, results, "bbox")  # validates everything first
    categories = sorted(gt["categories"], key=lambda c: c["id"])
    supers = _supercategory_map(categories, supercategories)
    ids = [int(c["id"]) for c in categories]
    K, R, A = len(ids), len(RECALL_THRESHOLDS), len(AREA_LABELS)
    precision = np.zeros((len(ANALYZE_CURVES), R, K, A))
    strict = coco_evaluate(gt, results, "bbox", iou_thresholds=[0.75, 0.5, 0.1])
    precision[0:3] = strict.precision[:, :, :, :, -1]  # maxDets 100
    for curve, same_group in ((3, lambda k, c: supers[c] == supers[k]), (4, lambda k, c: True)):
        virtual_gt, virtual_results = _one_class_problems(gt, results, ids, same_group)
        evaluation = coco_evaluate(virtual_gt, virtual_results, "bbox", iou_thresholds=[0.1])
        precision[curve] = evaluation.precision[0, :, :, :, -1]
    precision[precision == -1] = 0
    precision[5] = precision[4] > 0
    precision[6] = 1
    return CocoAnalysis(precision=precision, category_ids=ids, supercategories=supers)


# --------------------------------------------------------------------------- helpers


def _error_type(i, n_gt, cls_iou, other_iou, used_cls_iou, iou, pos, bg):
    """TIDE's tests, in its order -> (type, index of the object it refers to or None)."""
    if n_gt == 0:
        return "Bkg", None
    j = int(np.argmax(cls_iou[i]))
    if bg <= cls_iou[i, j] <= pos:
        return "Loc", j
    j = int(np.argmax(other_iou[i]))
    if other_iou[i, j] >= pos:
        return "Cls", j
    j = int(np.argmax(used_cls_iou[i]))
    if used_cls_iou[i, j] >= pos:
        return "Dupe", j
    if iou[i].max() <= bg:
        return "Bkg", None
    return "Both", None


def _apply_oracles(errors: TideErrors, fix: set) -> tuple[dict, list]:
    gt, results = errors.gt, errors.results
    boxes = {a["id"]: a for a in gt["annotations"]}
    special_fp, special_fn = "FalsePos" in fix, "FalseNeg" in fix
    out = []
    for d, (r, kind, target) in enumerate(zip(results, errors.detection_types, errors.detection_targets)):
        if kind in ("TP", "ignored", "capped"):
            out.append(r)
        elif special_fp:
            continue
        elif kind in fix and kind in ("Cls", "Loc"):
            if d in errors.fix_chosen and target is not None:
                obj = boxes[target]
                if kind == "Cls":
                    out.append({**r, "category_id": obj["category_id"]})
                else:
                    out.append({**r, "bbox": list(obj["bbox"])})
        elif kind in fix:
            continue  # Dupe, Bkg, Both (and Cls / Loc errors not chosen to be fixed) are removed
        else:
            out.append(r)
    drop = set()
    if "Miss" in fix:
        drop |= set(errors.missed)
    if special_fn:
        drop |= set(errors.unmatched)
    if drop:
        gt = {**gt, "annotations": [a for a in gt["annotations"] if a["id"] not in drop]}
    return gt, out


def _check_error_types(error_types) -> set:
    if isinstance(error_types, str):
        error_types = (error_types,)
    known = ERROR_TYPES + SPECIAL_ERROR_TYPES
    out = set()
    for t in error_types:
        if t not in known:
            raise ValueError(f"error_types must be taken from {known}, got {t!r}")
        out.add(t)
    return out


def _mean_ap(evaluation) -> float:
    p = evaluation.precision[0, :, :, 0, -1]  # [R, K], area all, maxDets 100
    has_gt = (p > -1).all(axis=0)
    return float(p[:, has_gt].mean()) if has_gt.any() else 0.0


def _mean_curve(evaluation) -> np.ndarray:
    p = evaluation.precision[0, :, :, 0, -1]
    has_gt = (p > -1).all(axis=0)
    return p[:, has_gt].mean(axis=1) if has_gt.any() else np.zeros(len(p))


def _group(index: np.ndarray, n: int) -> list:
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(n + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(n)]


def _intersection(dt: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Intersection areas of xywh boxes [D, 4] x [G, 4] -> [D, G]."""
    w = np.minimum(dt[:, None, 0] + dt[:, None, 2], gt[None, :, 0] + gt[None, :, 2]) - np.maximum(
        dt[:, None, 0], gt[None, :, 0]
    )
    h = np.minimum(dt[:, None, 1] + dt[:, None, 3], gt[None, :, 1] + gt[None, :, 3]) - np.maximum(
        dt[:, None, 1], gt[None, :, 1]
    )
    return np.where((w > 0) & (h > 0), w * h, 0.0)


def _iou_matrix(dt: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU of xywh boxes [D, 4] x [G, 4] -> [D, G] (0 without overlap)."""
    inter = _intersection(dt, gt)
    union = dt[:, None, 2] * dt[:, None, 3] + gt[None, :, 2] * gt[None, :, 3] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=inter > 0)


def _crowd_iou(dt: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """Intersection over the detection's area [D, C] (COCO's IoU with a crowd region)."""
    inter = _intersection(dt, crowd)
    dt_area = np.broadcast_to((dt[:, 2] * dt[:, 3])[:, None], inter.shape)
    return np.divide(inter, dt_area, out=np.zeros_like(inter), where=inter > 0)


def _supercategory_map(categories: list, supercategories) -> dict:
    if supercategories is None:
        out = {}
        for c in categories:
            if "supercategory" not in c:
                raise ValueError(f"category {c['id']} has no 'supercategory'; pass supercategories=")
            out[int(c["id"])] = c["supercategory"]
        return out
    check_type("supercategories", supercategories, dict, "a dict: category name (or id) -> supercategory")
    out = {}
    for c in categories:
        if c.get("name") in supercategories:
            out[int(c["id"])] = supercategories[c["name"]]
        elif c["id"] in supercategories:
            out[int(c["id"])] = supercategories[c["id"]]
        else:
            raise ValueError(f"supercategories has no entry for category {c.get('name', c['id'])!r} (id {c['id']})")
    known = {c.get("name") for c in categories} | {c["id"] for c in categories}
    unknown = [key for key in supercategories if key not in known]
    if unknown:
        raise ValueError(f"supercategories names unknown categories: {unknown}")
    return out


def _one_class_problems(gt: dict, results: list, ids: list, in_group) -> tuple[dict, list]:
    """CocoEval.m's ``useCats = 0`` runs for every class at once, as virtual categories.

    Virtual category ``k`` holds class ``k``'s detections and objects, plus the objects of
    the classes ``in_group(k, c)`` as *ignored* ground truth (an area outside every
    range: COCO ignores it exactly as the MATLAB ``ignore`` flag does).
    """
    annotations = []
    for k in ids:
        for a in gt["annotations"]:
            c = a["category_id"]
            if c == k:
                annotations.append({**a, "id": len(annotations) + 1, "category_id": k})
            elif in_group(k, c):
                annotations.append({**a, "id": len(annotations) + 1, "category_id": k, "area": _IGNORED_AREA})
    return {**gt, "annotations": annotations}, list(results)


def _bad_area(area):
    raise ValueError(f"area must be one of {AREA_LABELS}, got {area!r}")
