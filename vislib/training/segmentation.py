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
* :func:`compare_segmenters`: the notebook's controlled comparisons over seeds (several architectures, the
  same data, steps and seeds; optionally one trained, frozen encoder shared by all, so that only the decoders
  differ) -> :class:`SegmenterComparison` (mIoU, trimap mIoU, boundary F-score, time per model and seed);
  :func:`share_encoder` copies (and freezes) an encoder into a model.

A model may return a Tensor ``[N, C, H, W]`` or a dict with key ``"out"`` (torchvision's segmentation
models), so the same loop trains both.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from vislib._validation import check_callable, check_choice, check_int, check_number, check_tensor, check_type
from vislib.metrics.boundary import boundary_f_score, trimap_miou
from vislib.metrics.segmentation import SegmentationScores, confusion_matrix
from vislib.progress import progress
from vislib.training import store
from vislib.training.classification import _batches, batches

__all__ = [
    "compare_segmenters",
    "evaluate_segmenter",
    "OPTIMIZERS",
    "predict_masks",
    "presence_labels",
    "segmentation_tensors",
    "SegmentationRun",
    "SegmenterComparison",
    "share_encoder",
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
# Controlled comparisons over seeds
# --------------------------------------------------------------------------------------------------------

#: What :class:`SegmenterComparison` records per model and seed.
COMPARISON_METRICS = ("miou", "trimap_miou", "boundary_f", "pixel_accuracy", "seconds", "seconds_per_step")


@dataclass
class SegmenterComparison:
    """What :func:`compare_segmenters` measured.

    ``scores[name]`` holds one dict per seed (in ``seeds`` order) with :data:`COMPARISON_METRICS` and
    ``iou`` (per class); ``parameters[name]`` the trainable parameters of the full model; ``models``,
    ``runs`` and ``predictions`` (``int64 [N, H, W]`` on the validation images) are those of the *last* seed,
    for pictures. ``encoder_runs`` holds the shared encoder's training per seed (empty without one).
    """

    names: list[str]
    seeds: list[int]
    scores: dict[str, list[dict]]
    parameters: dict[str, int]
    models: dict[str, nn.Module]
    runs: dict[str, SegmentationRun]
    predictions: dict[str, Tensor]
    encoder_runs: list[SegmentationRun] = field(default_factory=list)

    def values(self, name: str, metric: str) -> list[float]:
        """One value per seed (seed order) of ``metric`` for model ``name``."""
        check_choice("name", name, self.names)
        check_choice("metric", metric, COMPARISON_METRICS)
        return [float(seed_scores[metric]) for seed_scores in self.scores[name]]

    def mean(self, name: str, metric: str) -> float:
        return statistics.fmean(self.values(name, metric))

    def sd(self, name: str, metric: str) -> float:
        """Sample standard deviation over the seeds (0 with one seed)."""
        values = self.values(name, metric)
        return statistics.stdev(values) if len(values) > 1 else 0.0

    def text(self, name: str, metric: str, digits: int = 3) -> str:
        """``"0.812 ± 0.011"`` (the mean alone with one seed)."""
        mean = self.mean(name, metric)
        if len(self.seeds) < 2:
            return f"{mean:.{digits}f}"
        return f"{mean:.{digits}f} ± {self.sd(name, metric):.{digits}f}"


def share_encoder(model: nn.Module, encoder: nn.Module, freeze: bool = True) -> nn.Module:
    """Copy ``encoder``'s weights (and batch-norm statistics) into ``model.encoder``; with ``freeze`` its
    parameters stop learning (``requires_grad = False``), so training changes only the rest. Returns ``model``."""
    check_type("model", model, nn.Module, "a segmenter with an .encoder")
    check_type("encoder", encoder, nn.Module, "an encoder module (e.g. another model's .encoder)")
    if not isinstance(getattr(model, "encoder", None), nn.Module):
        raise ValueError(f"model must have an .encoder module, got {type(model).__name__} without one")
    model.encoder.load_state_dict(encoder.state_dict())
    for parameter in model.encoder.parameters():
        parameter.requires_grad_(not freeze)
    return model


def compare_segmenters(
    architectures: Mapping[str, Callable[[], nn.Module]],
    train,
    val,
    *,
    steps: int,
    seeds: Sequence[int] = (0,),
    lr: float = 3e-3,
    batch_size: int = 8,
    band: int = 2,
    tolerance: int = 1,
    shared_encoder: Callable[[], nn.Module] | None = None,
    encoder_steps: int = 0,
    encoder_eval_every: int | None = None,
    show_progress: bool = False,
) -> SegmenterComparison:
    """Train every architecture once per seed under equal conditions and score it on ``val``.

    For each seed ``s``: each ``architectures[name]()`` is built after ``torch.manual_seed(s)`` (so models
    with the same encoder class start from the same encoder weights) and trained by :func:`train_segmenter`
    for ``steps`` with the batch order of seed ``s``; then it is scored on ``val``: mIoU, trimap mIoU (pixels
    within ``band`` of a true boundary, :func:`~vislib.metrics.boundary.trimap_miou`), boundary F-score
    (``tolerance`` px), pixel accuracy, training seconds (evaluation excluded) and seconds per step.

    With ``shared_encoder`` (a factory of a model with an ``.encoder``, e.g. the FCN baseline) that model is
    first trained for ``encoder_steps`` per seed, and every architecture then starts from its trained
    encoder, **frozen** (:func:`share_encoder`): the models differ only in what they put on top of the same
    features. ``steps`` then counts the steps of the decoders. With ``encoder_eval_every`` the encoder's
    training records its validation mIoU along the way (``encoder_runs[i].val_miou``).
    """
    check_type("architectures", architectures, Mapping, "a dict of name -> model factory")
    if not architectures:
        raise ValueError("architectures must name at least one model")
    for name, make in architectures.items():
        check_type("architectures key", name, str, "a model name (str)")
        check_callable(f"architectures[{name!r}]", make)
    steps = check_int("steps", steps, min_value=1)
    check_type("seeds", seeds, (list, tuple, range), "a sequence of integer seeds")
    seeds = [check_int(f"seeds[{i}]", s, min_value=0) for i, s in enumerate(seeds)]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must not repeat, got {seeds}")
    band = check_int("band", band, min_value=0)
    tolerance = check_int("tolerance", tolerance, min_value=0)
    if shared_encoder is not None:
        check_callable("shared_encoder", shared_encoder)
        encoder_steps = check_int("encoder_steps", encoder_steps, min_value=1)
        if encoder_eval_every is not None:
            encoder_eval_every = check_int("encoder_eval_every", encoder_eval_every, min_value=1)
    val_images, val_masks = segmentation_tensors(val)
    names = list(architectures)
    comparison = SegmenterComparison(names, seeds, {n: [] for n in names}, {}, {}, {}, {})
    jobs = [(seed, name) for seed in seeds for name in names]
    encoder = None
    trainings = []
    bar = progress(jobs, desc="models x seeds", disable=not show_progress)
    for seed, name in bar:
        if shared_encoder is not None and name == names[0]:
            torch.manual_seed(seed)
            source = shared_encoder()
            tracked = {} if encoder_eval_every is None else {"val": val, "eval_every": encoder_eval_every}
            comparison.encoder_runs.append(
                train_segmenter(source, train, steps=encoder_steps, lr=lr, batch_size=batch_size, seed=seed, **tracked)
            )
            trainings.append(comparison.encoder_runs[-1])
            encoder = source.encoder
        torch.manual_seed(seed)
        model = architectures[name]()
        check_type(f"architectures[{name!r}]()", model, nn.Module, "a torch.nn.Module")
        if encoder is not None:
            share_encoder(model, encoder, freeze=True)
        run = train_segmenter(model, train, steps=steps, lr=lr, batch_size=batch_size, seed=seed)
        trainings.append(run)
        predicted = _cached_predictions(model, val_images)
        scores = SegmentationScores.from_confusion(confusion_matrix(predicted, val_masks, model.num_classes))
        run.final = scores
        comparison.scores[name].append(
            {
                "miou": scores.mean_iou,
                "trimap_miou": trimap_miou(predicted, val_masks, model.num_classes, width=band),
                "boundary_f": boundary_f_score(predicted, val_masks, tolerance=tolerance).f_score,
                "pixel_accuracy": scores.pixel_accuracy,
                "seconds": run.seconds,
                "seconds_per_step": run.seconds / steps,
                "iou": scores.iou.tolist(),
            }
        )
        comparison.parameters[name] = sum(p.numel() for p in model.parameters())
        comparison.models[name], comparison.runs[name], comparison.predictions[name] = model, run, predicted
    if show_progress:
        print(store.report_sources(", ".join(names), trainings))
    return comparison


def _cached_predictions(model: nn.Module, images: Tensor) -> Tensor:
    """:func:`predict_masks` through the local cache (keyed by the trained weights and the images): a comparison
    loaded from the cache need not run its models over the held-out images again."""

    def predict():
        predicted = predict_masks(model, images)
        return {"masks": predicted.to(torch.uint8) if predicted.max() < 256 else predicted}, {}

    key = store.content_key("predictions", model=model, images=images, code=[predict_masks, _scores_of])
    return store.cached("predictions", key, predict).tensors["masks"].long()


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
    source: str = "trained"  # or "cache": loaded from the local cache (vislib.training.store.cached)

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
    cache: bool = True,
) -> SegmentationRun:
    """Train ``model`` on ``train`` (a data set or ``(images, masks)``) for ``steps`` mini-batches.

    Per-pixel cross-entropy (pixels whose mask is ``ignore_index`` are skipped), ``optimizer`` ``"adam"``
    or ``"sgd"`` (momentum 0.9), the batch order drawn from ``seed`` (epochs of reshuffled samples). With
    ``val`` the validation mIoU and pixel accuracy are recorded before training and every ``eval_every``
    steps (and after the last). ``num_classes`` defaults to ``model.num_classes``. ``encoder_lr`` (for a
    model with an ``encoder`` attribute) trains the encoder's parameters with their own learning rate: a
    lower one keeps what a pre-trained encoder learned while the fresh head adapts.

    With ``cache`` (the default) the trained weights and the run go into the local cache
    (:func:`vislib.training.store.cached`, keyed by the model's architecture, initial weights and code, the
    data, every setting, the seed and the code version); a later call with the same key loads them instead of
    training (bit-identical weights and run; ``run.source`` says ``"cache"``), unless ``VISLIB_RETRAIN=1``.
    With ``show_progress`` it prints which path it took.
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
    check_type("cache", cache, bool, "True or False")
    _parameter_groups(model, lr, encoder_lr)  # checks encoder_lr against the model before anything runs
    val_data = segmentation_tensors(val) if val is not None else None
    device = torch.device(device) if device is not None else next(model.parameters()).device
    settings = dict(
        steps=steps, lr=lr, num_classes=num_classes, eval_every=eval_every, batch_size=batch_size,
        optimizer=optimizer, weight_decay=weight_decay, ignore_index=ignore_index, seed=seed,
        encoder_lr=encoder_lr, device=device.type,
    )  # fmt: skip

    def train_now():
        run = _train_segmenter(model, images, masks, val_data, device, settings, show_progress, description)
        return model.state_dict(), _run_record(run)

    if not cache:
        return _run_from_record(train_now()[1], "trained")
    key = store.content_key(
        "segmentation",
        model=model,
        train=(images, masks),
        val=val_data,
        settings=settings,
        code=[_train_segmenter, evaluate_segmenter, _batches, _parameter_groups, _optimizer],
    )
    result = store.cached("segmentation", key, train_now)
    if result.source == "cache":
        model.to(device)
        model.load_state_dict(result.tensors)
        model.eval()
    if show_progress:
        print(result.message.replace("segmentation", description, 1))
    return _run_from_record(result.record, result.source)


def _run_record(run: SegmentationRun) -> dict:
    record = {f: getattr(run, f) for f in ("losses", "eval_steps", "val_miou", "val_pixel_accuracy", "seconds")}
    record["confusion"] = run.final.confusion.tolist() if run.final is not None else None
    return record


def _run_from_record(record: dict, source: str) -> SegmentationRun:
    confusion = record["confusion"]
    final = None if confusion is None else SegmentationScores.from_confusion(torch.tensor(confusion, dtype=torch.int64))
    fields = ("losses", "eval_steps", "val_miou", "val_pixel_accuracy")
    listed = {f: list(record[f]) for f in fields}
    return SegmentationRun(**listed, final=final, seconds=record["seconds"], source=source)


def _train_segmenter(model, images, masks, val_data, device, settings, show_progress, description) -> SegmentationRun:
    """The training loop of :func:`train_segmenter` (arguments checked): trains ``model`` in place."""
    steps, num_classes, ignore_index = settings["steps"], settings["num_classes"], settings["ignore_index"]
    eval_every = settings["eval_every"]
    parameters = _parameter_groups(model, settings["lr"], settings["encoder_lr"])
    model.to(device).train()
    images, masks = images.to(device), masks.to(device)
    opt = _optimizer(settings["optimizer"], parameters, settings["lr"], settings["weight_decay"])
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
    indices = batches(len(images), settings["batch_size"], steps, settings["seed"])
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
