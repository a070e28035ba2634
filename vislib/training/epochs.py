"""What the epoch-based detector trainers share (:mod:`vislib.training.yolo`, :mod:`vislib.training.faster_rcnn`):
the run record :class:`EpochTrainingRun`, the optimizer step and the epoch bookkeeping (``_take_step``,
``_end_epoch``), the data-set check, the eight symmetries of the square used as augmentation (:func:`symmetry`)
and COCO result dicts (:func:`to_coco_results`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from vislib._validation import check_detections, check_int, check_tensor, check_type

__all__ = ["EpochTrainingRun", "symmetry", "to_coco_results"]


@dataclass
class EpochTrainingRun:
    """What an epoch-based detector training run measured (the record :func:`_take_step` and
    :func:`_end_epoch` fill in; :class:`DetectorTrainingRun` and the Faster R-CNN run extend it).

    ``epoch_seconds`` is the time of each epoch's training steps alone;
    ``on_epoch_seconds`` the time spent in the ``on_epoch`` callback after it
    (0 without one), so a monitor's cost can be set against the epoch's.
    """

    losses: list[float] = field(default_factory=list)  # total loss per step
    loss_parts: dict[str, list[float]] = field(default_factory=dict)  # per step, one list per named part
    epoch_losses: list[float] = field(default_factory=list)  # mean total loss per epoch
    epoch_seconds: list[float] = field(default_factory=list)
    on_epoch_seconds: list[float] = field(default_factory=list)
    prepare_seconds: float = 0.0
    num_images: int = 0
    diverged: bool = False

    @property
    def steps(self) -> int:
        return len(self.losses)

    @property
    def epochs(self) -> int:
        return len(self.epoch_losses)

    @property
    def elapsed_seconds(self) -> list[float]:
        """Seconds since the run started, after each epoch: the preparation, then every epoch's training steps
        and its ``on_epoch`` callback (a monitor's evaluation included). The last one is the whole run's time."""
        elapsed, total = [], self.prepare_seconds
        for training, callback in zip(self.epoch_seconds, self.on_epoch_seconds):
            total += training + callback
            elapsed.append(total)
        return elapsed

    def seconds_to_reach(self, per_epoch: Sequence[float], goal: float) -> float | None:
        """:attr:`elapsed_seconds` at the first epoch whose value in ``per_epoch`` (one value per epoch, such
        as a monitor's held-out mAP) is ``>= goal``; ``None`` if no epoch reached it."""
        reached = next((epoch for epoch, value in enumerate(per_epoch) if value >= goal), None)
        return None if reached is None else self.elapsed_seconds[reached]

    @property
    def images_per_second(self) -> float:
        """Training throughput: images per second of training steps (callbacks and preparation excluded)."""
        seconds = sum(self.epoch_seconds)
        return self.num_images * self.epochs / seconds if seconds > 0 else math.nan

    def epoch_loss_parts(self) -> dict[str, list[float]]:
        """Each loss part's mean per epoch."""
        steps_per_epoch = self.steps // max(self.epochs, 1)
        means = {}
        for key, values in self.loss_parts.items():
            means[key] = [
                sum(values[e * steps_per_epoch : (e + 1) * steps_per_epoch]) / max(steps_per_epoch, 1)
                for e in range(self.epochs)
            ]
        return means


def _check_dataset(dataset, image_size: int | None) -> None:
    """Reject a data set that is not ``(image [3, H, W], {"boxes", "labels"})`` pairs (H = W = ``image_size``
    when it is given)."""
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise TypeError(f"dataset must be a sequence of (image, target) pairs, got {type(dataset).__name__}")
    if len(dataset) == 0:
        raise ValueError("dataset must not be empty")
    image, target = dataset[0]
    if not isinstance(image, Tensor) or image.ndim != 3 or image.shape[0] != 3:
        shape = list(image.shape) if isinstance(image, Tensor) else type(image).__name__
        raise ValueError(f"dataset images must be [3, H, W] tensors, got {shape}")
    if image_size is not None and tuple(image.shape[1:]) != (image_size, image_size):
        raise ValueError(
            f"dataset images must be [3, {image_size}, {image_size}] (the model's image_size), got {list(image.shape)}"
        )
    if not isinstance(target, dict) or "boxes" not in target or "labels" not in target:
        raise ValueError("dataset targets must be dicts with 'boxes' and 'labels'")


def _device_of(model: nn.Module, device) -> torch.device:
    return torch.device(device) if device is not None else next(model.parameters()).device


def symmetry(image: Tensor, boxes: Tensor, transform: int) -> tuple[Tensor, Tensor]:
    """One of the 8 symmetries of the square applied to an image ``[3, H, H]`` and its boxes (xyxy pixels).

    ``transform`` is a 3-bit number: bit 0 flips left-right, bit 1 flips
    top-bottom, bit 2 then swaps the axes (a transpose). Circles, squares,
    triangles and stars stay what they are, so this multiplies the training
    set by 8 for free; the boxes move exactly with the pixels.
    """
    check_tensor("image", image, ndim=3)
    check_tensor("boxes", boxes, shape=("K", 4))
    transform = check_int("transform", transform, min_value=0, max_value=7)
    size = image.shape[-1]
    x1, y1, x2, y2 = boxes.unbind(-1)
    if transform & 1:
        image, x1, x2 = image.flip(-1), size - x2, size - x1
    if transform & 2:
        image, y1, y2 = image.flip(-2), size - y2, size - y1
    if transform & 4:
        image, x1, y1, x2, y2 = image.transpose(-1, -2), y1, x1, y2, x2
    return image, torch.stack((x1, y1, x2, y2), dim=-1)


def _take_step(run, total: Tensor, parts: dict, optimizer, scheduler=None) -> bool:
    """One optimizer step on the loss ``total``, recorded in ``run`` with its ``parts``.

    Returns False, and marks ``run.diverged``, without stepping if the loss is not finite.
    """
    value = total.item()
    if not math.isfinite(value):
        run.diverged = True
        return False
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    run.losses.append(value)
    for key, values in run.loss_parts.items():
        values.append(parts[key].item())
    return True


def _end_epoch(run, epoch: int, model: nn.Module, on_epoch, epoch_start: float, first_step: int) -> bool:
    """Record the epoch's time and mean loss in ``run``, then call ``on_epoch`` (timed separately).

    ``first_step`` is the number of steps ``run`` had when the epoch began. Returns False if training
    has diverged and must stop. The model is put back in training mode after the callback.
    """
    run.epoch_seconds.append(time.perf_counter() - epoch_start)
    epoch_losses = run.losses[first_step:]
    run.epoch_losses.append(sum(epoch_losses) / max(len(epoch_losses), 1))
    if run.diverged:
        return False
    if on_epoch is None:
        run.on_epoch_seconds.append(0.0)
        return True
    start = time.perf_counter()
    on_epoch(epoch, model, run)
    run.on_epoch_seconds.append(time.perf_counter() - start)
    model.train()
    return True


def to_coco_results(predictions: list[dict], image_ids) -> list[dict]:
    """Predictions (``boxes`` xyxy, ``scores``, ``labels``) as COCO result dicts.

    Each detection becomes ``{"image_id", "category_id": label, "bbox": [x, y, w, h], "score"}``,
    the format :func:`vislib.metrics.coco.coco_evaluate` and pycocotools' ``loadRes`` read.
    """
    check_type("image_ids", image_ids, Iterable, "an iterable of image ids")
    image_ids = list(image_ids)
    for i, image_id in enumerate(image_ids):
        if isinstance(image_id, Tensor) and image_id.numel() == 1:
            image_ids[i] = image_id = image_id.item()
        if not isinstance(image_id, str):
            image_ids[i] = check_int(f"image_ids[{i}]", image_id)
    check_detections("predictions", predictions, length=len(image_ids), length_name="image_ids")
    results = []
    for image_id, prediction in zip(image_ids, predictions):
        boxes = prediction["boxes"].detach().double().cpu().tolist()
        for (x1, y1, x2, y2), score, label in zip(boxes, prediction["scores"].tolist(), prediction["labels"].tolist()):
            results.append(
                {
                    "image_id": image_id,
                    "category_id": int(label),
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": float(score),
                }
            )
    return results
