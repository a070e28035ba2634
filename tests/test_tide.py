"""TIDE's error types and ΔAP (against hand-built cases and the tidecv package), COCO's analyze() curves."""

import numpy as np
import pytest

from vislib.metrics.coco import coco_evaluate
from vislib.metrics.tide import ANALYZE_CURVES, ERROR_TYPES, coco_analyze, oracle_combinations, tide_errors

CATEGORIES = [
    {"id": 1, "name": "circle", "supercategory": "round"},
    {"id": 2, "name": "square", "supercategory": "angular"},
    {"id": 3, "name": "triangle", "supercategory": "angular"},
]


def _dataset(objects, n_images=None):
    """objects: (image_id, category_id, [x, y, w, h]) -> a COCO ground-truth dict."""
    n_images = n_images or max([o[0] for o in objects], default=1)
    return {
        "images": [{"id": i, "width": 100, "height": 100} for i in range(1, n_images + 1)],
        "annotations": [
            {"id": n + 1, "image_id": i, "category_id": c, "bbox": list(b), "area": b[2] * b[3], "iscrowd": 0}
            for n, (i, c, b) in enumerate(objects)
        ],
        "categories": [dict(c) for c in CATEGORIES],
    }


def _det(image_id, category_id, bbox, score):
    return {"image_id": image_id, "category_id": category_id, "bbox": list(bbox), "score": score}


BOX = [20.0, 20.0, 40.0, 40.0]
SHIFTED = [40.0, 20.0, 40.0, 40.0]  # IoU 1/3 with BOX
FAR = [0.0, 85.0, 10.0, 10.0]  # no overlap with BOX


def test_each_error_type_by_construction():
    gt = _dataset([(1, 1, BOX), (2, 1, BOX), (3, 1, BOX), (4, 2, BOX), (5, 1, BOX), (6, 1, BOX), (7, 1, BOX)])
    results = [
        _det(1, 1, BOX, 0.9),  # TP
        _det(1, 1, BOX, 0.8),  # duplicate of image 1's object
        _det(2, 1, SHIFTED, 0.7),  # localization: IoU 1/3, right class
        _det(3, 2, BOX, 0.6),  # classification: perfect box, wrong class
        _det(4, 2, FAR, 0.5),  # background
        _det(5, 2, SHIFTED, 0.4),  # both: wrong class and IoU 1/3
        _det(6, 1, BOX, 0.3),  # TP; image 7's object is missed
    ]
    errors = tide_errors(gt, results)
    assert errors.detection_types == ["TP", "Dupe", "Loc", "Cls", "Bkg", "Both", "TP"]
    assert errors.detection_targets[:4] == [1, 1, 2, 3]
    # Image 4's square is missed too (a background detection does not account for it); 5's circle as well.
    assert errors.missed == [4, 5, 7]
    assert errors.unmatched == [2, 3, 4, 5, 7]
    assert errors.counts == {"Cls": 1, "Loc": 1, "Both": 1, "Dupe": 1, "Bkg": 1, "Miss": 3}
    # Fixing everything finds every object with perfect precision.
    everything = errors.evaluate_fixed(ERROR_TYPES).precision[0, :, :, 0, -1]  # [R, K]; -1: no objects left
    assert np.allclose(everything[:, 0], 1) and (everything[:, 1:] == -1).all()


def test_delta_ap_known_by_construction():
    # One class, two objects: a TP (0.9), a background detection (0.8), the second object missed.
    gt = _dataset([(1, 1, BOX), (2, 1, BOX)])
    gt["categories"] = gt["categories"][:1]
    results = [_det(1, 1, BOX, 0.9), _det(2, 1, FAR, 0.8)]
    errors = tide_errors(gt, results)
    assert errors.ap == pytest.approx(51 / 101)  # precision 1 up to recall 0.5: 51 of 101 recall points
    assert errors.delta_ap["Bkg"] == pytest.approx(0)  # the FP ranks after the only TP
    assert errors.delta_ap["Miss"] == pytest.approx(50 / 101)
    assert errors.delta_ap["FalseNeg"] == pytest.approx(50 / 101)
    # The background detection above the TP costs precision: fixing it is worth AP.
    errors = tide_errors(gt, [_det(1, 1, BOX, 0.7), _det(2, 1, FAR, 0.8)])
    assert errors.ap == pytest.approx(0.5 * 51 / 101)
    assert errors.delta_ap["Bkg"] == pytest.approx(51 / 101 - 0.5 * 51 / 101)


