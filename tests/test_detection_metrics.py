"""vislib.metrics.detection: matching, precision/recall, the three APs and mAP, by hand and against pycocotools."""

import contextlib
import io
import math

import numpy as np
import pytest
import torch

from vislib.metrics import (
    coco_interpolated_ap,
    coco_interpolated_precision,
    match_detections,
    mean_average_precision,
    precision_envelope,
    precision_recall_at,
    precision_recall_curve,
    voc_ap,
)

# The running example: 4 ground-truth objects, 6 detections in ranked order.
TP = [True, False, True, False, False, True]
NUM_GT = 4


def example_matches():
    """Two images; the matching gives exactly the running example's TP flags.

    image 0: ground truth A = [0, 0, 10, 10], B = [20, 20, 30, 30]
    image 1: ground truth C = [0, 0, 10, 10], D = [50, 50, 60, 60]
    """
    gt = [torch.tensor([[0.0, 0, 10, 10], [20, 20, 30, 30]]), torch.tensor([[0.0, 0, 10, 10], [50, 50, 60, 60]])]
    boxes = [
        torch.tensor(
            [
                [0.0, 0, 10, 10],  # d1, 0.9: IoU 1 with A -> TP
                [0.0, 0, 10, 10],  # d2, 0.8: A is taken, B has IoU 0 -> FP (a duplicate)
                [20.0, 20, 30, 25],  # d6, 0.4: with B, 50 / 100 = 0.5, exactly the threshold -> TP
            ]
        ),
        torch.tensor(
            [
                [0.0, 0, 10, 8],  # d3, 0.7: with C, 80 / 100 = 0.8 -> TP
                [100.0, 100, 110, 110],  # d4, 0.6: overlaps nothing -> FP
                [50.0, 50, 60, 54],  # d5, 0.5: with D, 40 / 100 = 0.4 < 0.5 -> FP
            ]
        ),
    ]
    scores = [torch.tensor([0.9, 0.8, 0.4]), torch.tensor([0.7, 0.6, 0.5])]
    return match_detections(boxes, scores, gt, iou_threshold=0.5)


