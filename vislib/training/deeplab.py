"""Notebook 05's trained experiments: pre-training then fine-tuning, and the DeepLab ablations, over seeds.

* **Pre-train, then fine-tune** (the slide's "pre-train on ImageNet, fine-tune on segmentation", scaled
  down). The cheap-label task: *which shapes does this image contain?* (:func:`presence_data`: thousands
  of generated images, four yes / no labels each, the kind of label a person gives in a second; here read
  off the generator). :func:`train_presence_classifier` trains an
  :class:`~vislib.models.deeplab.EncoderClassifier` on it (binary cross-entropy per label, Adam).
  :func:`fine_tuning_curve` then trains a :class:`~vislib.models.deeplab.DeepLabV3Plus` on 8, 32, 128 ...
  labelled masks, once with the pre-trained encoder (at a lower learning rate) and once from scratch,
  same seed, same initialisation of everything else, same batches: a learning curve per seed.
* **Ablations at equal budgets**: :func:`compare_segmenters` trains several ``DeepLabV3Plus`` variants
  (``output_stride=32`` against the atrous stride 8; ``decoder=False`` against ``True``) on the same data,
  seeds and steps, and scores each with :func:`segmentation_quality`: mIoU, boundary F
  (:func:`~vislib.metrics.boundary.boundary_f_score`) and the mean IoU of small objects
  (:func:`~vislib.metrics.segmentation.object_ious`).

Every run is seeded (``torch.manual_seed(seed)`` before the model is built, ``seed`` for the batch order),
so the paired runs of a seed differ only in the mechanism compared.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vislib._validation import check_int, check_number, check_tensor, check_type
from vislib.data.shapes import ShapesDataset
from vislib.metrics.boundary import boundary_f_score
from vislib.metrics.segmentation import object_ious, segmentation_scores
from vislib.models.deeplab import DeepLabV3Plus
from vislib.progress import progress
from vislib.training import store
from vislib.training.classification import _batches, batches
from vislib.training.segmentation import (
    predict_masks,
    presence_labels,
    segmentation_tensors,
    train_segmenter,
)

__all__ = [
    "SMALL_OBJECT_AREA",
    "FineTuningCurve",
    "PresenceRun",
    "SegmenterComparison",
    "compare_segmenters",
    "fine_tuning_curve",
    "object_targets",
    "presence_data",
    "segmentation_quality",
    "train_presence_classifier",
]

#: Objects with fewer visible pixels than this are "small" (16 x 16; shapes on 64-pixel images cover
#: about 30 to 600 pixels).
SMALL_OBJECT_AREA = 256


# --------------------------------------------------------------------------------------------------------
# Pre-training on image-level labels
# --------------------------------------------------------------------------------------------------------


def presence_data(num_images: int, image_size: int = 64, seed: int = 0) -> tuple[Tensor, Tensor]:
    """``(images [N, 3, H, W], presence float [N, 4])``: generated shapes images and, per image, which of
    the four shapes it contains (1) or not (0): image-level labels, far cheaper than masks."""
    num_images = check_int("num_images", num_images, min_value=1)
    images, masks = segmentation_tensors(ShapesDataset(num_images, image_size, seed=seed))
    return images, presence_labels(masks, 5)


@dataclass
class PresenceRun:
    """What :func:`train_presence_classifier` measured: the loss per step, the held-out share of correct
    yes / no decisions (``val_accuracy``; NaN without ``val``) and the training time."""

    losses: list[float] = field(default_factory=list)
    val_accuracy: float = math.nan
    seconds: float = 0.0
    source: str = "trained"  # or "cache"

    @property
    def steps(self) -> int:
        return len(self.losses)


def train_presence_classifier(
    model: nn.Module,
    images: Tensor,
    presence: Tensor,
    *,
    steps: int,
    lr: float = 3e-3,
    batch_size: int = 32,
    seed: int = 0,
    val: tuple[Tensor, Tensor] | None = None,
    device=None,
    show_progress: bool = False,
    description: str = "pre-training",
    cache: bool = True,
) -> PresenceRun:
    """Train ``model`` (``[N, 3, H, W] -> [N, L]`` scores) to predict ``presence [N, L]`` (0 / 1 per label)
    with binary cross-entropy, Adam, ``steps`` mini-batches drawn from ``seed``. With ``val`` (images,
    presence) the share of correct decisions (score > 0 means "present") is measured after training.

    With ``cache`` (the default) the result goes through the local cache as in
    :func:`~vislib.training.segmentation.train_segmenter` (``run.source``: ``"trained"`` or ``"cache"``)."""
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_tensor("images", images, ndim=4, floating=True)
    check_tensor("presence", presence, shape=(len(images), "L"), floating=True)
    steps = check_int("steps", steps, min_value=1)
    lr = check_number("lr", lr, min_value=0.0)
    batch_size = check_int("batch_size", batch_size, min_value=1, max_value=len(images))
    check_type("cache", cache, bool, "True or False")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    settings = dict(steps=steps, lr=lr, batch_size=batch_size, seed=seed, device=device.type)

    def train_now():
        run = _train_presence_classifier(model, images, presence, val, device, settings, show_progress, description)
        return model.state_dict(), {"losses": run.losses, "val_accuracy": run.val_accuracy, "seconds": run.seconds}

    if not cache:
        run = PresenceRun(**train_now()[1])
        return run
    key = store.content_key(
        "presence",
        model=model,
        train=(images, presence),
        val=val,
        settings=settings,
        code=[_train_presence_classifier, _batches],
    )
    result = store.cached("presence", key, train_now)
    if result.source == "cache":
        model.to(device)
        model.load_state_dict(result.tensors)
        model.eval()
    if show_progress:
        print(result.message.replace("presence", description, 1))
    return PresenceRun(**result.record, source=result.source)


def _train_presence_classifier(model, images, presence, val, device, settings, show_progress, description):
    """The training loop of :func:`train_presence_classifier` (arguments checked): trains ``model`` in place."""
    model.to(device).train()
    images, presence = images.to(device), presence.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
    run = PresenceRun()
    start = time.perf_counter()
    order = batches(len(images), settings["batch_size"], settings["steps"], settings["seed"])
    for batch in progress(order, total=settings["steps"], desc=description, disable=not show_progress):
        loss = F.binary_cross_entropy_with_logits(model(images[batch]), presence[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        run.losses.append(loss.item())
    model.eval()
    if val is not None:
        val_images, val_presence = val
        with torch.no_grad():
            scores = torch.cat(
                [model(val_images[i : i + 256].to(device)).cpu() for i in range(0, len(val_images), 256)]
            )
        run.val_accuracy = ((scores > 0).float() == val_presence).float().mean().item()
    run.seconds = time.perf_counter() - start
    return run


# --------------------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------------------


def object_targets(dataset) -> list[tuple[Tensor, Tensor]]:
    """Per image ``(masks bool [K, H, W], labels [K])``: the visible instance masks of a
    :class:`~vislib.data.shapes.ShapesDataset`, for :func:`segmentation_quality`'s per-object scores."""
    check_type("dataset", dataset, ShapesDataset, "a ShapesDataset")
    return [(target["masks"].bool(), target["labels"]) for _, target in (dataset[i] for i in range(len(dataset)))]