def test_only_the_best_error_of_an_object_is_fixed():
    # Two localization errors on one object: the oracle turns the better-scored one into a TP, drops the other.
    gt = _dataset([(1, 1, BOX)])
    errors = tide_errors(gt, [_det(1, 1, SHIFTED, 0.9), _det(1, 1, [0.0, 20.0, 40.0, 40.0], 0.8)])
    assert errors.detection_types == ["Loc", "Loc"] and errors.missed == []
    fixed_gt, fixed = errors.fixed(["Loc"])
    assert fixed == [_det(1, 1, BOX, 0.9)]
    assert errors.ap + errors.delta_ap["Loc"] == pytest.approx(1)


def test_ground_truth_as_predictions_has_no_errors():
    # dbolya/tide issue 40: ground truth used as predictions should give no errors and AP 1.
    rng = np.random.default_rng(0)
    objects = [(int(i), int(rng.integers(1, 4)), list(rng.uniform(5, 40, 4))) for i in rng.integers(1, 11, 40)]
    gt = _dataset(objects, n_images=10)
    results = [_det(a["image_id"], a["category_id"], a["bbox"], 1.0) for a in gt["annotations"]]
    errors = tide_errors(gt, results)
    assert set(errors.detection_types) == {"TP"}
    assert sum(errors.counts.values()) == 0 and errors.ap == pytest.approx(1)


def _random_data(seed, n_images=20, K=3):
    rng = np.random.default_rng(seed)
    images, anns, res = [], [], []
    for i in range(1, n_images + 1):
        images.append({"id": i, "width": 200, "height": 200})
        for _ in range(rng.integers(0, 5)):
            w, h = rng.uniform(10, 60, 2)
            x, y = rng.uniform(0, 140, 2)
            c = int(rng.integers(1, K + 1))
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i,
                    "category_id": c,
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
            for _ in range(rng.integers(0, 3)):
                s = rng.choice([0.05, 0.2, 0.5])
                box = [
                    x + rng.normal(0, s * w),
                    y + rng.normal(0, s * h),
                    w * np.exp(rng.normal(0, s)),
                    h * np.exp(rng.normal(0, s)),
                ]
                label = c if rng.random() < 0.75 else int(rng.integers(1, K + 1))
                res.append(_det(i, label, box, float(rng.random())))
        for _ in range(rng.integers(0, 3)):
            w, h = rng.uniform(10, 60, 2)
            x, y = rng.uniform(0, 140, 2)
            res.append(_det(i, int(rng.integers(1, K + 1)), [x, y, w, h], float(rng.random())))
    return {"images": images, "annotations": anns, "categories": [dict(c) for c in CATEGORIES[:K]]}, res


def _tidecv(gt, results):
    tidecv = pytest.importorskip("tidecv")
    truth, predictions = tidecv.Data("gt"), tidecv.Data("pred")
    for image in gt["images"]:
        truth.add_image(image["id"], str(image["id"]))
        predictions.add_image(image["id"], str(image["id"]))
    for a in gt["annotations"]:
        truth.add_ground_truth(a["image_id"], a["category_id"], list(a["bbox"]))
    for r in results:
        predictions.add_detection(r["image_id"], r["category_id"], r["score"], list(r["bbox"]))
    tide = tidecv.TIDE()
    run = tide.evaluate(truth, predictions, mode=tidecv.TIDE.BOX, name="run")
    delta = {**tide.get_main_errors()["run"], **tide.get_special_errors()["run"]}
    counts = {error.short_name: len(found) for error, found in run.error_dict.items()}
    return run.ap / 100, {k: v / 100 for k, v in delta.items()}, counts


@pytest.mark.parametrize("seed", range(6))
def test_equal_to_tidecv_on_random_data(seed):
    gt, results = _random_data(seed)
    assert len({a["category_id"] for a in gt["annotations"]}) == 3  # every class has objects (see below)
    ap, delta, counts = _tidecv(gt, results)
    errors = tide_errors(gt, results)
    assert errors.counts == counts
    # COCO's recall points are np.linspace(0, 1, 101), 10 of which differ from k / 100 in the last bit (e.g.
    # 0.7000000000000001), so a recall of exactly 7 / 10 does not reach "0.70" there; tidecv uses k / 100.
    # One such point in one of the 3 classes moves AP by at most 1 / 303: two are allowed.
    tolerance = 2 / (101 * 3)
    assert errors.ap == pytest.approx(ap, abs=tolerance)
    for name, value in delta.items():
        assert errors.delta_ap[name] == pytest.approx(value, abs=tolerance), name


