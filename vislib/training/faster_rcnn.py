"""Training and running torchvision's Faster R-CNN (:func:`vislib.models.faster_rcnn.small_faster_rcnn`).

:func:`train_faster_rcnn` follows :func:`vislib.training.yolo.train_detector`:
the data set is rendered once, each epoch visits it in a new order drawn from
``seed``, each image is shown in one of the 8 symmetries of the square
(:func:`~vislib.training.epochs.symmetry`), and ``on_epoch(epoch, model, run)``
is called after every epoch (the place for
:class:`vislib.plotting.monitor.TrainingMonitor`), its time measured apart.

In training mode torchvision's ``FasterRCNN`` returns its four losses:

* ``loss_objectness``: the RPN's binary cross-entropy, object or not, on 256 sampled anchors per image;
* ``loss_rpn_box_reg``: the RPN's smooth-L1 box deltas for the positive anchors;
* ``loss_classifier``: the detector head's cross-entropy over the classes and the background;
* ``loss_box_reg``: the head's smooth-L1 per-class box deltas for the positive proposals.

The optimized loss is their sum. :func:`predict` returns detections as plain
dicts and :func:`to_coco_results` (the same as the YOLO notebook's) writes them
for :func:`vislib.metrics.coco.coco_evaluate`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from vislib import runtime
from vislib._validation import check_callable, check_choice, check_int, check_number, check_type
from vislib.data.shapes import ShapesDataset
from vislib.models.faster_rcnn import small_faster_rcnn
from vislib.progress import progress
from vislib.runtime import Profile
from vislib.training.epochs import (
    EpochTrainingRun,
    _check_dataset,
    _device_of,
    _end_epoch,
    _take_step,
    symmetry,
    to_coco_results,
)

__all__ = [
    "FASTER_RCNN_RECIPES",
    "FasterRCNNRecipe",
    "FasterRCNNTrainingRun",
    "LOSS_PARTS",
    "faster_rcnn_recipe",
    "predict",
    "to_coco_results",
    "train_faster_rcnn",
]

LOSS_PARTS = ("loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg")
"""torchvision's names for the four losses: RPN objectness, RPN boxes, head classes, head boxes."""

LR_SCHEDULES = ("cosine", "constant")
OPTIMIZERS = ("adam", "sgd")


@dataclass
class FasterRCNNTrainingRun(EpochTrainingRun):
    """What :func:`train_faster_rcnn` measured, with torchvision's four loss parts per step."""

    loss_parts: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in LOSS_PARTS})  # per step


@dataclass(frozen=True)
class FasterRCNNRecipe:
    """Notebook 08's Faster R-CNN run for one profile: the shapes data, the model and the training settings.

    The notebook's training cell and ``make weights`` (:mod:`vislib.tools.weights`) both build the run from it,
    so the key :func:`vislib.training.store.trained` computes is the same in both and the notebook finds the
    shipped weights. :data:`FASTER_RCNN_RECIPES` holds the quick and full profiles' values;
    :func:`faster_rcnn_recipe` picks the active one.
    """

    train_images: int
    held_out_images: int
    epochs: int
    image_size: int = 128
    batch_size: int = 4
    lr: float = 2e-3
    train_seed: int = 1  # the shapes data sets' seeds
    held_out_seed: int = 2
    model_seed: int = 0  # torch's seed just before the model's weights are drawn

    def datasets(self) -> tuple[ShapesDataset, ShapesDataset]:
        """``(train_set, held_out)``: the recipe's shapes images and their objects."""
        return (
            ShapesDataset(self.train_images, image_size=self.image_size, seed=self.train_seed),
            ShapesDataset(self.held_out_images, image_size=self.image_size, seed=self.held_out_seed),
        )

    def model(self, num_classes: int) -> nn.Module:
        """A freshly initialized :func:`~vislib.models.faster_rcnn.small_faster_rcnn` (torch seeded with
        ``model_seed`` first); ``num_classes`` counts the background, as torchvision's does."""
        torch.manual_seed(self.model_seed)
        return small_faster_rcnn(num_classes=num_classes, image_size=self.image_size)

    def train(self, model: nn.Module, train_set, **options) -> FasterRCNNTrainingRun:
        """:func:`train_faster_rcnn` with the recipe's epochs, batch size and learning rate; ``options``
        (device, ``on_epoch``, ``show_progress``, ...) go to it unchanged."""
        return train_faster_rcnn(
            model, train_set, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, **options
        )


