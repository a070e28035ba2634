"""vislib.metrics.coco_evaluate equals pycocotools' COCOeval; vislib.ops.rle equals pycocotools.mask."""

import contextlib
import copy
import io
import re
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

import vislib
from vislib.metrics import coco_evaluate
from vislib.metrics.coco import SUMMARY_KEYS
from vislib.ops.rle import polygons_to_mask, rle_area, rle_decode, rle_encode

TOLERANCE = 1e-9

# pycocotools.mask.decode warns about numpy 2's copy keyword; not our business here.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def pycocotools_eval(gt, results, iou_type="bbox"):
    """COCOeval on deep copies (pycocotools modifies its inputs), its printing silenced."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        evaluator = COCOeval(coco, coco.loadRes(copy.deepcopy(results)), iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def assert_equal_to_pycocotools(gt, results, iou_type="bbox"):
    expected = pycocotools_eval(gt, results, iou_type)
    ours = coco_evaluate(copy.deepcopy(gt), copy.deepcopy(results), iou_type)
    assert list(ours.summary) == list(SUMMARY_KEYS)
    np.testing.assert_allclose(list(ours.summary.values()), expected.stats, rtol=0, atol=TOLERANCE)
    assert ours.precision.shape == expected.eval["precision"].shape
    np.testing.assert_allclose(ours.precision, expected.eval["precision"], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(ours.recall, expected.eval["recall"], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(ours.scores, expected.eval["scores"], rtol=0, atol=TOLERANCE)
    assert ours.category_ids == sorted(expected.params.catIds)
    return ours


# --------------------------------------------------------------------------- random data sets


def random_bbox_dataset(seed):
    """Crowds, score ties, duplicate boxes (IoU ties), integer boxes (IoU exactly at thresholds),
    a category with no ground truth, one with no detections, images without detections,
    areas (the field, not the box) in every range, groups over 100 detections."""
    rng = np.random.default_rng(seed)
    n_images = int(rng.integers(2, 7))
    images = [{"id": int(i), "width": 300, "height": 200} for i in rng.permutation(np.arange(1, n_images + 1) * 3)]
    categories = [{"id": c} for c in (7, 2, 4, 9)]  # 9: never in the ground truth; 4: never detected
    annotations, results = [], []
    next_id = 0 if seed % 5 == 0 else 1  # an annotation with id 0 (a pycocotools corner case)
    integer = seed % 2 == 0
    for image in images:
        base = rng.uniform(0, 150, 2).tolist() + rng.uniform(2, 60, 2).tolist()
        for _ in range(int(rng.integers(0, 7))):
            if rng.random() < 0.3:
                box = list(base)  # identical boxes: IoU ties
            else:
                side = float(rng.choice([6.0, 30.0, 130.0]))
                box = rng.uniform(0, 150, 2).tolist() + rng.uniform(1, side, 2).tolist()
            if integer:
                box = [float(round(v)) or 1.0 for v in box]
            area = box[2] * box[3] if rng.random() < 0.6 else float(rng.choice([100.0, 32.0**2, 2000.0, 96.0**2, 1e4]))
            category = int(rng.choice([7, 2, 4]))
            annotations.append(
                {
                    "id": next_id,
                    "image_id": image["id"],
                    "category_id": category,
                    "bbox": box,
                    "area": area,
                    "iscrowd": int(rng.random() < 0.15),
                }
            )
            next_id += 1
            for _ in range(int(rng.integers(0, 4))):
                noisy = np.array(box) + rng.normal(0, 0.1, 4) * np.array([box[2], box[3], box[2], box[3]])
                noisy[2:] = np.abs(noisy[2:])
                if integer:
                    noisy = np.round(noisy)
                if rng.random() < 0.2:
                    noisy = np.array(box)
                results.append(
                    {
                        "image_id": image["id"],
                        "category_id": 4
                        if category == 4 and rng.random() < 0.5
                        else (category if category != 4 else 7),
                        "bbox": noisy.tolist(),
                        "score": float(rng.random()),
                    }
                )
        if rng.random() < 0.25:
            continue  # an image without background detections (maybe without any)
        n_background = int(rng.integers(0, 150)) if rng.random() < 0.2 else int(rng.integers(0, 15))
        for _ in range(n_background):
            box = rng.uniform(0, 200, 2).tolist() + rng.uniform(0, 100, 2).tolist()
            if integer:
                box = [float(round(v)) for v in box]
            results.append(
                {
                    "image_id": image["id"],
                    "category_id": int(rng.choice([7, 2, 9])),
                    "bbox": box,
                    "score": float(rng.random()),
                }
            )
    for result in results:
        if rng.random() < 0.4:
            result["score"] = float(rng.choice([0.25, 0.5, 0.75, 1.0]))  # ties
        if result["category_id"] == 4:
            result["category_id"] = 7  # category 4 keeps no detection
    order = rng.permutation(len(results))
    return {"images": images, "annotations": annotations, "categories": categories}, [results[i] for i in order]


@pytest.mark.parametrize("seed", range(20))
def test_bbox_equals_pycocotools_on_random_datasets(seed):
    gt, results = random_bbox_dataset(seed)
    if not results:
        pytest.skip("pycocotools cannot load an empty result list")
    ours = assert_equal_to_pycocotools(gt, results)
    assert (ours.precision[:, :, ours.category_ids.index(9)] == -1).all()  # no ground truth: -1


def crowded_dataset(seed):
    """Over 100 detections per (image, category), integer boxes near one base box: many exact IoU
    ties and IoUs exactly at thresholds, scores in 5 values (ties), maxDets caps that matter."""
    rng = np.random.default_rng(seed)
    images = [{"id": i} for i in range(1, 5)]
    annotations, results = [], []
    for image in images:
        base = rng.integers(0, 50, 2).tolist() + rng.integers(2, 40, 2).tolist()
        for _ in range(int(rng.integers(1, 8))):
            box = (
                list(base) if rng.random() < 0.5 else rng.integers(0, 50, 2).tolist() + rng.integers(1, 40, 2).tolist()
            )
            area = box[2] * box[3] if rng.random() < 0.7 else int(rng.choice([32**2, 96**2, 0]))
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image["id"],
                    "category_id": int(rng.integers(1, 3)),
                    "bbox": box,
                    "area": area,
                    "iscrowd": int(rng.random() < 0.2),
                }
            )
        for _ in range(int(rng.integers(100, 260))):
            if rng.random() < 0.5:
                box = list(base)
                k = int(rng.integers(0, 4))
                box[k] = max(box[k] + int(rng.integers(-3, 4)), 0)
            else:
                box = rng.integers(0, 60, 2).tolist() + rng.integers(0, 40, 2).tolist()
            results.append(
                {
                    "image_id": image["id"],
                    "category_id": int(rng.choice([1, 2, 5])),
                    "bbox": [float(v) for v in box],
                    "score": float(rng.integers(0, 5)) / 4,
                }
            )
    return {"images": images, "annotations": annotations, "categories": [{"id": 1}, {"id": 2}, {"id": 5}]}, results


@pytest.mark.parametrize("seed", range(5))
def test_bbox_equals_pycocotools_with_over_100_detections_and_exact_ties(seed):
    gt, results = crowded_dataset(seed)
    assert_equal_to_pycocotools(gt, results)


def test_bbox_by_hand_crowd_and_area():
    """A crowd swallows detections without penalty; `area`, not the box, picks the size range."""
    gt = {
        "images": [{"id": 1}],
        "categories": [{"id": 1}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 50.0, "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [100, 100, 100, 100], "area": 10000.0, "iscrowd": 1},
        ],
    }
    results = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},  # the object: TP
        {"image_id": 1, "category_id": 1, "bbox": [110, 110, 10, 10], "score": 0.8},  # inside the crowd: ignored
        {"image_id": 1, "category_id": 1, "bbox": [120, 120, 10, 10], "score": 0.7},  # inside the crowd: ignored
    ]
    ours = assert_equal_to_pycocotools(gt, results)
    assert ours.summary["AP"] == pytest.approx(1.0) and ours.summary["AR100"] == 1.0
    # The object's box is 10x10 = 100 px, but its area field says 50: small, in every case.
    assert ours.summary["APs"] == pytest.approx(1.0) and ours.summary["APm"] == -1 and ours.summary["APl"] == -1


def test_empty_results_and_empty_ground_truth():
    gt, _ = random_bbox_dataset(3)
    ours = coco_evaluate(gt, [])
    assert ours.summary["AP"] == 0.0 and ours.summary["AR100"] == 0.0
    empty_gt = {"images": [{"id": 1}], "annotations": [], "categories": [{"id": 1}]}
    ours = coco_evaluate(empty_gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}])
    assert all(value == -1 for value in ours.summary.values())
    assert ours.per_class_ap() == {1: pytest.approx(float("nan"), nan_ok=True)}


def test_per_class_ap():
    gt, results = random_bbox_dataset(1)
    ours = coco_evaluate(gt, results)
    per_class = ours.per_class_ap()
    with_gt = [v for v in per_class.values() if not np.isnan(v)]
    assert np.mean(with_gt) == pytest.approx(ours.summary["AP"], abs=1e-12)
    per_class_50 = ours.per_class_ap(iou_threshold=0.5)
    assert np.nanmean(list(per_class_50.values())) == pytest.approx(ours.summary["AP50"], abs=1e-12)


# --------------------------------------------------------------------------- segm


def ellipse(rng, h, w):
    yy, xx = np.mgrid[:h, :w]
    cy, cx, ry, rx = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(2, h / 2), rng.uniform(2, w / 2)
    return (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1).astype(np.uint8)


def random_segm_dataset(seed, with_boxes):
    rng = np.random.default_rng(seed)
    h, w = 40, 50
    images = [{"id": i, "height": h, "width": w} for i in (5, 2, 9)]
    categories = [{"id": 1}, {"id": 3}, {"id": 4}]
    annotations, results = [], []
    for image in images:
        objects = []
        for _ in range(int(rng.integers(0, 5))):
            mask = ellipse(rng, h, w)
            crowd = int(rng.random() < 0.2)
            form = int(rng.integers(0, 3))
            if crowd or form == 0:
                segmentation = rle_encode(mask)  # uncompressed counts, as COCO's crowds
            elif form == 1:
                segmentation = rle_encode(mask, compressed=True)
            else:
                x, y = rng.uniform(0, w - 10), rng.uniform(0, h - 10)
                segmentation = [[x, y, x + rng.uniform(3, 20), y, x + 5, y + rng.uniform(3, 20)]]
                mask = polygons_to_mask(segmentation, h, w)
            category = int(rng.choice([1, 3]))
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image["id"],
                    "category_id": category,
                    "segmentation": segmentation,
                    "bbox": [0, 0, 1, 1],
                    "iscrowd": crowd,
                    "area": float(mask.sum()) if rng.random() < 0.7 else float(rng.choice([100, 1024, 2000])),
                }
            )
            objects.append((mask, category))
        for _ in range(int(rng.integers(0, 15))):
            if objects and rng.random() < 0.6:
                mask, category = objects[int(rng.integers(len(objects)))]
                mask = np.roll(mask, tuple(rng.integers(-3, 4, 2)), axis=(0, 1))
            else:
                mask, category = ellipse(rng, h, w), int(rng.choice([1, 3, 4]))
            result = {
                "image_id": image["id"],
                "category_id": category,
                "score": float(rng.integers(0, 6)) / 5,
                "segmentation": rle_encode(mask, compressed=True),
            }
            if with_boxes:
                result["bbox"] = rng.uniform(0, 30, 4).tolist()  # then pycocotools takes the box's area
            results.append(result)
    return {"images": images, "annotations": annotations, "categories": categories}, results


@pytest.mark.parametrize("seed", range(6))
def test_segm_equals_pycocotools(seed):
    gt, results = random_segm_dataset(seed, with_boxes=seed % 2 == 1)
    assert results
    assert_equal_to_pycocotools(gt, results, "segm")


def test_rle_functions_equal_pycocotools_mask():
    rng = np.random.default_rng(0)
    for _trial in range(60):
        h, w = (int(v) for v in rng.integers(1, 50, 2))
        mask = (rng.random((h, w)) < rng.random()).astype(np.uint8)
        reference = mask_utils.encode(np.asfortranarray(mask))
        compressed = rle_encode(mask, compressed=True)
        assert compressed["counts"] == reference["counts"].decode() and compressed["size"] == [h, w]
        assert np.array_equal(rle_decode(compressed), mask)
        assert np.array_equal(rle_decode(rle_encode(mask)), mask)
        assert np.array_equal(rle_decode(reference), mask)  # bytes counts too
        assert rle_area(compressed) == mask_utils.area(reference) == mask.sum()
        polygons = [
            rng.uniform(-3, [w + 3, h + 3], (int(rng.integers(3, 9)), 2)).ravel().tolist()
            for _ in range(int(rng.integers(1, 3)))
        ]
        expected = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygons, h, w)))
        assert np.array_equal(polygons_to_mask(polygons, h, w), expected)


# --------------------------------------------------------------------------- bad input


def small_gt():
    return {
        "images": [{"id": 1, "height": 10, "width": 10}],
        "categories": [{"id": 1}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25.0, "iscrowd": 0}],
    }


def detection(**changes):
    result = {"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}
    result.update(changes)
    return result


@pytest.mark.parametrize(
    "gt_change, results, pattern",
    [
        (lambda g: g.pop("categories"), [], "gt has no 'categories' key"),
        (lambda g: g["annotations"][0].pop("area"), [], r"gt\['annotations'\]\[0\] has no 'area' key"),
        (
            lambda g: g["annotations"][0].update(image_id=7),
            [],
            r"gt\['annotations'\] image_id\[0\] refers to unknown image id 7",
        ),
        (
            lambda g: g["annotations"][0].update(bbox=[0, 0, -1, 5]),
            [],
            r"gt\['annotations'\]\[0\]\['bbox'\] must have width >= 0",
        ),
        (lambda g: g["annotations"][0].update(iscrowd=2), [], r"\['iscrowd'\] must be 0 or 1, got 2"),
        (lambda g: g["images"].append({"id": 1}), [], r"gt\['images'\] ids must be unique; id 1"),
        (None, [detection(image_id=3)], r"results image_id\[0\] refers to unknown image id 3"),
        (None, [detection(), detection(category_id=5)], r"results category_id\[1\] refers to unknown category id 5"),
        (None, [detection(score=float("nan"))], r"results\[0\]\['score'\] is NaN"),
        (None, [detection(score="high")], r"results\[0\]\['score'\] must be a number"),
        (None, [detection(bbox=[0, 0, 5, -2])], r"results\[0\]\['bbox'\] must have width >= 0 and height >= 0"),
        (None, [detection(bbox=[0, 0, 5])], r"results\[0\]\['bbox'\] must be \[x, y, width, height\]"),
        (None, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5]}], r"results\[0\] has no 'score' key"),
        (None, [detection(image_id=1.5)], r"results image_id must be integers \(or all strings\); entry 0 is 1.5"),
        (None, [detection(image_id="1")], r"results image_id\[0\] refers to unknown image id '1'"),
    ],
)
def test_malformed_input_is_named(gt_change, results, pattern):
    gt = small_gt()
    if gt_change is not None:
        gt_change(gt)
    with pytest.raises(ValueError, match=pattern):
        coco_evaluate(gt, results)


def test_wrong_iou_type_and_masks():
    with pytest.raises(ValueError, match="iou_type must be one of 'bbox', 'segm'; got 'keypoints'"):
        coco_evaluate(small_gt(), [], "keypoints")
    with pytest.raises(TypeError, match="results must be a list"):
        coco_evaluate(small_gt(), {"image_id": 1})
    gt = small_gt()
    gt["annotations"][0]["segmentation"] = {"size": [10, 10], "counts": [50, 50]}
    wrong = {"size": [5, 5], "counts": [25]}
    with pytest.raises(ValueError, match=r"results\[0\]\['segmentation'\]\['size'\] must be the image's"):
        coco_evaluate(gt, [{"image_id": 1, "category_id": 1, "segmentation": wrong, "score": 0.1}], "segm")
    with pytest.raises(ValueError, match=r"\['counts'\] must add up to height \* width = 100, got 90"):
        coco_evaluate(
            gt,
            [{"image_id": 1, "category_id": 1, "segmentation": {"size": [10, 10], "counts": [40, 50]}, "score": 0.1}],
            "segm",
        )
    del gt["images"][0]["height"]
    with pytest.raises(ValueError, match=r"gt\['images'\]\[0\] has no 'height' key"):
        coco_evaluate(gt, [], "segm")


# --------------------------------------------------------------------------- dependencies and speed


def test_runtime_code_never_imports_pycocotools():
    package = Path(vislib.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        if "tools" in path.relative_to(package).parts:  # maintainer commands may use dev dependencies
            continue
        if re.search(r"^\s*(import|from)\s+pycocotools", path.read_text(), re.MULTILINE):
            offenders.append(str(path.relative_to(package)))
    assert not offenders, f"runtime modules import pycocotools (a test-only dependency): {offenders}"


def test_faster_than_pycocotools():
    """A sanity check only: the 5x goal is measured by `python -m vislib.tools.bench_coco`."""
    from vislib.tools.bench_coco import compare_with_pycocotools

    report = compare_with_pycocotools(n_images=80, dets_per_image=100, seed=1)
    assert report["equal"], report
    assert report["pycocotools_s"] / report["vislib_s"] > 1, report
