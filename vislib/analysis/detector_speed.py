"""How fast a detector runs: seconds per image of a one-stage and a two-stage detector, measured alike.

The lecture says YOLO is fast because it looks once: one forward pass gives every box, where Faster R-CNN
runs a backbone, a region proposal network, RoI Align and a head on each proposal. Whether that holds for
two small models on this machine is a measurement, and a fair one needs the same images, the same device,
the same post-processing settings as the evaluation, and a robust clock:

* every call runs under ``torch.inference_mode`` on a detector in evaluation mode, including its
  post-processing (YOLO: decoding, threshold and NMS; Faster R-CNN: everything torchvision's model does);
* ``warmup`` calls first (allocations, caches, lazy initialization), then ``repeats`` timed calls whose
  **median** is one value (one scheduler preemption on a shared machine moves a mean, not a median);
* ``rounds`` independent values per setting, the detectors **interleaved** within each round, so a change
  of machine load between rounds shifts both alike (:func:`compare_detector_speed`);
* the thread count is set for the measurement (1, or all PyTorch threads) and restored afterwards;
* wall-clock seconds (after a CUDA synchronization on a GPU) and the process's CPU seconds are both kept:
  on a busy machine the wall time of one thread is inflated by waiting for a core, its CPU time much less.

:func:`yolo_detect` and :func:`faster_rcnn_detect` are the two detectors' whole inference, images in,
detections out, exactly as their ``predict`` functions compute them.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from vislib._validation import check_callable, check_int, check_tensor, check_type
from vislib.models.yolo import decode_predictions

__all__ = [
    "DetectorTiming",
    "SpeedComparison",
    "compare_detector_speed",
    "faster_rcnn_detect",
    "time_detector",
    "yolo_detect",
]


@dataclass(frozen=True)
class DetectorTiming:
    """One detector at one batch size and thread count: seconds per image, one value per round.

    ``seconds`` (wall clock) and ``cpu_seconds`` (the process's CPU time, all its threads) are per image:
    the median call's time divided by ``batch_size``.
    """

    name: str
    batch_size: int
    threads: int
    seconds: tuple[float, ...]
    cpu_seconds: tuple[float, ...]
    repeats: int
    warmup: int
    device: str

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu_seconds(self) -> float:
        return statistics.median(self.cpu_seconds)

    @property
    def images_per_second(self) -> float:
        return 1.0 / self.median_seconds


def yolo_detect(model: nn.Module, images: Tensor, conf_threshold: float = 0.05, iou_threshold: float = 0.5) -> list:
    """A :class:`~vislib.models.yolo.TinyYolo`'s detections for a batch ``images [N, 3, H, W]``: one forward
    pass, then :func:`~vislib.models.yolo.decode_predictions` per image (threshold and per-class NMS), as
    :func:`vislib.training.yolo.predict` computes them."""
    check_type("model", model, nn.Module, "a torch.nn.Module (a TinyYolo)")
    check_tensor("images", images, shape=("N", 3, "H", "W"), floating=True)
    outputs = model(images)
    return [
        decode_predictions(output, model.image_size, conf_threshold, iou_threshold, num_boxes=model.num_boxes)
        for output in outputs
    ]


def faster_rcnn_detect(model: nn.Module, images: Tensor) -> list:
    """A torchvision ``FasterRCNN``'s detections for a batch ``images [N, 3, H, W]`` (its transform, backbone,
    RPN, RoI heads and post-processing), as :func:`vislib.training.faster_rcnn.predict` computes them."""
    check_type("model", model, nn.Module, "a torch.nn.Module (a torchvision FasterRCNN)")
    check_tensor("images", images, shape=("N", 3, "H", "W"), floating=True)
    return model(list(images))


def time_detector(
    detect: Callable[[Tensor], object],
    images: Tensor,
    *,
    name: str = "detector",
    batch_size: int = 1,
    threads: int | None = None,
    rounds: int = 3,
    repeats: int = 5,
    warmup: int = 2,
) -> DetectorTiming:
    """Seconds per image of ``detect(batch)`` on batches of ``batch_size`` of ``images``.

    Each round makes ``warmup`` untimed calls, then ``repeats`` timed ones (on the batches that follow each
    other through ``images``, cycling), and keeps the median call divided by ``batch_size``. Everything runs
    under ``torch.inference_mode`` with ``threads`` PyTorch threads (default: the current count), restored
    afterwards. Put the detector in evaluation mode first (:func:`compare_detector_speed` does).

    Args:
        detect: ``batch [B, 3, H, W] -> detections``, e.g. ``functools.partial(yolo_detect, model)``.
        images (Tensor[N, 3, H, W]): the images, on the detector's device; ``N >= batch_size``.
        name (str): the detector's name in the result.
        batch_size, threads, rounds, repeats, warmup (int).
    """
    check_callable("detect", detect)
    check_tensor("images", images, shape=("N", 3, "H", "W"), floating=True)
    check_type("name", name, str, "a string")
    batch_size = check_int("batch_size", batch_size, min_value=1)
    if len(images) < batch_size:
        raise ValueError(f"images must hold at least batch_size = {batch_size} images, got {len(images)}")
    threads = torch.get_num_threads() if threads is None else check_int("threads", threads, min_value=1)
    rounds = check_int("rounds", rounds, min_value=1)
    repeats = check_int("repeats", repeats, min_value=1)
    warmup = check_int("warmup", warmup, min_value=0)
    wall, cpu = [], []
    for _ in range(rounds):
        seconds, cpu_seconds = _time_round(detect, images, batch_size, threads, repeats, warmup)
        wall.append(seconds)
        cpu.append(cpu_seconds)
    return DetectorTiming(name, batch_size, threads, tuple(wall), tuple(cpu), repeats, warmup, str(images.device))


@dataclass(frozen=True)
class SpeedComparison:
    """:func:`compare_detector_speed`'s timings: one :class:`DetectorTiming` per (detector, batch size, threads)."""

    timings: tuple[DetectorTiming, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.name for t in self.timings))

    def get(self, name: str, batch_size: int, threads: int) -> DetectorTiming:
        """The timing of detector ``name`` at ``batch_size`` and ``threads``."""
        for timing in self.timings:
            if (timing.name, timing.batch_size, timing.threads) == (name, batch_size, threads):
                return timing
        settings = sorted({(t.name, t.batch_size, t.threads) for t in self.timings})
        raise ValueError(f"no timing for ({name!r}, batch_size={batch_size}, threads={threads}); measured: {settings}")