def segmentation_quality(
    model: nn.Module,
    images: Tensor,
    masks: Tensor,
    objects: Sequence[tuple[Tensor, Tensor]],
    num_classes: int = 5,
    *,
    tolerance: int = 2,
    small_area: int = SMALL_OBJECT_AREA,
    margin: int = 4,
) -> dict[str, float]:
    """A trained segmenter's scores on held-out images: ``{"mIoU", "boundary F", "small-object IoU",
    "small objects"}``.

    ``boundary F``: :func:`~vislib.metrics.boundary.boundary_f_score` within ``tolerance`` pixels, pooled
    over the images. ``small-object IoU``: the mean of :func:`~vislib.metrics.segmentation.object_ious` over
    the objects with fewer than ``small_area`` visible pixels (``small objects`` of them).
    """
    check_tensor("images", images, ndim=4, floating=True)
    if len(objects) != len(images):
        raise ValueError(f"objects must hold one (masks, labels) pair per image ({len(images)}), got {len(objects)}")
    predicted = predict_masks(model, images)
    small = []
    for prediction, (object_masks, labels) in zip(predicted, objects):
        areas = object_masks.flatten(1).sum(dim=1)
        ious = object_ious(prediction, object_masks, labels, margin)
        small.extend(ious[areas < small_area].tolist())
    return {
        "mIoU": segmentation_scores(predicted, masks, num_classes).mean_iou,
        "boundary F": boundary_f_score(predicted, masks, tolerance).f_score,
        "small-object IoU": statistics.fmean(small) if small else math.nan,
        "small objects": len(small),
    }


