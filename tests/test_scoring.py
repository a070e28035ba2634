"""The detection-scoring widgets' states: IoU, the simulated detector, pooled matching, thresholds."""

import io
import math

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from vislib.data.shapes import ShapesDataset, to_coco
from vislib.exercises.boxes import check_box_iou
from vislib.exercises.detection import check_average_precision
from vislib.metrics import coco_evaluate
from vislib.states.scoring import SimulatedDetector, iou_state, pool_matches, pool_matches_fast, simulate_detections
from vislib.training.epochs import to_coco_results
from vislib.training.monitor import evaluate_epoch
from vislib.widgets.scoring import iou_widget, precision_recall_widget


@pytest.fixture(scope="module")
def shapes():
    dataset = ShapesDataset(24, image_size=96, seed=3)
    samples = [dataset[i] for i in range(len(dataset))]
    return dataset, [s[0] for s in samples], [s[1] for s in samples]


def test_iou_state_equals_torchvision_and_draws_the_overlap():
    state = iou_state(40, 45, 40, 50, 52, 52, 44, 46)
    expected = torchvision.ops.box_iou(torch.tensor([state.ground_truth]), torch.tensor([state.prediction])).item()
    assert state.iou == pytest.approx(expected)
    assert state.intersection == (30.0, 29.0, 60.0, 70.0) and state.intersection_area == 30 * 41
    assert state.union_area == pytest.approx(40 * 50 + 44 * 46 - 30 * 41)
    assert not state.correct and iou_state(50, 50, 40, 40, 52, 50, 40, 40).correct
    apart = iou_state(10, 10, 5, 5, 50, 50, 5, 5)
    assert apart.iou == 0 and apart.intersection is None
    with pytest.raises(ValueError, match="gt_w must be >= 0"):
        iou_state(10, 10, -5, 5, 50, 50, 5, 5)


def test_simulation_is_deterministic_and_obeys_its_knobs(shapes):
    _, _, targets = shapes
    a = simulate_detections(targets, 0.1, 2.0, 0.8, num_classes=4, image_size=96)
    b = simulate_detections(targets, 0.1, 2.0, 0.8, num_classes=4, image_size=96)
    assert all(torch.equal(x["boxes"], y["boxes"]) and torch.equal(x["scores"], y["scores"]) for x, y in zip(a, b))
    many = simulate_detections(targets, 0.1, 5.0, 0.8, num_classes=4, image_size=96)
    none = simulate_detections(targets, 0.1, 0.0, 0.8, num_classes=4, image_size=96)
    assert sum(len(d["scores"]) for d in many) > sum(len(d["scores"]) for d in none)
    perfect = simulate_detections(targets, 0.0, 0.0, 1.0, num_classes=4, image_size=96)
    pooled = pool_matches_fast(perfect, targets)
    # Without noise every found object is an exact box (IoU 1): only duplicates and wrong classes are FPs.
    assert pooled.tp.sum() >= 0.85 * pooled.num_ground_truth - 1
    with pytest.raises(ValueError, match="calibration must be <= 1"):
        simulate_detections(targets, 0.1, 1.0, 1.5, num_classes=4, image_size=96)


@pytest.mark.parametrize("setting", [(0.05, 0.5, 0.9), (0.2, 2.0, 0.5), (0.4, 4.0, 0.0)])
def test_fast_pooled_matching_equals_match_detections(shapes, setting):
    _, _, targets = shapes
    detections = simulate_detections(targets, *setting, num_classes=4, image_size=96, seed=1)
    fast = pool_matches_fast(detections, targets)
    reference = pool_matches(detections, targets, num_classes=4)

    def key(m):
        return {
            (int(i), int(d)): (bool(t), int(g))
            for i, d, t, g in zip(m.image_index, m.detection_index, m.tp, m.matched_gt)
        }

    assert key(fast) == key(reference)
    np.testing.assert_allclose(fast.scores, reference.scores)
    np.testing.assert_allclose(fast.precision, reference.precision)
    np.testing.assert_allclose(fast.recall, reference.recall)


def test_threshold_state_counts_add_up(shapes):
    _, _, targets = shapes
    detector = SimulatedDetector(targets, num_classes=4, image_size=96)
    total = sum(len(t["labels"]) for t in targets)
    previous_recall = 1.0
    for threshold in np.linspace(0, 1, 11):
        state = detector.state(0.1, 1.0, 0.8, float(threshold))
        assert state.tp + state.fn == total
        assert state.recall <= previous_recall + 1e-12
        previous_recall = state.recall
        for shown, target in zip(state.shown, (targets[0], targets[1])):
            assert int(np.sum(shown["status"] == "TP")) + len(shown["missed"]) == len(target["labels"])
    nothing = detector.state(0.1, 1.0, 0.8, 1.0)
    assert math.isnan(nothing.precision) or nothing.tp + nothing.fp > 0