def test_classes_without_ground_truth_are_left_out_unlike_tidecv():
    # tidecv averages AP over every class with detections, so a class with detections but no objects counts
    # as AP 0; COCO (and vislib) leave such a class out. The intended value is COCO's.
    gt = _dataset([(1, 1, BOX)])
    results = [_det(1, 1, BOX, 0.9), _det(1, 3, FAR, 0.5)]
    errors = tide_errors(gt, results)
    assert errors.ap == pytest.approx(1)
    ap, _, _ = _tidecv(gt, results)
    assert ap == pytest.approx(0.5)


def test_oracle_combinations_cover_every_subset():
    gt, results = _random_data(1)
    errors = tide_errors(gt, results)
    combos = oracle_combinations(errors)
    assert len(combos) == 64
    assert combos[frozenset()][0] == pytest.approx(errors.ap)
    for name in ERROR_TYPES:
        assert combos[frozenset([name])][0] - errors.ap == pytest.approx(errors.delta_ap[name], abs=1e-12) or (
            errors.delta_ap[name] == 0
        )
    assert combos[frozenset(ERROR_TYPES)][0] == pytest.approx(1)
    ap, curve = combos[frozenset(["Loc"])]
    assert ap == pytest.approx(curve.mean())


# --------------------------------------------------------------------------- COCO's analyze()

SUPERCATEGORIES = {"circle": "round", "square": "angular", "triangle": "angular"}


def test_analyze_curves_by_construction():
    square_box = [60.0, 60.0, 30.0, 30.0]
    gt = _dataset([(1, 1, BOX), (1, 3, square_box), (2, 2, BOX), (3, 3, BOX), (3, 2, square_box)])
    results = [
        _det(1, 1, BOX, 0.9),  # circle: TP
        _det(1, 1, square_box, 0.95),  # circle on a triangle, scored higher: a confusion with another supercategory
        _det(2, 2, SHIFTED, 0.9),  # square: IoU 1/3, right only at IoU 0.1; image 3's square is missed
        _det(3, 3, square_box, 0.9),  # triangle on a square: a confusion within its supercategory
        _det(3, 3, BOX, 0.5),  # triangle: TP
        _det(1, 3, square_box, 0.2),  # triangle: TP (precision 2/3 at recall 1 after the confusion)
    ]
    analysis = coco_analyze(gt, results, SUPERCATEGORIES)
    ap = {name: analysis.precision[i, :, :, 0].mean(axis=0) for i, name in enumerate(ANALYZE_CURVES)}  # [K]
    half = 0.5  # precision 1/2 at every recall point
    assert ap["C75"] == pytest.approx([half, 0, 2 / 3])
    assert ap["C50"] == pytest.approx([half, 0, 2 / 3])
    found = 51 / 101  # the square: precision 1 up to recall 0.5
    assert ap["Loc"] == pytest.approx([half, found, 2 / 3])
    assert ap["Sim"] == pytest.approx([half, found, 1])  # the triangle's confusion with a square is forgiven
    assert ap["Oth"] == pytest.approx([1, found, 1])  # and the circle's with a triangle
    assert np.array_equal(analysis.precision[5], analysis.precision[4] > 0)
    assert (analysis.precision[6] == 1).all()
    assert analysis.ap()["C50"] == pytest.approx((half + 0 + 2 / 3) / 3)
    assert analysis.ap()["BG"] == pytest.approx((1 + found + 1) / 3)


@pytest.mark.parametrize("seed", range(3))
def test_analyze_c75_c50_are_coco_evaluate_curves(seed):
    gt, results = _random_data(seed)
    analysis = coco_analyze(gt, results, SUPERCATEGORIES)
    evaluation = coco_evaluate(gt, results)
    for curve, t in (("C75", 5), ("C50", 0)):
        expected = np.where(evaluation.precision[t, :, :, :, -1] == -1, 0, evaluation.precision[t, :, :, :, -1])
        assert np.array_equal(analysis.precision[ANALYZE_CURVES.index(curve)], expected)
    means = analysis.ap()
    values = [means[c] for c in ANALYZE_CURVES]
    assert all(a <= b + 1e-12 for a, b in zip(values, values[1:])), "each curve forgives more errors"
    assert analysis.ap()["C50"] == pytest.approx(evaluation.summary["AP50"])


