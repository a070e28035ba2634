"""Measurements beyond notebooks and widgets: COCO evaluation speed, data-set throughput, the training
monitor's cost, and a YOLO training run. Each returns ``[(what, value, unit, goal text, met?)]``.
"""

from __future__ import annotations

import statistics
import time

from vislib import runtime


def measure_coco_speed() -> list[tuple]:
    """coco_evaluate against pycocotools on 1,000 images with 100 detections each (issue: >= 5x, equal to 1e-9)."""
    from vislib.tools.bench_coco import compare_with_pycocotools

    result = compare_with_pycocotools(n_images=1000, dets_per_image=100, seed=0)
    return [
        (
            "pycocotools COCOeval (index, loadRes, evaluate, accumulate, summarize)",
            result["pycocotools_s"],
            "s",
            "",
            None,
        ),
        ("vislib coco_evaluate", result["vislib_s"], "s", "", None),
        ("speed-up", result["speedup"], "x", ">= 5", result["speedup"] >= 5),
        (
            "largest difference (summary, precision, recall)",
            result["max_abs_difference"],
            "",
            "<= 1e-9",
            result["equal"],
        ),
    ]


def measure_shapes_throughput(images: int = 400) -> list[tuple]:
    """Images per second the shapes generator renders (it must not starve a GPU's training)."""
    from vislib.data.shapes import ShapesDataset

    rows = []
    for size in (64, 128, 256):
        dataset = ShapesDataset(images, image_size=size, seed=0)
        start = time.perf_counter()
        for i in range(len(dataset)):
            dataset[i]
        rows.append((f"ShapesDataset at {size} px", len(dataset) / (time.perf_counter() - start), "images/s", "", None))
    return rows


def measure_monitor_cost() -> list[tuple]:
    """The live training monitor's cost per epoch next to the epoch (notebook 06's quick-profile run)."""
    import torch

    from vislib.data.shapes import ShapesDataset, to_coco
    from vislib.models.yolo import TinyYolo
    from vislib.plotting.monitor import TrainingMonitor
    from vislib.training.yolo import predict, train_detector

    train_set = ShapesDataset(300, image_size=64, seed=1)
    held_out = ShapesDataset(60, image_size=64, seed=2)
    torch.manual_seed(0)
    model = TinyYolo(image_size=64, grid_size=4, num_classes=4)
    monitor = TrainingMonitor(lambda m: predict(m, held_out), to_coco(held_out), train_set.classes, live=False)
    run = train_detector(model, train_set, epochs=3, device=runtime.device(), on_epoch=monitor)
    epoch = statistics.mean(run.epoch_seconds)
    cost = statistics.mean(run.on_epoch_seconds)
    return [
        ("training epoch (300 images, 64 px, TinyYolo)", epoch, "s", "", None),
        ("monitor per epoch (predict 60 images + COCO evaluation)", cost, "s", "", None),
        ("monitor / epoch", cost / epoch, "", "small", cost < 0.5 * epoch),
    ]


# Notebook 07's training run, profile by profile (keep in step with the notebook's "training-run" cell).
YOLO_RECIPE = {
    "quick": {"train_images": 300, "held_out_images": 60, "epochs": 3},
    "full": {"train_images": 4000, "held_out_images": 300, "epochs": 20},
}


YOLO_MAP50_GOAL = 0.8


