"""Training and running torchvision's Mask R-CNN (:func:`vislib.models.mask_rcnn.small_mask_rcnn`).

:func:`train_mask_rcnn` is :func:`vislib.training.faster_rcnn.train_faster_rcnn`
with the instance masks in the targets: the data set is rendered once, each
epoch visits it in a new order drawn from ``seed``, each image is shown in one
of the 8 symmetries of the square (the masks move with the pixels), and
``on_epoch(epoch, model, run)`` is called after every epoch (the place for
:class:`vislib.plotting.monitor.TrainingMonitor` with ``masks=True``). Both
run one training loop (``vislib.training.faster_rcnn._train_rcnn``).

In training mode the model returns Faster R-CNN's four losses plus
``loss_mask``: the per-pixel binary cross-entropy between the mask head's
28 x 28 logits *for the ground-truth class* and the mask target
(:func:`vislib.ops.masks.project_masks_on_boxes`) of each positive proposal.

:func:`predict` returns the detections with their masks pasted into the image
(and, on request, the 28 x 28 probabilities before pasting);
:func:`to_coco_mask_results` writes them as COCO ``segm`` results (RLE) for
:func:`vislib.metrics.coco.coco_evaluate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace

import torch
from torch import Tensor, nn

from vislib import runtime
from vislib._validation import check_callable, check_choice, check_int, check_number, check_type
from vislib.models.mask_rcnn import small_mask_rcnn
from vislib.ops.rle import rle_encode
from vislib.progress import progress
from vislib.runtime import Profile
from vislib.training.epochs import EpochTrainingRun, _check_dataset, _device_of, to_coco_results
from vislib.training.faster_rcnn import LOSS_PARTS as BOX_LOSS_PARTS
from vislib.training.faster_rcnn import FasterRCNNRecipe, _train_rcnn

__all__ = [
    "LOSS_PARTS",
    "MASK_RCNN_RECIPES",
    "MaskRCNNRecipe",
    "MaskRCNNTrainingRun",
    "PoolerComparison",
    "compare_poolers",
    "evaluate",
    "mask_rcnn_recipe",
    "predict",
    "to_coco_mask_results",
    "train_mask_rcnn",
]

LOSS_PARTS = BOX_LOSS_PARTS + ("loss_mask",)
"""torchvision's five losses: Faster R-CNN's four and the mask head's binary cross-entropy."""


@dataclass
class MaskRCNNTrainingRun(EpochTrainingRun):
    """What :func:`train_mask_rcnn` measured, with torchvision's five loss parts per step."""

    loss_parts: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in LOSS_PARTS})  # per step


@dataclass(frozen=True)
class MaskRCNNRecipe(FasterRCNNRecipe):
    """Notebook 09's Mask R-CNN run for one profile: :class:`~vislib.training.faster_rcnn.FasterRCNNRecipe`'s
    data and settings (the shapes data carry instance masks), with a Mask R-CNN and :func:`train_mask_rcnn`.

    The notebook's training cells and ``make weights`` (:mod:`vislib.tools.weights`) both build the run from it,
    so the key :func:`vislib.training.store.trained` computes is the same in both and the notebook finds the
    shipped weights. :data:`MASK_RCNN_RECIPES` holds the quick and full profiles' values;
    :func:`mask_rcnn_recipe` picks the active one.
    """

    def model(self, num_classes: int) -> nn.Module:
        """A freshly initialized :func:`~vislib.models.mask_rcnn.small_mask_rcnn` (torch seeded with
        ``model_seed`` first); ``num_classes`` counts the background, as torchvision's does."""
        torch.manual_seed(self.model_seed)
        return small_mask_rcnn(num_classes=num_classes, image_size=self.image_size)

    def train(self, model: nn.Module, train_set, **options) -> MaskRCNNTrainingRun:
        """:func:`train_mask_rcnn` with the recipe's epochs, batch size and learning rate; ``options``
        (device, ``on_epoch``, ``show_progress``, ...) go to it unchanged."""
        return train_mask_rcnn(model, train_set, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, **options)