#: Notebook 08's run in the quick profile (CI, 2 CPU cores) and the full one (lectures; the shipped weights).
FASTER_RCNN_RECIPES = {
    "quick": FasterRCNNRecipe(train_images=600, held_out_images=60, epochs=3),
    "full": FasterRCNNRecipe(train_images=2000, held_out_images=300, epochs=6),
}


def faster_rcnn_recipe(profile: Profile | None = None) -> FasterRCNNRecipe:
    """The :class:`FasterRCNNRecipe` of ``profile`` (default: the active one, :func:`vislib.runtime.profile`)."""
    if profile is not None:
        check_type("profile", profile, Profile, "a vislib.runtime.Profile (from vislib.runtime.profile()) or None")
    return FASTER_RCNN_RECIPES[(profile or runtime.profile()).name]


def _check_model(model) -> int:
    check_type("model", model, nn.Module, "a torch.nn.Module")
    for part in ("transform", "backbone", "rpn", "roi_heads"):
        if not hasattr(model, part):
            raise TypeError(f"model must be a torchvision FasterRCNN (it has no {part!r})")
    return getattr(model, "image_size", None)


def train_faster_rcnn(
    model: nn.Module,
    dataset,
    *,
    epochs: int,
    batch_size: int = 4,
    lr: float = 2e-3,
    weight_decay: float = 1e-4,
    seed: int = 0,
    device=None,
    on_epoch=None,
    show_progress: bool = False,
    augment: bool = True,
    lr_schedule: str = "cosine",
    warmup_steps: int = 20,
    optimizer: str = "adam",
) -> FasterRCNNTrainingRun:
    """Train a torchvision ``FasterRCNN`` with Adam (or SGD) on ``dataset`` for ``epochs`` passes.

    Each step sums the model's four losses (:data:`LOSS_PARTS`). ``on_epoch(epoch, model, run)``
    is called after each epoch (``epoch`` from 1); the model is put back in training mode
    afterwards. Training stops early, marked ``diverged``, if the loss stops being finite. The
    model is returned in evaluation mode.

    Args:
        model: from :func:`vislib.models.faster_rcnn.small_faster_rcnn` (any torchvision ``FasterRCNN``).
        dataset: ``(image, target)`` pairs as :class:`~vislib.data.shapes.ShapesDataset` gives them;
            images without objects are skipped (a torchvision Faster R-CNN accepts them, but they
            teach little here).
        epochs, batch_size (int), lr, weight_decay (float), seed (int). The defaults suit
            :func:`~vislib.models.faster_rcnn.small_faster_rcnn` on 128 px shapes: small batches (more
            steps for the same images) train its detector head faster than large ones, at the same
            images per second on a CPU.
        device: where to train; default, the model's device.
        on_epoch: optional callable ``(epoch, model, run)``.
        show_progress (bool): a progress bar over epochs.
        augment (bool): each image in one of the 8 symmetries of the square, drawn at random each time.
        lr_schedule (str): ``"cosine"`` lowers the rate from ``lr`` to 0 along half a cosine, step by
            step; ``"constant"`` keeps it. Either way the first ``warmup_steps`` rise linearly to ``lr``
            (the RPN's early, random proposals make the first steps noisy).
        warmup_steps (int): steps of linear warm-up (0 for none).
        optimizer (str): ``"adam"``, or ``"sgd"`` with momentum 0.9 (torchvision's reference recipe, which
            wants a much larger ``lr``, such as 0.02).
    """
    image_size = _check_model(model)
    _check_dataset(dataset, image_size)
    return _train_rcnn(
        model,
        dataset,
        FasterRCNNTrainingRun(),
        LOSS_PARTS,
        masks=False,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        seed=seed,
        device=device,
        on_epoch=on_epoch,
        show_progress=show_progress,
        augment=augment,
        lr_schedule=lr_schedule,
        warmup_steps=warmup_steps,
        optimizer=optimizer,
    )