def test_matching_by_hand():
    m = example_matches()
    assert m.scores.tolist() == pytest.approx([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    assert m.tp.tolist() == TP
    assert m.fp.tolist() == [not t for t in TP]
    assert m.num_ground_truth == NUM_GT
    assert m.image_index.tolist() == [0, 0, 1, 1, 1, 0]
    assert m.detection_index.tolist() == [0, 1, 0, 1, 2, 2]
    assert m.matched_gt.tolist() == [0, -1, 0, -1, -1, 1]
    assert m.iou.tolist() == pytest.approx([1.0, 1.0, 0.8, 0.0, 0.4, 0.5])
    # Raising the threshold above 0.5 turns d6 (IoU exactly 0.5) into a FP.
    strict = match_detections(
        [torch.tensor([[20.0, 20, 30, 25]])], [torch.tensor([0.4])], [torch.tensor([[20.0, 20, 30, 30]])], 0.5001
    )
    assert strict.tp.tolist() == [False]


def test_matching_takes_the_free_box_with_highest_iou():
    gt = torch.tensor([[0.0, 0, 10, 10], [2, 0, 12, 10]])
    boxes = torch.tensor([[1.0, 0, 11, 10], [1.0, 0, 11, 10], [1.0, 0, 11, 10]])
    # Each detection overlaps both boxes with IoU 9/11 ~ 0.82: equal IoUs, the first box first.
    m = match_detections(boxes, torch.tensor([0.9, 0.8, 0.7]), gt)
    assert m.matched_gt.tolist() == [0, 1, -1]
    assert m.tp.tolist() == [True, True, False]


def test_difficult_boxes_are_ignored_not_false_positives():
    gt = torch.tensor([[0.0, 0, 10, 10], [20, 20, 30, 30]])
    difficult = torch.tensor([False, True])
    boxes = torch.tensor([[20.0, 20, 30, 30], [20.0, 20, 30, 30], [0, 0, 10, 10]])
    m = match_detections(boxes, torch.tensor([0.9, 0.8, 0.7]), gt, gt_difficult=difficult)
    assert m.num_ground_truth == 1
    assert m.ignored.tolist() == [True, True, False]
    assert m.tp.tolist() == [False, False, True] and m.fp.tolist() == [False, False, False]
    precision, recall = m.precision_recall_curve()
    assert precision.tolist() == [0.0, 0.0, 1.0] and recall.tolist() == [0.0, 0.0, 1.0]


def test_precision_recall_at_a_score_threshold():
    m = example_matches()
    # Scores >= 0.65: d1 TP, d2 FP, d3 TP -> precision 2/3, recall 2/4.
    at = precision_recall_at(m, 0.65)
    assert (at["tp"], at["fp"], at["fn"]) == (2, 1, 2)
    assert at["precision"] == pytest.approx(2 / 3) and at["recall"] == 0.5
    everything = precision_recall_at(m, 0.0)
    assert everything["precision"] == 0.5 and everything["recall"] == 0.75
    nothing = precision_recall_at(m, 0.95)
    assert math.isnan(nothing["precision"]) and nothing["recall"] == 0.0


def test_precision_recall_curve_by_hand():
    precision, recall = precision_recall_curve(torch.tensor(TP), NUM_GT)
    # cumulative TP: 1, 1, 2, 2, 2, 3; cumulative FP: 0, 1, 1, 2, 3, 3
    # precision = TP / (TP + FP) = 1/1, 1/2, 2/3, 2/4, 2/5, 3/6
    # recall    = TP / 4         = 0.25, 0.25, 0.5, 0.5, 0.5, 0.75
    assert precision.tolist() == pytest.approx([1, 1 / 2, 2 / 3, 2 / 4, 2 / 5, 3 / 6])
    assert recall.tolist() == [0.25, 0.25, 0.5, 0.5, 0.5, 0.75]
    assert precision.dtype == torch.float64
    # The same flags, unsorted, with their scores: sorted first.
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    permutation = torch.tensor([3, 0, 5, 1, 4, 2])
    p2, r2 = precision_recall_curve(torch.tensor(TP)[permutation], NUM_GT, scores=scores[permutation])
    assert torch.equal(p2, precision) and torch.equal(r2, recall)
    # numpy arrays and 0/1 flags are accepted too.
    p3, _ = precision_recall_curve(np.array(TP, dtype=int), NUM_GT)
    assert torch.equal(p3, precision)
    # The envelope: max of the precision at this rank and every later one.
    assert precision_envelope(precision).tolist() == pytest.approx([1, 2 / 3, 2 / 3, 1 / 2, 1 / 2, 1 / 2])


def test_three_aps_on_one_example():
    precision, recall = precision_recall_curve(torch.tensor(TP), NUM_GT)
    # VOC 2010+ (all points): sentinels give recall [0, .25, .25, .5, .5, .5, .75, 1] and the
    # envelope [1, 1, 2/3, 2/3, 1/2, 1/2, 1/2, 0]; recall steps up 4 times by 0.25:
    #   0.25 * 1 + 0.25 * 2/3 + 0.25 * 1/2 + 0.25 * 0 = 13/24 = 0.5417
    assert voc_ap(recall, precision) == pytest.approx(13 / 24, abs=1e-15)
    # VOC 2007 (11 points): max precision at recall >= t, for t = 0, .1, ..., 1:
    #   t = 0, .1, .2: 1;  t = .3, .4, .5: 2/3;  t = .6, .7: 1/2;  t = .8, .9, 1: 0 (recall never reaches)
    #   (3 * 1 + 3 * 2/3 + 2 * 1/2) / 11 = 6/11 = 0.5455
    assert voc_ap(recall, precision, use_07_metric=True) == pytest.approx(6 / 11, abs=1e-15)
    # COCO (101 points r = 0, .01, ..., 1; envelope at the first rank with recall >= r):
    #   r <= .25 (26 points): 1;  .25 < r <= .5 (25): 2/3;  .5 < r <= .75 (25): 1/2;  r > .75 (25): 0
    #   (26 + 25 * 2/3 + 25 * 1/2) / 101 = 55.1667 / 101 = 0.5462
    assert coco_interpolated_ap(recall, precision) == pytest.approx((26 + 25 * 2 / 3 + 12.5) / 101, abs=1e-15)
    points = coco_interpolated_precision(recall, precision)
    assert points.shape == (101,) and points[25] == 1.0 and points[26] == pytest.approx(2 / 3) and points[76] == 0
    # Three conventions, three numbers: all-point < 11-point < 101-point here.
    assert voc_ap(recall, precision) < voc_ap(recall, precision, True) < coco_interpolated_ap(recall, precision)


def test_perfect_and_empty_curves():
    precision, recall = precision_recall_curve(torch.ones(3, dtype=torch.bool), 3)
    assert voc_ap(recall, precision) == 1.0
    assert voc_ap(recall, precision, True) == pytest.approx(1.0)
    assert coco_interpolated_ap(recall, precision) == pytest.approx(1.0)
    # No detection at all: AP 0 in every convention.
    empty = torch.zeros(0)
    assert voc_ap(empty, empty) == 0.0 == voc_ap(empty, empty, True) == coco_interpolated_ap(empty, empty)


def test_mean_average_precision_ignores_classes_without_ground_truth():
    assert mean_average_precision({"cat": 0.5, "dog": 0.7, "unicorn": None}) == pytest.approx(0.6)
    assert mean_average_precision([0.5, float("nan"), 0.7, -1]) == pytest.approx(0.6)
    assert mean_average_precision([0.5, 0.9, 0.7], num_ground_truth=[3, 0, 1]) == pytest.approx(0.6)
    assert mean_average_precision(torch.tensor([0.2, 0.4])) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="no class has ground truth"):
        mean_average_precision([None, float("nan")])
    with pytest.raises(ValueError, match=r"per_class_ap\['dog'\] must lie in \[0, 1\]"):
        mean_average_precision({"cat": 0.5, "dog": 1.5})


def test_coco_101_point_ap_equals_pycocotools_single_class_single_iou():
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    for seed in range(5):
        rng = np.random.default_rng(seed)
        images, annotations, results = [], [], []
        gt_list, box_list, score_list = [], [], []
        for image_id in range(1, 9):
            images.append({"id": image_id, "width": 200, "height": 200})
            gts = []
            for _ in range(rng.integers(0, 5)):
                x, y, w, h = *rng.uniform(0, 150, 2), *rng.uniform(5, 50, 2)
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": image_id,
                        "category_id": 1,
                        "bbox": [x, y, w, h],
                        "area": w * h,
                        "iscrowd": 0,
                    }
                )
                gts.append([x, y, w, h])
            dets = []
            for x, y, w, h in gts + [list(rng.uniform(0, 150, 2)) + list(rng.uniform(5, 50, 2)) for _ in range(4)]:
                for _ in range(rng.integers(0, 3)):
                    b = np.array([x, y, w, h]) + rng.normal(0, 4, 4)
                    b[2:] = np.abs(b[2:]) + 1
                    dets.append((b.tolist(), float(rng.random())))
            for b, s in dets:
                results.append({"image_id": image_id, "category_id": 1, "bbox": b, "score": s})

            def xyxy(boxes):
                return torch.tensor([[x, y, x + w, y + h] for x, y, w, h in boxes], dtype=torch.float64).reshape(-1, 4)

            gt_list.append(xyxy(gts))
            box_list.append(xyxy([b for b, _ in dets]))
            score_list.append(torch.tensor([s for _, s in dets], dtype=torch.float64))

        with contextlib.redirect_stdout(io.StringIO()):
            coco = COCO()
            coco.dataset = {"images": images, "annotations": annotations, "categories": [{"id": 1}]}
            coco.createIndex()
            evaluator = COCOeval(coco, coco.loadRes(results), "bbox")
            evaluator.params.iouThrs = np.array([0.5])
            evaluator.evaluate()
            evaluator.accumulate()
        expected = evaluator.eval["precision"][0, :, 0, 0, 2]  # IoU 0.5, all recall points, area "all", 100 dets

        matches = match_detections(box_list, score_list, gt_list, iou_threshold=0.5)
        precision, recall = matches.precision_recall_curve()
        ours = coco_interpolated_precision(recall, precision).numpy()
        np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)
        assert coco_interpolated_ap(recall, precision) == pytest.approx(float(np.mean(expected)), abs=1e-12)