# --------------------------------------------------------------------------------------------------------
# Pre-trained against from scratch, by number of labelled images
# --------------------------------------------------------------------------------------------------------

PRETRAINED, SCRATCH = "pre-trained encoder", "from scratch"


@dataclass
class FineTuningCurve:
    """Validation mIoU per (variant, number of labelled images, seed); variants ``"pre-trained encoder"``
    and ``"from scratch"``. ``miou[variant][count]`` lists one value per seed, in ``seeds`` order."""

    label_counts: tuple[int, ...]
    seeds: tuple[int, ...]
    miou: dict[str, dict[int, list[float]]]
    seconds: float = 0.0

    def mean(self, variant: str) -> list[float]:
        return [statistics.fmean(self.miou[variant][n]) for n in self.label_counts]

    def sd(self, variant: str) -> list[float]:
        return [statistics.stdev(v) if len(v) > 1 else 0.0 for v in (self.miou[variant][n] for n in self.label_counts)]


def fine_tuning_curve(
    encoders: Mapping[int, Mapping[str, Tensor]],
    pool: tuple[Tensor, Tensor],
    val: tuple[Tensor, Tensor],
    *,
    label_counts: Sequence[int] = (8, 32, 128),
    steps: int = 600,
    lr: float = 3e-3,
    encoder_lr: float = 3e-4,
    batch_size: int = 8,
    model_options: Mapping | None = None,
    device=None,
    show_progress: bool = False,
) -> FineTuningCurve:
    """Fine-tune with and without a pre-trained encoder on ``n`` labelled images for each ``n`` in
    ``label_counts``; score the validation mIoU.

    ``encoders`` maps each seed to a pre-trained :class:`~vislib.models.deeplab.Encoder`'s ``state_dict``
    (from that seed's pre-training). For a seed, the ``n`` labelled images are the first ``n`` of a
    seeded permutation of ``pool`` (so the sets are nested), and both models start from
    ``torch.manual_seed(seed)`` (equal ASPP and decoder weights), see the same ``steps`` batches of
    ``min(batch_size, n)`` images, Adam at ``lr``; the pre-trained encoder is trained at ``encoder_lr``.
    ``model_options`` are ``DeepLabV3Plus``'s keyword arguments.
    """
    images, masks = segmentation_tensors(pool)
    val = segmentation_tensors(val)
    counts = tuple(
        check_int(f"label_counts[{i}]", n, min_value=1, max_value=len(images)) for i, n in enumerate(label_counts)
    )
    if not counts:
        raise ValueError("label_counts must hold at least one number of labelled images")
    check_type("encoders", encoders, Mapping, "a dict: seed -> pre-trained encoder state_dict")
    if not encoders:
        raise ValueError("encoders must hold at least one seed's pre-trained encoder")
    options = dict(model_options or {})
    seeds = tuple(check_int("seed", s, min_value=0) for s in encoders)
    curve = FineTuningCurve(counts, seeds, {PRETRAINED: {n: [] for n in counts}, SCRATCH: {n: [] for n in counts}})
    start = time.perf_counter()
    jobs = [(seed, n, variant) for seed in seeds for n in counts for variant in (PRETRAINED, SCRATCH)]
    trainings = []
    for seed, n, variant in progress(jobs, desc="fine-tuning", disable=not show_progress):
        chosen = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:n]
        torch.manual_seed(seed)
        model = DeepLabV3Plus(**options)
        if variant == PRETRAINED:
            model.encoder.load_state_dict(encoders[seed])
        run = train_segmenter(
            model,
            (images[chosen], masks[chosen]),
            steps=steps,
            lr=lr,
            encoder_lr=encoder_lr if variant == PRETRAINED else None,
            batch_size=min(batch_size, n),
            seed=seed,
            device=device,
        )
        trainings.append(run)
        predicted = predict_masks(model, val[0])
        curve.miou[variant][n].append(segmentation_scores(predicted, val[1], model.num_classes).mean_iou)
    curve.seconds = time.perf_counter() - start
    if show_progress:
        print(store.report_sources("fine-tuning", trainings))
    return curve