@torch.no_grad()
def predict(model: nn.Module, dataset, *, batch_size: int = 32, device=None) -> list[dict]:
    """Detections for every image of ``dataset``, in its order (evaluation mode, no gradients).

    Each entry is ``{"boxes": [D, 4] xyxy pixels, "scores": [D], "labels": [D]}`` on the CPU, as
    torchvision's ``FasterRCNN`` returns it (after its score threshold, per-class NMS and top-100).
    ``dataset`` may be a data set of ``(image, target)`` pairs or a list of images. The model is left
    in the mode it was in.
    """
    image_size = _check_model(model)
    if isinstance(dataset, Tensor):
        dataset = list(dataset)
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise TypeError(f"dataset must be a data set or a list of images, got {type(dataset).__name__}")
    batch_size = check_int("batch_size", batch_size, min_value=1)
    device = _device_of(model, device)

    def image_of(i):
        item = dataset[i]
        image = item[0] if isinstance(item, (tuple, list)) else item
        if not isinstance(image, Tensor) or image.ndim != 3 or image.shape[0] != 3:
            raise ValueError(f"dataset[{i}] must be an image [3, H, W] or an (image, target) pair")
        if image_size is not None and tuple(image.shape[1:]) != (image_size, image_size):
            raise ValueError(f"dataset[{i}] is {list(image.shape)}; the model expects [3, {image_size}, {image_size}]")
        return image

    was_training = model.training
    model.to(device).eval()
    predictions = []
    try:
        for first in range(0, len(dataset), batch_size):
            images = [image_of(i).to(device) for i in range(first, min(first + batch_size, len(dataset)))]
            for output in model(images):
                predictions.append({key: output[key].cpu() for key in ("boxes", "scores", "labels")})
    finally:
        model.train(was_training)
    return predictions


# --------------------------------------------------------------------------- the shared training loop


def _train_rcnn(
    model: nn.Module,
    dataset,
    run: EpochTrainingRun,
    loss_parts: tuple[str, ...],
    *,
    masks: bool,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    seed: int,
    device,
    on_epoch,
    show_progress: bool,
    augment: bool,
    lr_schedule: str,
    warmup_steps: int,
    optimizer: str,
) -> EpochTrainingRun:
    """The training loop of :func:`train_faster_rcnn` and :func:`vislib.training.mask_rcnn.train_mask_rcnn`.

    Checks the options, renders ``dataset`` once (images with objects only; with ``masks=True`` each
    target's ``masks`` too, which then move with the pixels), and trains ``model`` on the sum of
    ``loss_parts``, recording into ``run``. The model is returned to evaluation mode.
    """
    epochs = check_int("epochs", epochs, min_value=1)
    batch_size = check_int("batch_size", batch_size, min_value=1)
    lr = check_number("lr", lr, min_value=0.0)
    weight_decay = check_number("weight_decay", weight_decay, min_value=0.0)
    seed = check_int("seed", seed, min_value=0)
    check_type("augment", augment, bool, "True or False")
    check_type("show_progress", show_progress, bool, "True or False")
    check_choice("lr_schedule", lr_schedule, LR_SCHEDULES)
    warmup_steps = check_int("warmup_steps", warmup_steps, min_value=0)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    if on_epoch is not None:
        check_callable("on_epoch", on_epoch)
    device = _device_of(model, device)

    start = time.perf_counter()
    samples = []  # (image, boxes, labels, masks or None), on the device
    for i in range(len(dataset)):
        image, target = dataset[i]
        if len(target["boxes"]):
            samples.append(
                (
                    image.to(device),
                    target["boxes"].float().to(device),
                    target["labels"].to(device),
                    target["masks"].to(device) if masks else None,
                )
            )
    if not samples:
        raise ValueError("dataset has no image with an object to train on")
    run.num_images = len(samples)
    run.prepare_seconds = time.perf_counter() - start

    model.to(device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "adam":
        optimizer = torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)
    else:
        optimizer = torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=weight_decay)
    total_steps = epochs * math.ceil(len(samples) / batch_size)

    def factor(step: int) -> float:
        warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0
        if lr_schedule == "cosine":
            return warm * 0.5 * (1 + math.cos(math.pi * step / total_steps))
        return warm

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    generator = torch.Generator().manual_seed(seed)
    for epoch in progress(range(1, epochs + 1), desc="training", disable=not show_progress):
        model.train()
        start = time.perf_counter()
        first_step = len(run.losses)
        order = torch.randperm(len(samples), generator=generator).tolist()
        for first in range(0, len(order), batch_size):
            batch = order[first : first + batch_size]
            transforms = (
                torch.randint(0, 8, (len(batch),), generator=generator).tolist() if augment else [0] * len(batch)
            )
            images, targets = [], []
            for index, transform in zip(batch, transforms):
                image, boxes, labels, instance_masks = samples[index]
                moved_image, moved_boxes = symmetry(image, boxes, transform)
                images.append(moved_image)
                targets.append({"boxes": moved_boxes, "labels": labels})
                if instance_masks is not None:
                    targets[-1]["masks"], _ = symmetry(instance_masks, boxes, transform)  # they move with the pixels
            parts = model(images, targets)
            total = sum(parts[key] for key in loss_parts)
            if not _take_step(run, total, parts, optimizer, scheduler):
                break
        if not _end_epoch(run, epoch, model, on_epoch, start, first_step):
            break
    model.eval()
    return run
