"""Training and scoring semantic segmenters, and pre-training their encoders on a classification task.

* :func:`segmentation_tensors`: a data set of ``(image, target)`` pairs (``target["semantic_mask"]``, as
  :class:`~vislib.data.shapes.ShapesDataset` gives) stacked once into ``images [N, 3, H, W]`` and
  ``masks [N, H, W]`` (rendering every sample at every step would cost more than the training).
* :func:`train_segmenter`: Adam (or SGD) on per-pixel cross-entropy, reproducible batch order, validation
  mIoU every ``eval_every`` steps; returns a :class:`SegmentationRun`.
* :func:`evaluate_segmenter` / :func:`predict_masks`: scores of a data set from its summed confusion
  matrix (:mod:`vislib.metrics.segmentation`).
* :func:`presence_labels`: which foreground classes appear in each mask (multi-label targets, e.g. for an
  image-level auxiliary or pre-training task).

A model may return a Tensor ``[N, C, H, W]`` or a dict with key ``"out"`` (torchvision's segmentation
models), so the same loop trains both.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from vislib._validation import check_choice, check_int, check_number, check_tensor, check_type
from vislib.metrics.segmentation import SegmentationScores, confusion_matrix
from vislib.progress import progress
from vislib.training.classification import batches

__all__ = [
    "evaluate_segmenter",
    "OPTIMIZERS",
    "predict_masks",
    "presence_labels",
    "segmentation_tensors",
    "SegmentationRun",
    "train_segmenter",
]

OPTIMIZERS = ("adam", "sgd")


# --------------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------------


def segmentation_tensors(dataset) -> tuple[Tensor, Tensor]:
    """``(images float [N, 3, H, W], masks int64 [N, H, W])`` from a data set of ``(image, target)`` pairs,
    ``target`` a Tensor mask or a dict with ``"semantic_mask"``; an ``(images, masks)`` pair is checked and
    returned as is."""
    if isinstance(dataset, tuple) and len(dataset) == 2 and all(isinstance(t, Tensor) for t in dataset):
        images, masks = dataset
    else:
        check_type("dataset", dataset, (Dataset, list), "a Dataset of (image, target) pairs or (images, masks)")
        if len(dataset) == 0:
            raise ValueError("dataset must hold at least one sample")
        images, masks = [], []
        for index in range(len(dataset)):
            image, target = dataset[index]
            images.append(image)
            masks.append(target["semantic_mask"] if isinstance(target, dict) else target)
        images, masks = torch.stack(images), torch.stack(masks)
    check_tensor("images", images, ndim=4, floating=True)
    check_tensor("masks", masks, ndim=3)
    if masks.is_floating_point():
        raise TypeError(f"masks must hold integer class labels, got dtype {masks.dtype}")
    if images.shape[0] != masks.shape[0] or images.shape[-2:] != masks.shape[-2:]:
        raise ValueError(
            f"images {list(images.shape)} and masks {list(masks.shape)} must have the same number "
            "of samples and the same height and width"
        )
    return images, masks.long()


def presence_labels(masks: Tensor, num_classes: int) -> Tensor:
    """``float [N, num_classes - 1]``: 1 where foreground class ``c`` (1 .. num_classes - 1) appears in a mask."""
    check_tensor("masks", masks, ndim=3)
    num_classes = check_int("num_classes", num_classes, min_value=2)
    flat = masks.reshape(len(masks), -1)
    return torch.stack([(flat == c).any(dim=1) for c in range(1, num_classes)], dim=1).float()


# --------------------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------------------


def _scores_of(output) -> Tensor:
    return output["out"] if isinstance(output, dict) else output


@torch.no_grad()
def predict_masks(model: nn.Module, images: Tensor, batch_size: int = 64) -> Tensor:
    """``int64 [N, H, W]``: the most likely class of every pixel, the model in evaluation mode (on CPU)."""
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_tensor("images", images, ndim=4, floating=True)
    batch_size = check_int("batch_size", batch_size, min_value=1)
    was_training = model.training
    model.eval()
    device = next(model.parameters(), images).device
    out = [
        _scores_of(model(images[i : i + batch_size].to(device))).argmax(dim=1).cpu()
        for i in range(0, len(images), batch_size)
    ]
    model.train(was_training)
    return torch.cat(out)


def evaluate_segmenter(
    model: nn.Module, data, num_classes: int, ignore_index: int | None = None, batch_size: int = 64
) -> SegmentationScores:
    """Scores of ``model`` on ``data`` (a data set or ``(images, masks)``), from one summed confusion matrix."""
    images, masks = segmentation_tensors(data)
    num_classes = check_int("num_classes", num_classes, min_value=2)
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for start in range(0, len(images), batch_size):
        predicted = predict_masks(model, images[start : start + batch_size], batch_size)
        confusion += confusion_matrix(predicted, masks[start : start + batch_size], num_classes, ignore_index)
    return SegmentationScores.from_confusion(confusion)


# --------------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------------


@dataclass
class SegmentationRun:
    """What :func:`train_segmenter` measured.

    ``losses``: training loss per step; ``eval_steps``: the steps after which the validation set was scored
    (0 = before training); ``val_miou`` / ``val_pixel_accuracy``: the scores there; ``final``: the last
    :class:`~vislib.metrics.segmentation.SegmentationScores` (None without validation data).
    """

    losses: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    val_miou: list[float] = field(default_factory=list)
    val_pixel_accuracy: list[float] = field(default_factory=list)
    final: SegmentationScores | None = None
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return len(self.losses)

    @property
    def final_miou(self) -> float:
        return self.final.mean_iou if self.final is not None else math.nan


def _optimizer(name: str, parameters, lr: float, weight_decay: float):
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)
    return torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=weight_decay)


def _parameter_groups(model: nn.Module, lr: float, encoder_lr: float | None):
    """``model.parameters()``, or two groups (the encoder at ``encoder_lr``, the rest at ``lr``)."""
    if encoder_lr is None:
        return model.parameters()
    encoder_lr = check_number("encoder_lr", encoder_lr, min_value=0.0)
    encoder = getattr(model, "encoder", None)
    if not isinstance(encoder, nn.Module):
        raise ValueError("encoder_lr needs a model with an `encoder` sub-module (as DeepLabV3Plus has)")
    encoder_ids = {id(p) for p in encoder.parameters()}
    rest = [p for p in model.parameters() if id(p) not in encoder_ids]
    return [{"params": list(encoder.parameters()), "lr": encoder_lr}, {"params": rest, "lr": lr}]


def train_segmenter(
    model: nn.Module,
    train,
    *,
    steps: int,
    lr: float = 3e-3,
    num_classes: int | None = None,
    val=None,
    eval_every: int = 25,
    batch_size: int = 8,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    ignore_index: int | None = None,
    seed: int = 0,
    device=None,
    show_progress: bool = False,
    description: str = "segmentation",
    encoder_lr: float | None = None,
) -> SegmentationRun:
    """Train ``model`` on ``train`` (a data set or ``(images, masks)``) for ``steps`` mini-batches.

    Per-pixel cross-entropy (pixels whose mask is ``ignore_index`` are skipped), ``optimizer`` ``"adam"``
    or ``"sgd"`` (momentum 0.9), the batch order drawn from ``seed`` (epochs of reshuffled samples). With
    ``val`` the validation mIoU and pixel accuracy are recorded before training and every ``eval_every``
    steps (and after the last). ``num_classes`` defaults to ``model.num_classes``. ``encoder_lr`` (for a
    model with an ``encoder`` attribute) trains the encoder's parameters with their own learning rate: a
    lower one keeps what a pre-trained encoder learned while the fresh head adapts.
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    images, masks = segmentation_tensors(train)
    steps = check_int("steps", steps, min_value=1)
    lr = check_number("lr", lr, min_value=0.0)
    if num_classes is None:
        num_classes = getattr(model, "num_classes", None)
        if num_classes is None:
            raise ValueError("num_classes is needed (the model has no num_classes attribute)")
    num_classes = check_int("num_classes", num_classes, min_value=2)
    eval_every = check_int("eval_every", eval_every, min_value=1)
    batch_size = check_int("batch_size", batch_size, min_value=1, max_value=len(images))
    check_choice("optimizer", optimizer, OPTIMIZERS)
    weight_decay = check_number("weight_decay", weight_decay, min_value=0.0)
    parameters = _parameter_groups(model, lr, encoder_lr)
    val_data = segmentation_tensors(val) if val is not None else None
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device).train()
    images, masks = images.to(device), masks.to(device)
    opt = _optimizer(optimizer, parameters, lr, weight_decay)
    run = SegmentationRun()

    def evaluate(step):
        if val_data is None:
            return
        scores = evaluate_segmenter(model, val_data, num_classes, ignore_index)
        run.eval_steps.append(step)
        run.val_miou.append(scores.mean_iou)
        run.val_pixel_accuracy.append(scores.pixel_accuracy)
        run.final = scores

    start = time.perf_counter()
    evaluate(0)
    loss_options = {} if ignore_index is None else {"ignore_index": ignore_index}
    indices = batches(len(images), batch_size, steps, seed)
    for step, batch in enumerate(progress(indices, total=steps, desc=description, disable=not show_progress), 1):
        loss = F.cross_entropy(_scores_of(model(images[batch])), masks[batch], **loss_options)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        run.losses.append(loss.item())
        if step % eval_every == 0 or step == steps:
            evaluate(step)
    run.seconds = time.perf_counter() - start
    model.eval()
    return run
