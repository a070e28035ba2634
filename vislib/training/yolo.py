"""Training and running a YOLO-style detector (:class:`vislib.models.yolo.TinyYolo`).

:func:`train_detector` renders the data set once (images and YOLO targets,
encoded with the model's ``S``, ``B``, ``C``), then runs Adam on
:class:`~vislib.models.yolo.YoloLoss` for a number of epochs, calling
``on_epoch(epoch, model, run)`` after each one: the place for a training
monitor, whose time is measured apart from the epoch's. :func:`predict`
decodes the model's outputs into boxes, and :func:`to_coco_results` writes
them as COCO result dicts for :func:`vislib.metrics.coco.coco_evaluate`.
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
from vislib.models.yolo import TinyYolo, YoloLoss, decode_predictions, encode_targets
from vislib.progress import progress
from vislib.runtime import Profile
from vislib.training.epochs import (
    EpochTrainingRun,
    _check_dataset,
    _device_of,
    _end_epoch,
    _take_step,
    symmetry,
)

__all__ = [
    "DetectorTrainingRun",
    "LOSS_PARTS",
    "LR_SCHEDULES",
    "predict",
    "prepare_data",
    "train_detector",
    "yolo_recipe",
    "YOLO_RECIPES",
    "YoloRecipe",
]

LOSS_PARTS = ("coord", "obj", "noobj", "class")


LR_SCHEDULES = ("cosine", "constant")


@dataclass(frozen=True)
class YoloRecipe:
    """Notebook 07's TinyYolo run for one profile: the shapes data, the model's grid and the training settings.

    The notebook, the benchmark's YOLO measurement and its grid-widget fixture all train with it, so the
    numbers they report belong to the same run. ``YOLO_RECIPES`` holds the quick and full profiles' values;
    :func:`yolo_recipe` picks the active one.
    """

    train_images: int
    held_out_images: int
    epochs: int
    image_size: int = 64
    grid_size: int = 4
    num_boxes: int = 2
    lr: float = 2e-3
    lr_schedule: str = "cosine"
    train_seed: int = 1  # the shapes data sets' seeds
    held_out_seed: int = 2
    model_seed: int = 0  # torch's seed just before the model's weights are drawn

    def datasets(self) -> tuple[ShapesDataset, ShapesDataset]:
        """``(train_set, held_out)``: the recipe's shapes images and their objects."""
        return (
            ShapesDataset(self.train_images, image_size=self.image_size, seed=self.train_seed),
            ShapesDataset(self.held_out_images, image_size=self.image_size, seed=self.held_out_seed),
        )

    def model(self, num_classes: int) -> TinyYolo:
        """A freshly initialized :class:`~vislib.models.yolo.TinyYolo` (torch seeded with ``model_seed`` first)."""
        torch.manual_seed(self.model_seed)
        return TinyYolo(
            image_size=self.image_size, grid_size=self.grid_size, num_boxes=self.num_boxes, num_classes=num_classes
        )

    def train(self, model: nn.Module, train_set, **options) -> DetectorTrainingRun:
        """:func:`train_detector` with the recipe's epochs, learning rate and schedule; ``options`` (device,
        ``on_epoch``, ``show_progress``, ...) go to it unchanged."""
        return train_detector(model, train_set, epochs=self.epochs, lr=self.lr, lr_schedule=self.lr_schedule, **options)


#: Notebook 07's run in the quick profile (CI, 2 CPU cores) and the full one (lectures, a GPU).
YOLO_RECIPES = {
    "quick": YoloRecipe(train_images=300, held_out_images=60, epochs=3),
    "full": YoloRecipe(train_images=4000, held_out_images=300, epochs=20),
}


#: Notebook 08's YOLO, for its speed and error comparison with Faster R-CNN: notebook 07's model, grid and
#: schedule at 08's image size (128 px), on 08's training and held-out images (same counts and seeds as its
#: Faster R-CNN). The full profile's 30,000 image passes cost about as much as 08's Faster R-CNN training.
YOLO_RECIPES_128 = {
    "quick": YoloRecipe(train_images=300, held_out_images=60, epochs=3, image_size=128),
    "full": YoloRecipe(train_images=2000, held_out_images=300, epochs=15, image_size=128),
}