# --------------------------------------------------------------------------------------------------------
# Ablations
# --------------------------------------------------------------------------------------------------------


@dataclass
class SegmenterComparison:
    """Per variant and seed, :func:`segmentation_quality`'s scores (``scores[variant][i]`` for
    ``seeds[i]``), the parameter count and the training seconds (all seeds) of each variant, and the
    models trained with the last seed (for pictures)."""

    seeds: tuple[int, ...]
    scores: dict[str, list[dict[str, float]]]
    parameters: dict[str, int]
    seconds: dict[str, float]
    models: dict[str, nn.Module] = field(default_factory=dict)

    def values(self, variant: str, metric: str) -> list[float]:
        """One value of ``metric`` per seed (the order of ``seeds``), for :func:`measure_claim`."""
        return [scores[metric] for scores in self.scores[variant]]

    def mean(self, variant: str, metric: str) -> float:
        return statistics.fmean(self.values(variant, metric))


def compare_segmenters(
    variants: Mapping[str, Mapping],
    train: tuple[Tensor, Tensor],
    val: tuple[Tensor, Tensor],
    val_objects: Sequence[tuple[Tensor, Tensor]],
    *,
    seeds: Sequence[int] = (0, 1, 2),
    steps: int = 1000,
    lr: float = 3e-3,
    batch_size: int = 8,
    device=None,
    show_progress: bool = False,
) -> SegmenterComparison:
    """Train one ``DeepLabV3Plus(**variants[name])`` per variant and seed on ``train`` and score it on
    ``val`` with :func:`segmentation_quality`. Within a seed every variant starts from
    ``torch.manual_seed(seed)`` and sees the same batches, so only the architecture differs."""
    check_type("variants", variants, Mapping, "a dict: name -> DeepLabV3Plus keyword arguments")
    if not variants:
        raise ValueError("variants must name at least one model")
    seeds = tuple(check_int(f"seeds[{i}]", s, min_value=0) for i, s in enumerate(seeds))
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    train, val = segmentation_tensors(train), segmentation_tensors(val)
    result = SegmenterComparison(seeds, {name: [] for name in variants}, {}, {name: 0.0 for name in variants})
    jobs = [(seed, name) for seed in seeds for name in variants]
    trainings = []
    for seed, name in progress(jobs, desc="ablation", disable=not show_progress):
        torch.manual_seed(seed)
        model = DeepLabV3Plus(**variants[name])
        result.parameters[name] = sum(p.numel() for p in model.parameters() if p.requires_grad)
        run = train_segmenter(model, train, steps=steps, lr=lr, batch_size=batch_size, seed=seed, device=device)
        trainings.append(run)
        result.seconds[name] += run.seconds
        result.scores[name].append(segmentation_quality(model, *val, val_objects, model.num_classes))
        result.models[name] = model
    if show_progress:
        print(store.report_sources("ablation", trainings))
    return result
