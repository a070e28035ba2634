"""Timing detectors: the clock measures what it says, the detectors compute what their predict functions do."""

import time
from functools import partial

import pytest
import torch

from vislib.analysis.detector_speed import (
    compare_detector_speed,
    faster_rcnn_detect,
    time_detector,
    yolo_detect,
)
from vislib.data.shapes import ShapesDataset
from vislib.models.faster_rcnn import small_faster_rcnn
from vislib.models.yolo import TinyYolo
from vislib.training import faster_rcnn as faster_rcnn_training
from vislib.training import yolo as yolo_training


@pytest.fixture(scope="module")
def shapes():
    dataset = ShapesDataset(4, image_size=64, seed=3)
    return dataset, torch.stack([dataset[i][0] for i in range(len(dataset))])


def test_seconds_per_image_is_the_median_call_divided_by_the_batch():
    # A "detector" that sleeps 20 ms per call: 5 ms per image at batch 4, whatever the load adds on top.
    def sleeper(batch):
        time.sleep(0.02)

    timing = time_detector(sleeper, torch.zeros(8, 3, 4, 4), name="sleep", batch_size=4, rounds=2, repeats=3)
    assert timing.name == "sleep" and timing.batch_size == 4 and len(timing.seconds) == 2
    assert all(0.005 <= s < 0.02 for s in timing.seconds)
    assert all(c < 0.004 for c in timing.cpu_seconds)  # sleeping costs no CPU
    assert timing.images_per_second == pytest.approx(1 / timing.median_seconds)


def test_calls_run_in_inference_mode_on_the_requested_threads_which_are_restored():
    seen = []

    def probe(batch):
        seen.append((torch.is_inference_mode_enabled(), torch.get_num_threads(), len(batch)))

    before = torch.get_num_threads()
    time_detector(probe, torch.zeros(3, 3, 4, 4), batch_size=2, threads=1, rounds=1, repeats=2, warmup=1)
    assert seen == [(True, 1, 2)] * 3  # one warm-up call, two timed ones
    assert torch.get_num_threads() == before


def test_yolo_detect_equals_predict(shapes):
    dataset, images = shapes
    torch.manual_seed(0)
    model = TinyYolo(image_size=64, grid_size=4, num_classes=4, width=8).eval()
    expected = yolo_training.predict(model, dataset, conf_threshold=0.0)
    with torch.inference_mode():
        found = yolo_detect(model, images, conf_threshold=0.0)
    for mine, theirs in zip(found, expected, strict=True):
        for key in ("boxes", "scores", "labels"):
            torch.testing.assert_close(mine[key], theirs[key])


def test_faster_rcnn_detect_equals_predict(shapes):
    dataset, images = shapes
    torch.manual_seed(0)
    model = small_faster_rcnn(num_classes=5, image_size=64, box_score_thresh=0.0).eval()
    expected = faster_rcnn_training.predict(model, dataset)
    with torch.inference_mode():
        found = faster_rcnn_detect(model, images)
    for mine, theirs in zip(found, expected, strict=True):
        for key in ("boxes", "scores", "labels"):
            torch.testing.assert_close(mine[key], theirs[key])


def test_compare_interleaves_detectors_round_by_round_and_restores_their_modes():
    calls = []

    def recorder(tag):
        return lambda model, batch: calls.append((tag, len(batch), torch.get_num_threads(), model.training))

    first, second = torch.nn.Linear(1, 1), torch.nn.Linear(1, 1).eval()
    comparison = compare_detector_speed(
        {"a": (first, recorder("a")), "b": (second, recorder("b"))},
        torch.zeros(4, 3, 4, 4),
        batch_sizes=(1, 4),
        thread_counts=(1,),
        rounds=2,
        repeats=1,
        warmup=0,
    )
    assert [(tag, size) for tag, size, _, _ in calls] == [("a", 1), ("b", 1), ("a", 4), ("b", 4)] * 2
    assert all(threads == 1 and not training for _, _, threads, training in calls)
    assert first.training and not second.training
    assert comparison.names == ("a", "b")
    assert len(comparison.get("b", 4, 1).seconds) == 2
    with pytest.raises(ValueError, match="no timing"):
        comparison.get("a", 2, 1)


def test_a_real_comparison_times_both_detectors(shapes):
    _, images = shapes
    torch.manual_seed(0)
    yolo = TinyYolo(image_size=64, grid_size=4, num_classes=4, width=8)
    rcnn = small_faster_rcnn(num_classes=5, image_size=64)
    comparison = compare_detector_speed(
        {"YOLO": (yolo, yolo_detect), "Faster R-CNN": (rcnn, faster_rcnn_detect)},
        images,
        batch_sizes=(1, 4),
        thread_counts=(1, None),
        rounds=1,
        repeats=1,
        warmup=1,
    )
    threads = sorted({1, torch.get_num_threads()})
    assert len(comparison.timings) == 2 * 2 * len(threads)
    for timing in comparison.timings:
        assert timing.median_seconds > 0 and timing.device == "cpu"
    with pytest.raises(TypeError, match="detectors\\['x'\\]"):
        compare_detector_speed({"x": (yolo,)}, images)
    with pytest.raises(ValueError, match="batch_sizes"):
        compare_detector_speed({"x": (yolo, partial(yolo_detect))}, images, batch_sizes=(8,))