def yolo_recipe(profile: Profile | None = None, *, image_size: int = 64) -> YoloRecipe:
    """The :class:`YoloRecipe` of ``profile`` (default: the active one, :func:`vislib.runtime.profile`):
    notebook 07's (``image_size=64``) or notebook 08's comparison run (``image_size=128``)."""
    if profile is not None:
        check_type("profile", profile, Profile, "a vislib.runtime.Profile (from vislib.runtime.profile()) or None")
    recipes = {64: YOLO_RECIPES, 128: YOLO_RECIPES_128}[check_choice("image_size", image_size, (64, 128))]
    return recipes[(profile or runtime.profile()).name]


@dataclass
class DetectorTrainingRun(EpochTrainingRun):
    """What :func:`train_detector` measured: YOLO's loss parts, and the objects its grid could not hold.

    ``prepare_seconds`` is the time of rendering the images and encoding the targets, once.
    """

    loss_parts: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in LOSS_PARTS})  # per step
    dropped_objects: int = 0  # objects YOLOv1 cannot represent (their cell was taken)
    total_objects: int = 0


def _model_sizes(model: nn.Module) -> tuple[int, int, int, int]:
    try:
        return model.image_size, model.grid_size, model.num_boxes, model.num_classes
    except AttributeError:
        raise TypeError(
            "model must have image_size, grid_size, num_boxes and num_classes attributes (a TinyYolo)"
        ) from None


def prepare_data(dataset, model: nn.Module) -> tuple[Tensor, Tensor, list, int, int]:
    """Render the data set once for ``model``.

    Returns:
        ``(images [N, 3, H, W], targets [N, S, S, B*5+C], annotations, dropped, objects)``:
        the stacked images, their targets encoded with the model's ``S, B, C``, each
        image's ``(boxes, labels)``, and how many of the ``objects`` were dropped
        because their cell was taken.
    """
    image_size, S, B, C = _model_sizes(model)
    images, targets, annotations, dropped, objects = [], [], [], 0, 0
    for i in range(len(dataset)):
        image, target = dataset[i]
        encoded, lost = encode_targets(target["boxes"], target["labels"], image_size, S, B, C)
        images.append(image)
        targets.append(encoded)
        annotations.append((target["boxes"], target["labels"]))
        dropped += lost
        objects += len(target["labels"])
    return torch.stack(images), torch.stack(targets), annotations, dropped, objects