def compare_detector_speed(
    detectors: Mapping[str, tuple[nn.Module, Callable]],
    images: Tensor,
    *,
    batch_sizes: Sequence[int] = (1, 32),
    thread_counts: Sequence[int | None] = (1, None),
    rounds: int = 3,
    repeats: int = 5,
    warmup: int = 2,
) -> SpeedComparison:
    """Time every detector at every batch size and thread count, interleaved round by round.

    Args:
        detectors: name -> ``(model, detect)``, ``detect(model, batch)`` giving its detections
            (:func:`yolo_detect`, :func:`faster_rcnn_detect`); the models are put in evaluation mode for the
            measurement and left in the mode they were in.
        images (Tensor[N, 3, H, W]): the same images for every detector, on their device.
        batch_sizes: e.g. ``(1, 32)``; thread_counts: e.g. ``(1, None)``, ``None`` meaning all of PyTorch's
            threads (``torch.get_num_threads()`` when called).
        rounds: values per setting; in each round every detector is timed once per setting, one after the other.
        repeats, warmup: per value, as :func:`time_detector`.
    """
    check_type("detectors", detectors, Mapping, "a mapping name -> (model, detect)")
    if not detectors:
        raise ValueError("detectors must name at least one detector")
    for name, entry in detectors.items():
        check_type("detectors' names", name, str, "strings")
        if not isinstance(entry, (tuple, list)) or len(entry) != 2:
            raise TypeError(f"detectors[{name!r}] must be a (model, detect) pair, got {entry!r}")
        check_type(f"detectors[{name!r}][0]", entry[0], nn.Module, "a torch.nn.Module")
        check_callable(f"detectors[{name!r}][1]", entry[1])
    check_tensor("images", images, shape=("N", 3, "H", "W"), floating=True)
    if isinstance(batch_sizes, (str, bytes)) or not isinstance(batch_sizes, Sequence) or not batch_sizes:
        raise TypeError(f"batch_sizes must be a non-empty sequence of integers, got {batch_sizes!r}")
    batch_sizes = [check_int("batch_sizes", b, min_value=1, max_value=len(images)) for b in batch_sizes]
    if isinstance(thread_counts, (str, bytes)) or not isinstance(thread_counts, Sequence) or not thread_counts:
        raise TypeError(f"thread_counts must be a non-empty sequence of integers or None, got {thread_counts!r}")
    all_threads = torch.get_num_threads()
    thread_counts = list(
        dict.fromkeys(all_threads if t is None else check_int("thread_counts", t, min_value=1) for t in thread_counts)
    )
    rounds = check_int("rounds", rounds, min_value=1)
    repeats = check_int("repeats", repeats, min_value=1)
    warmup = check_int("warmup", warmup, min_value=0)

    modes = {name: model.training for name, (model, _) in detectors.items()}
    values = {}
    try:
        for model, _ in detectors.values():
            model.eval()
        for _ in range(rounds):
            for batch_size in batch_sizes:
                for threads in thread_counts:
                    for name, (model, detect) in detectors.items():
                        run = _bind(detect, model)
                        seconds = _time_round(run, images, batch_size, threads, repeats, warmup)
                        values.setdefault((name, batch_size, threads), []).append(seconds)
    finally:
        for name, (model, _) in detectors.items():
            model.train(modes[name])
    timings = tuple(
        DetectorTiming(
            name,
            batch_size,
            threads,
            tuple(wall for wall, _ in pairs),
            tuple(cpu for _, cpu in pairs),
            repeats,
            warmup,
            str(images.device),
        )
        for (name, batch_size, threads), pairs in values.items()
    )
    return SpeedComparison(timings)


def _bind(detect: Callable, model: nn.Module) -> Callable[[Tensor], object]:
    return lambda batch: detect(model, batch)


def _synchronize(images: Tensor) -> None:
    if images.is_cuda:
        torch.cuda.synchronize(images.device)


def _time_round(detect, images: Tensor, batch_size: int, threads: int, repeats: int, warmup: int):
    """``(wall, cpu)`` seconds per image of the median of ``repeats`` timed calls after ``warmup`` ones."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    walls, cpus = [], []
    batches = max(len(images) // batch_size, 1)
    try:
        with torch.inference_mode():
            for call in range(warmup + repeats):
                first = (call % batches) * batch_size
                batch = images[first : first + batch_size]
                _synchronize(images)
                wall_start, cpu_start = time.perf_counter(), time.process_time()
                detect(batch)
                _synchronize(images)
                wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
                if call >= warmup:
                    walls.append(wall)
                    cpus.append(cpu)
    finally:
        torch.set_num_threads(previous)
    return statistics.median(walls) / batch_size, statistics.median(cpus) / batch_size