def test_analyze_uses_the_gt_supercategory_field_by_default():
    gt, results = _random_data(0)
    assert np.array_equal(coco_analyze(gt, results).precision, coco_analyze(gt, results, SUPERCATEGORIES).precision)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"pos_threshold": 0}, ValueError, "pos_threshold"),
        ({"pos_threshold": 1.0}, ValueError, "pos_threshold"),
        ({"bg_threshold": -0.1}, ValueError, "bg_threshold"),
        ({"bg_threshold": 0.6}, ValueError, "must not exceed"),
        ({"pos_threshold": "0.5"}, TypeError, "pos_threshold"),
        ({"max_dets": 0}, ValueError, "max_dets"),
    ],
)
def test_tide_errors_rejects_bad_thresholds(kwargs, error, match):
    gt = _dataset([(1, 1, BOX)])
    with pytest.raises(error, match=match):
        tide_errors(gt, [_det(1, 1, BOX, 0.9)], **kwargs)


@pytest.mark.parametrize("function", [tide_errors, coco_analyze])
def test_malformed_input_is_named(function):
    gt = _dataset([(1, 1, BOX)])
    with pytest.raises(ValueError, match="unknown image id 9"):
        function(gt, [_det(9, 1, BOX, 0.9)])
    with pytest.raises(ValueError, match="unknown category id 7"):
        function(gt, [_det(1, 7, BOX, 0.9)])
    with pytest.raises(ValueError, match="has no 'score'"):
        function(gt, [{"image_id": 1, "category_id": 1, "bbox": BOX}])
    with pytest.raises(ValueError, match="has no 'annotations'"):
        function({"images": [], "categories": []}, [])
    with pytest.raises(TypeError, match="results"):
        function(gt, {"image_id": 1})


def test_supercategory_map_must_cover_every_class():
    gt, results = _random_data(0)
    with pytest.raises(ValueError, match="no entry for category 'triangle'"):
        coco_analyze(gt, results, {"circle": "round", "square": "angular"})
    with pytest.raises(ValueError, match="unknown categories"):
        coco_analyze(gt, results, {**SUPERCATEGORIES, "hexagon": "angular"})
    with pytest.raises(TypeError, match="supercategories"):
        coco_analyze(gt, results, ["round"])


def test_fixed_rejects_unknown_error_types():
    gt, results = _random_data(0)
    with pytest.raises(ValueError, match="error_types"):
        tide_errors(gt, results).fixed(["Classification"])


def test_coco_evaluate_with_other_iou_thresholds_equals_the_default_slices():
    gt, results = _random_data(2)
    default = coco_evaluate(gt, results)
    two = coco_evaluate(gt, results, iou_thresholds=[0.5, 0.75])
    assert np.array_equal(two.precision, default.precision[[0, 5]])
    assert np.array_equal(two.recall, default.recall[[0, 5]])
    assert two.summary["AP50"] == default.summary["AP50"] and two.summary["AP75"] == default.summary["AP75"]
    for bad in ([0.0], [1.5], []):
        with pytest.raises((TypeError, ValueError), match="iou_thresholds"):
            coco_evaluate(gt, results, iou_thresholds=bad)


# --------------------------------------------------------------------------- the exercise


def _reference_error_type(same_ious, taken, other_ious, pos=0.5, bg=0.1):
    if any(iou >= pos and not t for iou, t in zip(same_ious, taken)):
        return "TP"
    if not same_ious and not other_ious:
        return "Bkg"
    if bg <= max(same_ious, default=0.0) <= pos:
        return "Loc"
    if max(other_ious, default=0.0) >= pos:
        return "Cls"
    if any(iou >= pos and t for iou, t in zip(same_ious, taken)):
        return "Dupe"
    if max(same_ious + other_ious) <= bg:
        return "Bkg"
    return "Both"


def test_exercise_checker_accepts_the_rule_and_covers_every_type():
    from vislib.exercises.tide import CASES, check_tide_error_type

    seen = []
    assert check_tide_error_type(lambda *a: seen.append(_reference_error_type(*a)) or seen[-1]) == len(CASES)
    assert set(seen) == {"TP", *[t for t in ERROR_TYPES if t != "Miss"]}


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda s, t, o: "Cls" if max(o, default=0) >= 0.5 else _reference_error_type(s, t, o),
            "TIDE tests this first",
        ),
        (lambda s, t, o: "TP" if max(s, default=0) >= 0.5 else _reference_error_type(s, t, o), "already found"),
        (lambda s, t, o: "Both" if not s and not o else _reference_error_type(s, t, o), "no objects"),
        (lambda s, t, o: "Loc" if 0.1 <= max(s + o, default=0) < 0.5 else _reference_error_type(s, t, o), "Both"),
    ],
)
def test_exercise_checker_explains_misclassifications(wrong, message):
    from vislib.exercises.tide import check_tide_error_type

    with pytest.raises(AssertionError, match=message):
        check_tide_error_type(wrong)