#: Notebook 09's run in the quick profile (CI, 2 CPU cores) and the full one (lectures; the shipped weights).
MASK_RCNN_RECIPES = {
    "quick": MaskRCNNRecipe(train_images=120, held_out_images=20, epochs=2),
    "full": MaskRCNNRecipe(train_images=1200, held_out_images=200, epochs=5),
}


def mask_rcnn_recipe(profile: Profile | None = None) -> MaskRCNNRecipe:
    """The :class:`MaskRCNNRecipe` of ``profile`` (default: the active one, :func:`vislib.runtime.profile`)."""
    if profile is not None:
        check_type("profile", profile, Profile, "a vislib.runtime.Profile (from vislib.runtime.profile()) or None")
    return MASK_RCNN_RECIPES[(profile or runtime.profile()).name]


def _check_model(model) -> int | None:
    check_type("model", model, nn.Module, "a torch.nn.Module")
    for part in ("transform", "backbone", "rpn", "roi_heads"):
        if not hasattr(model, part):
            raise TypeError(f"model must be a torchvision MaskRCNN (it has no {part!r})")
    if not model.roi_heads.has_mask():
        raise TypeError("model must be a torchvision MaskRCNN (its roi_heads have no mask branch)")
    return getattr(model, "image_size", None)


def train_mask_rcnn(
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
) -> MaskRCNNTrainingRun:
    """Train a torchvision ``MaskRCNN`` on ``dataset`` for ``epochs`` passes (Adam or SGD on the five losses).

    The arguments and schedule are :func:`~vislib.training.faster_rcnn.train_faster_rcnn`'s;
    ``dataset`` must also give ``target["masks"]`` (``uint8 [N, H, W]``, as
    :class:`~vislib.data.shapes.ShapesDataset` does). The model is returned in evaluation mode.
    """
    image_size = _check_model(model)
    _check_dataset(dataset, image_size)
    if "masks" not in dataset[0][1]:
        raise ValueError("dataset targets must have 'masks' (instance masks [N, H, W])")
    return _train_rcnn(
        model,
        dataset,
        MaskRCNNTrainingRun(),
        LOSS_PARTS,
        masks=True,
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
def predict(
    model: nn.Module,
    dataset,
    *,
    batch_size: int = 16,
    mask_threshold: float = 0.5,
    keep_mask_probs: bool = False,
    device=None,
) -> list[dict]:
    """Detections with masks for every image of ``dataset``, in its order (evaluation mode, no gradients).

    Each entry is ``{"boxes": [D, 4], "scores": [D], "labels": [D], "masks": bool [D, H, W]}`` on the
    CPU: torchvision's ``MaskRCNN`` output (score threshold, per-class NMS, top
    ``box_detections_per_img``), its pasted mask probabilities thresholded ``> mask_threshold``.
    With ``keep_mask_probs=True`` each entry also has ``"mask_probs"`` (``[D, M, M]``): the mask head's
    sigmoid probabilities for the detected class *before* pasting, recorded from ``model.roi_heads``.
    ``dataset`` may be a data set of ``(image, target)`` pairs or a list of images.
    """
    image_size = _check_model(model)
    if isinstance(dataset, Tensor):
        dataset = list(dataset)
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise TypeError(f"dataset must be a data set or a list of images, got {type(dataset).__name__}")
    batch_size = check_int("batch_size", batch_size, min_value=1)
    mask_threshold = check_number("mask_threshold", mask_threshold, min_value=0.0, max_value=1.0)
    check_type("keep_mask_probs", keep_mask_probs, bool, "True or False")
    device = _device_of(model, device)

    def image_of(i):
        item = dataset[i]
        image = item[0] if isinstance(item, (tuple, list)) else item
        if not isinstance(image, Tensor) or image.ndim != 3 or image.shape[0] != 3:
            raise ValueError(f"dataset[{i}] must be an image [3, H, W] or an (image, target) pair")
        if image_size is not None and tuple(image.shape[1:]) != (image_size, image_size):
            raise ValueError(f"dataset[{i}] is {list(image.shape)}; the model expects [3, {image_size}, {image_size}]")
        return image

    recorded = []

    def record(module, inputs, outputs):
        recorded.extend(result["masks"][:, 0].cpu() for result in outputs[0])

    was_training = model.training
    model.to(device).eval()
    hook = model.roi_heads.register_forward_hook(record) if keep_mask_probs else None
    predictions = []
    try:
        for first in range(0, len(dataset), batch_size):
            images = [image_of(i).to(device) for i in range(first, min(first + batch_size, len(dataset)))]
            for output in model(images):
                predictions.append(
                    {
                        "boxes": output["boxes"].cpu(),
                        "scores": output["scores"].cpu(),
                        "labels": output["labels"].cpu(),
                        "masks": (output["masks"][:, 0] > mask_threshold).cpu(),
                    }
                )
    finally:
        if hook is not None:
            hook.remove()
        model.train(was_training)
    if keep_mask_probs:
        for prediction, probs in zip(predictions, recorded):
            prediction["mask_probs"] = probs
    return predictions


def to_coco_mask_results(predictions: list[dict], image_ids) -> list[dict]:
    """Predictions with binary ``masks`` (``[D, H, W]``) as COCO ``segm`` result dicts.

    Each detection becomes ``{"image_id", "category_id", "bbox", "score", "segmentation"}`` with
    the mask as an uncompressed RLE (:func:`vislib.ops.rle.rle_encode`), the format
    :func:`vislib.metrics.coco.coco_evaluate` and pycocotools' ``loadRes`` read.
    """
    results = to_coco_results(predictions, image_ids)
    masks = []
    for i, prediction in enumerate(predictions):
        if "masks" not in prediction:
            raise ValueError(f"predictions[{i}] has no 'masks'")
        if len(prediction["masks"]) != len(prediction["boxes"]) or prediction["masks"].ndim != 3:
            raise ValueError(
                f"predictions[{i}]['masks'] must be [D, H, W] with one mask per box "
                f"({len(prediction['boxes'])}), got {list(prediction['masks'].shape)}"
            )
        binary = prediction["masks"]
        if binary.dtype != torch.bool and ((binary != 0) & (binary != 1)).any():
            raise ValueError(
                f"predictions[{i}]['masks'] must be binary (bool or 0 / 1); threshold probabilities first "
                "(predict(..., mask_threshold=0.5))"
            )
        masks.extend(binary.cpu().numpy().astype(bool))
    for result, mask in zip(results, masks):
        result["segmentation"] = rle_encode(mask)
    return results


def evaluate(model: nn.Module, dataset, *, ground_truth: dict | None = None) -> dict:
    """Box and mask COCO summaries of ``model`` on ``dataset``: ``{"bbox": {...12 numbers}, "segm": {...}}``.

    ``ground_truth`` is the data set's COCO dict (default :func:`vislib.data.shapes.to_coco` of it).
    """
    from vislib.data.shapes import to_coco
    from vislib.metrics.coco import coco_evaluate

    _check_model(model)
    if ground_truth is None:
        ground_truth = to_coco(dataset)
    check_type("ground_truth", ground_truth, dict, "a COCO ground-truth dict")
    predictions = predict(model, dataset)
    image_ids = [image["id"] for image in ground_truth["images"]]
    return {
        "bbox": dict(coco_evaluate(ground_truth, to_coco_results(predictions, image_ids), "bbox").summary),
        "segm": dict(coco_evaluate(ground_truth, to_coco_mask_results(predictions, image_ids), "segm").summary),
    }


@dataclass
class PoolerComparison:
    """:func:`compare_poolers`' measurements: for each pooler, one entry per seed."""

    poolers: tuple[str, ...]
    seeds: tuple[int, ...]
    mask: dict[str, list[dict]] = field(default_factory=dict)  # pooler -> per seed, the 12 segm numbers
    box: dict[str, list[dict]] = field(default_factory=dict)  # pooler -> per seed, the 12 bbox numbers
    seconds: dict[str, list[float]] = field(default_factory=dict)  # pooler -> per seed, training seconds
    final_losses: dict[str, list[float]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)  # per run (seed-major): "trained" or "cache"

    def values(self, pooler: str, metric: str, kind: str = "mask") -> list[float]:
        """``metric`` (``"AP"``, ``"AP50"``, ``"AP75"``, ...) of every seed's ``kind`` (mask or box) evaluation."""
        check_choice("kind", kind, ("mask", "box"))
        return [summary[metric] for summary in (self.mask if kind == "mask" else self.box)[pooler]]

    def mean(self, pooler: str, metric: str, kind: str = "mask") -> float:
        values = self.values(pooler, metric, kind)
        return sum(values) / len(values)

    def spread(self, pooler: str, metric: str, kind: str = "mask") -> float:
        """The sample standard deviation over seeds (0 with one seed)."""
        values = self.values(pooler, metric, kind)
        if len(values) < 2:
            return 0.0
        mean = sum(values) / len(values)
        return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def compare_poolers(
    build_model,
    train_set,
    held_out,
    *,
    poolers=("align", "pool"),
    seeds=(0,),
    epochs: int,
    device=None,
    show_progress: bool = False,
    cache: bool = True,
    **train_options,
) -> PoolerComparison:
    """Train ``build_model(pooler)`` once per pooler and seed with the same budget, and score each on ``held_out``.

    For every seed both poolers start from the same initial weights where their parameters coincide (the
    torch seed is set to ``seed`` before building) and see the same images in the same order (training
    ``seed``). Returns a :class:`PoolerComparison` with COCO's box and mask numbers per run.

    With ``cache`` (the default) each run goes through the local cache (:func:`vislib.training.store.cached`,
    keyed by the initial model, both data sets, the budget and the training code; ``VISLIB_RETRAIN=1``
    retrains): a second run of the notebook loads the trained weights and their scores instead of training.
    ``comparison.sources`` says, per run, ``"trained"`` or ``"cache"``.
    """
    check_callable("build_model", build_model)
    check_type("poolers", poolers, (tuple, list), "a tuple of pooler names")
    check_type("seeds", seeds, (tuple, list), "a tuple of seeds")
    if not seeds or not poolers:
        raise ValueError("poolers and seeds must each hold at least one value")
    seeds = tuple(check_int(f"seeds[{k}]", s, min_value=0) for k, s in enumerate(seeds))
    check_type("cache", cache, bool, "True or False")
    from vislib.data.shapes import to_coco
    from vislib.training import store

    ground_truth = to_coco(held_out)
    comparison = PoolerComparison(tuple(poolers), seeds)
    runs = [(seed, pooler) for seed in seeds for pooler in poolers]
    for seed, pooler in progress(runs, desc="pooler runs", disable=not show_progress):
        torch.manual_seed(seed)
        model = build_model(pooler)
        if device is not None:
            model.to(device)

        def train_and_score(model=model, seed=seed):
            run = train_mask_rcnn(model, train_set, epochs=epochs, seed=seed, device=device, **train_options)
            scores = evaluate(model, held_out, ground_truth=ground_truth)
            record = {
                "segm": scores["segm"],
                "bbox": scores["bbox"],
                "seconds": sum(run.epoch_seconds),
                "final_loss": run.epoch_losses[-1],
            }
            return model.state_dict(), record

        if cache:
            key = store.content_key(
                "pooler-ablation",
                model=model,
                train=train_set,
                held_out=held_out,
                settings=dict(pooler=pooler, seed=seed, epochs=epochs, device=str(device), options=train_options),
                code=[compare_poolers, train_mask_rcnn, _train_rcnn, evaluate],
            )
            result = store.cached("pooler-ablation", key, train_and_score)
            if result.source == "cache":
                model.load_state_dict(result.tensors)
            record, source = result.record, result.source
        else:
            record, source = train_and_score()[1], "trained"
        comparison.mask.setdefault(pooler, []).append(record["segm"])
        comparison.box.setdefault(pooler, []).append(record["bbox"])
        comparison.seconds.setdefault(pooler, []).append(record["seconds"])
        comparison.final_losses.setdefault(pooler, []).append(record["final_loss"])
        comparison.sources.append(source)
    if show_progress:
        runs_seen = [SimpleNamespace(source=source) for source in comparison.sources]
        print(store.report_sources("RoI Align / RoI Pool ablation", runs_seen))
    return comparison