def measure_yolo_training() -> list[tuple]:
    """Notebook 07's TinyYolo run in this profile: mAP@.5 on held-out shapes per epoch, and the time to reach 0.8."""
    import torch

    from vislib.data.shapes import ShapesDataset, to_coco
    from vislib.models.yolo import TinyYolo
    from vislib.plotting.monitor import TrainingMonitor
    from vislib.training.yolo import predict, train_detector

    recipe = YOLO_RECIPE[runtime.profile().name]
    train_set = ShapesDataset(recipe["train_images"], image_size=64, seed=1)
    held_out = ShapesDataset(recipe["held_out_images"], image_size=64, seed=2)
    torch.manual_seed(0)
    model = TinyYolo(image_size=64, grid_size=4, num_boxes=2, num_classes=len(train_set.classes))
    monitor = TrainingMonitor(lambda m: predict(m, held_out), to_coco(held_out), train_set.classes, live=False)
    run = train_detector(
        model,
        train_set,
        epochs=recipe["epochs"],
        lr=2e-3,
        lr_schedule="cosine",
        device=runtime.device(),
        on_epoch=monitor,
    )
    ap50 = monitor.history.ap50
    elapsed = [
        run.prepare_seconds + sum(run.epoch_seconds[: e + 1]) + sum(run.on_epoch_seconds[: e + 1])
        for e in range(run.epochs)
    ]
    reached = next((e for e, value in enumerate(ap50) if value >= YOLO_MAP50_GOAL), None)
    rows = [
        (
            f"{recipe['train_images']} training images, {recipe['epochs']} epochs: training steps",
            sum(run.epoch_seconds),
            "s",
            "",
            None,
        ),
        ("whole run (rendering, training, monitoring every epoch)", elapsed[-1], "s", "", None),
        ("mAP@.5 per epoch", " ".join(f"{value:.2f}" for value in ap50), "", "", None),
        (
            f"final mAP@.5 on {len(held_out)} held-out images",
            ap50[-1],
            "",
            f">= {YOLO_MAP50_GOAL} (full profile)",
            ap50[-1] >= YOLO_MAP50_GOAL if runtime.profile().name == "full" else None,
        ),
        ("final mAP@[.5:.95]", monitor.history.epochs[-1].summary["AP"], "", "", None),
    ]
    if reached is not None:
        rows.append((f"time to reach mAP@.5 >= {YOLO_MAP50_GOAL}", elapsed[reached], "s", f"epoch {reached + 1}", None))
    return rows


def measure_nms() -> list[tuple]:
    """``vislib.ops.nms`` against ``torchvision.ops.nms`` at 5,000 and 20,000 random boxes (issue 20: within 3x
    of torchvision's time, memory that does not grow with N**2, the same indices)."""
    import subprocess
    import sys

    rows = []
    for n in (5000, 20000):
        measured = {}
        for library in ("vislib", "torchvision"):
            # A fresh process per run, so that its peak resident memory is this NMS call's alone.
            output = subprocess.run(
                [sys.executable, "-c", _NMS_SCRIPT, library, str(n)], capture_output=True, text=True, check=True
            ).stdout.split()
            measured[library] = (float(output[0]), float(output[1]), output[2])
        ratio = measured["vislib"][0] / measured["torchvision"][0]
        same = measured["vislib"][2] == measured["torchvision"][2]
        for library, (seconds, peak_mb, _) in measured.items():
            rows.append((f"{library} nms, {n:,} boxes: time", seconds, "s", "", None))
            rows.append((f"{library} nms, {n:,} boxes: peak memory above the inputs", peak_mb, "MB", "", None))
        rows.append((f"nms time vislib / torchvision, {n:,} boxes", ratio, "x", "<= 3", ratio <= 3))
        rows.append((f"nms kept indices equal, {n:,} boxes", float(same), "", "1", same))
    return rows


_NMS_SCRIPT = """
import hashlib, resource, sys, time
import torch
library, n = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(1)
g = torch.Generator().manual_seed(0)
xy = torch.rand(n, 2, generator=g) * 1000
boxes = torch.cat([xy, xy + torch.rand(n, 2, generator=g) * 100 + 1], 1)
scores = torch.rand(n, generator=g)
if library == "vislib":
    from vislib.ops.boxes import nms
else:
    from torchvision.ops import nms
nms(boxes[:10], scores[:10], 0.5)  # warm up (imports, first call)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
keep = nms(boxes, scores, 0.5)
seconds = time.perf_counter() - start
peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(seconds, peak, hashlib.sha1(keep.numpy().tobytes()).hexdigest())
"""