def test_monitor_evaluation_equals_coco_evaluate(shapes):
    dataset, _, targets = shapes
    detections = simulate_detections(targets, 0.1, 1.0, 0.8, num_classes=4, image_size=96)
    ground_truth = to_coco(dataset)
    result = evaluate_epoch(3, detections, ground_truth, [1.0, 0.5])
    direct = coco_evaluate(ground_truth, to_coco_results(detections, range(len(targets))))
    assert result.summary == direct.summary and result.epoch == 3 and result.mean_loss == 0.75
    assert result.precision_at_50.shape == (4, 101)
    assert np.nanmean(result.precision_at_50[0]) == pytest.approx(direct.per_class_ap(0.5)[1])


def _pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_widgets_fast_paths_match_full_redraws(shapes):
    _, images, targets = shapes
    widget = iou_widget()
    rng = np.random.default_rng(0)
    for _ in range(15):
        widget.set(**{name: float(rng.integers(5, 95)) for name in widget.controls})
    fresh = iou_widget()
    fresh.set(**widget.values())
    assert np.mean(np.abs(_pixels(widget.image.value) - _pixels(fresh.image.value)) > 8) < 0.001

    pictures = [images[i].permute(1, 2, 0).numpy() for i in (0, 1)]
    detector = SimulatedDetector(targets, num_classes=4, image_size=96)
    pr = precision_recall_widget(detector, pictures)
    for _ in range(15):
        pr.set(
            localization_noise=float(rng.uniform(0, 0.5)),
            false_positives=float(rng.uniform(0, 5)),
            calibration=float(rng.uniform(0, 1)),
            score_threshold=float(rng.uniform(0, 1)),
        )
    again = precision_recall_widget(detector, pictures)
    again.set(**pr.values())
    assert np.mean(np.abs(_pixels(pr.image.value) - _pixels(again.image.value)) > 24) < 0.002  # JPEG noise


def test_exercise_checks_accept_the_references_and_name_mistakes():
    from vislib.metrics.detection import precision_recall_curve, voc_ap
    from vislib.ops import box_iou

    assert check_box_iou(box_iou) == 7
    assert check_box_iou(torchvision.ops.box_iou) == 7

    def no_clamp(a, b):
        top_left = torch.max(a[:, None, :2], b[None, :, :2])
        bottom_right = torch.min(a[:, None, 2:], b[None, :, 2:])
        wh = bottom_right - top_left
        inter = wh[..., 0] * wh[..., 1]
        area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
        area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        return inter / (area_a[:, None] + area_b[None] - inter)

    with pytest.raises(AssertionError, match="clamp the overlap"):
        check_box_iou(no_clamp)

    def voc_plus_one(a, b):
        from vislib.exercises.boxes import _iou_plus_one

        return _iou_plus_one(a, b).float()

    with pytest.raises(AssertionError, match=r"added 1 to widths"):
        check_box_iou(voc_plus_one)

    def reference_ap(flags, total):
        precision, recall = precision_recall_curve(torch.tensor(flags, dtype=torch.bool), total)
        return voc_ap(recall, precision)

    assert check_average_precision(reference_ap) == 7

    def tp_mean(flags, total):
        flags = np.asarray(flags, dtype=float)
        precision = np.cumsum(flags) / np.arange(1, len(flags) + 1)
        return float(precision[flags == 1].sum() / total)

    with pytest.raises(AssertionError, match="monotone envelope|precision averaged at each TP"):
        check_average_precision(tp_mean)


def test_the_simulated_detectors_numpy_iou_equals_box_iou_with_zero_for_empty_pairs():
    from vislib.ops.boxes import box_iou
    from vislib.states.scoring import _iou_nan_as_zero

    generator = torch.Generator().manual_seed(0)
    corners = torch.rand(40, 2, generator=generator, dtype=torch.float64) * 100
    boxes = torch.cat([corners, corners + torch.rand(40, 2, generator=generator, dtype=torch.float64) * 30], 1)
    boxes[:3, 2:] = boxes[:3, :2]  # zero-area boxes: box_iou gives nan against each other
    expected = torch.nan_to_num(box_iou(boxes[:25], boxes), nan=0.0).numpy()
    assert np.isnan(box_iou(boxes[:3], boxes[:3])).any()  # the case nan_as_zero is for
    assert np.array_equal(_iou_nan_as_zero(boxes[:25].numpy(), boxes.numpy()), expected)