def train_detector(
    model: nn.Module,
    dataset,
    *,
    epochs: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    weight_decay: float = 5e-4,
    seed: int = 0,
    device=None,
    on_epoch=None,
    show_progress: bool = False,
    augment: bool = True,
    lr_schedule: str = "constant",
    loss: YoloLoss | None = None,
) -> DetectorTrainingRun:
    """Train a YOLO model with Adam on ``dataset`` for ``epochs`` passes.

    Every epoch visits the images once in a new order drawn from ``seed`` (the
    last batch may be smaller). ``on_epoch(epoch, model, run)`` is called after
    each epoch, ``epoch`` counting from 1; the model is put back in training
    mode afterwards, so the callback may evaluate it. Training stops early,
    marked ``diverged``, if the loss stops being finite. The model is returned
    in evaluation mode.

    Args:
        model: a :class:`~vislib.models.yolo.TinyYolo` (anything with ``image_size``,
            ``grid_size``, ``num_boxes``, ``num_classes`` whose output goes to :class:`YoloLoss`).
        dataset: ``(image, target)`` pairs as :class:`~vislib.data.shapes.ShapesDataset` gives them.
        epochs, batch_size (int), lr, weight_decay (float), seed (int).
        device: where to train; default, the model's device.
        on_epoch: optional callable ``(epoch, model, run)``.
        show_progress (bool): a progress bar over epochs.
        augment (bool): show each image in one of the 8 symmetries of the square, drawn at random
            each time (see :func:`symmetry`); the targets are encoded again from the moved boxes.
        lr_schedule (str): ``"constant"`` keeps ``lr``; ``"cosine"`` lowers it from ``lr`` to 0 along
            half a cosine over the whole run, step by step.
        loss: the loss; default ``YoloLoss(S, B, C)`` with the paper's weights.
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    image_size, S, B, C = _model_sizes(model)
    _check_dataset(dataset, image_size)
    epochs = check_int("epochs", epochs, min_value=1)
    batch_size = check_int("batch_size", batch_size, min_value=1)
    lr = check_number("lr", lr, min_value=0.0)
    weight_decay = check_number("weight_decay", weight_decay, min_value=0.0)
    seed = check_int("seed", seed, min_value=0)
    check_type("augment", augment, bool, "True or False")
    check_choice("lr_schedule", lr_schedule, LR_SCHEDULES)
    if on_epoch is not None:
        check_callable("on_epoch", on_epoch)
    if loss is None:
        loss = YoloLoss(S, B, C)
    check_type("loss", loss, YoloLoss, "a YoloLoss")
    device = _device_of(model, device)

    run = DetectorTrainingRun()
    start = time.perf_counter()
    images, targets, annotations, run.dropped_objects, run.total_objects = prepare_data(dataset, model)
    images, targets = images.to(device), targets.to(device)
    run.num_images = len(images)
    run.prepare_seconds = time.perf_counter() - start

    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    total_steps = epochs * math.ceil(len(images) / batch_size)
    if lr_schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / total_steps))
        )
    else:
        scheduler = None
    generator = torch.Generator().manual_seed(seed)
    for epoch in progress(range(1, epochs + 1), desc="training", disable=not show_progress):
        model.train()
        start = time.perf_counter()
        first_step = run.steps
        order = torch.randperm(len(images), generator=generator).to(device)
        for first in range(0, len(order), batch_size):
            batch = order[first : first + batch_size]
            if augment:
                batch_images, batch_targets = _augmented(images, annotations, batch.tolist(), model, generator)
            else:
                batch_images, batch_targets = images[batch], targets[batch]
            parts = loss(model(batch_images), batch_targets)
            if not _take_step(run, parts["total"], parts, optimizer, scheduler):
                break
        if not _end_epoch(run, epoch, model, on_epoch, start, first_step):
            break
    model.eval()
    return run


def _augmented(
    images: Tensor, annotations: list, batch: list[int], model: nn.Module, generator
) -> tuple[Tensor, Tensor]:
    """A batch of images, each in a random symmetry, with its targets encoded from the moved boxes."""
    image_size, S, B, C = _model_sizes(model)
    transforms = torch.randint(0, 8, (len(batch),), generator=generator).tolist()
    moved_images, moved_targets = [], []
    for index, transform in zip(batch, transforms):
        boxes, labels = annotations[index]
        image, boxes = symmetry(images[index], boxes.to(images.device), transform)
        moved_images.append(image)
        moved_targets.append(encode_targets(boxes.cpu(), labels, image_size, S, B, C)[0])
    return torch.stack(moved_images), torch.stack(moved_targets).to(images.device)


@torch.no_grad()
def predict(
    model: nn.Module,
    dataset,
    *,
    conf_threshold: float = 0.05,
    iou_threshold: float = 0.5,
    batch_size: int = 64,
    device=None,
) -> list[dict]:
    """Decoded detections for every image of ``dataset``, in its order (model in evaluation mode, no gradients).

    Each entry is :func:`~vislib.models.yolo.decode_predictions`' dict (``boxes``,
    ``scores``, ``labels``, ``cell``, ``slot``), on the CPU. The model is left in
    the mode it was in.
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    image_size, _, B, _ = _model_sizes(model)
    _check_dataset(dataset, image_size)
    conf_threshold = check_number("conf_threshold", conf_threshold, min_value=0.0, max_value=1.0)
    iou_threshold = check_number("iou_threshold", iou_threshold, min_value=0.0, max_value=1.0)
    batch_size = check_int("batch_size", batch_size, min_value=1)
    device = _device_of(model, device)
    was_training = model.training
    model.to(device).eval()
    predictions = []
    for first in range(0, len(dataset), batch_size):
        images = torch.stack([dataset[i][0] for i in range(first, min(first + batch_size, len(dataset)))])
        outputs = model(images.to(device)).cpu()
        for output in outputs:
            predictions.append(decode_predictions(output, image_size, conf_threshold, iou_threshold, num_boxes=B))
    model.train(was_training)
    return predictions