def test_bad_input_messages():
    m = example_matches()
    with pytest.raises(ValueError, match=r"pred_boxes\[1\] must have shape \[N, 4\], got \[2, 3\]"):
        match_detections(
            [torch.zeros(0, 4), torch.zeros(2, 3)], [torch.zeros(0), torch.zeros(2)], [torch.zeros(0, 4)] * 2
        )
    with pytest.raises(ValueError, match=r"gt_boxes must have one entry per image \(2 in pred_boxes\), got 1"):
        match_detections([torch.zeros(0, 4)] * 2, [torch.zeros(0)] * 2, [torch.zeros(0, 4)])
    with pytest.raises(ValueError, match="iou_threshold must be <= 1.0"):
        match_detections(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, 4), 1.5)
    with pytest.raises(TypeError, match="must all be tensors"):
        match_detections(torch.zeros(0, 4), [torch.zeros(0)], torch.zeros(0, 4))
    with pytest.raises(TypeError, match="matches must be a DetectionMatches"):
        precision_recall_at({"tp": []}, 0.5)
    with pytest.raises(ValueError, match="num_ground_truth must be >= 1"):
        precision_recall_curve(torch.tensor([True]), 0)
    with pytest.raises(ValueError, match="a detection cannot be both TP and FP"):
        precision_recall_curve(torch.tensor([True]), 1, fp=torch.tensor([True]))
    with pytest.raises(ValueError, match="recall and precision must have the same length, got 3 and 2"):
        voc_ap(torch.tensor([0.1, 0.2, 0.3]), torch.tensor([1.0, 0.5]))
    with pytest.raises(ValueError, match=r"recall must be non-decreasing .*recall\[1\] = 0.1 < recall\[0\] = 0.5"):
        coco_interpolated_ap(torch.tensor([0.5, 0.1]), torch.tensor([1.0, 0.5]))
    with pytest.raises(ValueError, match=r"precision values must lie in \[0, 1\]"):
        voc_ap(torch.tensor([0.5]), torch.tensor([2.0]))
    assert precision_recall_at(m, 0.0)["tp"] == 3
