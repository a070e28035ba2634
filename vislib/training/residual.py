"""Training residual and plain networks, recording how the gradient flows through every block.

* :class:`GradientRecorder`: a forward hook per block that, at the steps it is
  armed for, hooks the block's output tensor and keeps the size of the loss's
  gradient with respect to it (the backward "delta" that reaches the block),
  plus the norm of each block's weight gradient. Unarmed, a hook costs one
  attribute check.
* :func:`train_network`: SGD with momentum, a linear warm-up and a cosine decay,
  the batch order fixed by ``seed``; returns a :class:`ResidualTrainingRun`.
* :func:`degradation_experiment`: He et al.'s Figure 1 (arXiv 1512.03385) on
  small data: plain and residual twins of several depths, several seeds, the
  same recipe, budget and batches for all. A plain net and its residual twin
  start from the same weights (same seed); only the ``+ x`` differs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vislib._validation import check_int, check_model_input, check_number, check_type
from vislib.data.digits import ImageSplit
from vislib.models.residual import CifarResNet
from vislib.progress import progress
from vislib.training import store
from vislib.training.classification import accuracy, batches

__all__ = [
    "dataset_loss",
    "degradation_experiment",
    "DegradationExperiment",
    "DIVERGENCE_FACTOR",
    "GradientRecord",
    "GradientRecorder",
    "learning_rate_at",
    "ResidualTrainingRun",
    "train_network",
]

#: A loss this many times the first one (or not finite) stops a run as diverged.
DIVERGENCE_FACTOR = 10.0


class GradientRecorder:
    """Records per-block gradient sizes of a :class:`~vislib.models.residual.CifarResNet` at chosen steps.

    Use: ``recorder.arm(step)`` before the forward pass, ``recorder.collect()``
    after ``loss.backward()``. ``recorder.remove()`` detaches the hooks.

    Per recorded step and block ``b`` it keeps

    * ``output_grad[b]``: the root mean square of dL/d(output of block b) over
      the batch (the gradient that flows back into the block);
    * ``weight_grad[b]``: the norm of dL/dW over all of block ``b``'s conv weights.
    """

    def __init__(self, model: CifarResNet):
        check_type("model", model, CifarResNet, "a CifarResNet")
        self.model = model
        self.blocks = model.blocks
        self.block_names = model.block_names()
        self.steps: list[int] = []
        self.output_grads: list[np.ndarray] = []
        self.weight_grads: list[np.ndarray] = []
        self._armed_step: int | None = None
        self._pending: dict[int, float] = {}
        self._handles = [block.register_forward_hook(self._make_hook(i)) for i, block in enumerate(self.blocks)]

    def _make_hook(self, index: int):
        def hook(module, inputs, output):
            if self._armed_step is not None and output.requires_grad:
                output.register_hook(
                    lambda grad: self._pending.__setitem__(index, float(grad.detach().pow(2).mean().sqrt()))
                )

        return hook

    def arm(self, step: int) -> None:
        """Record the next forward / backward pass as ``step``."""
        self._armed_step = check_int("step", step, min_value=0)
        self._pending = {}

    def collect(self) -> None:
        """After ``loss.backward()``: store the armed step's gradients and disarm."""
        if self._armed_step is None:
            return
        if len(self._pending) != len(self.blocks):
            raise RuntimeError("collect() needs a backward pass through every block after arm()")
        self.steps.append(self._armed_step)
        self.output_grads.append(np.array([self._pending[i] for i in range(len(self.blocks))]))
        self.weight_grads.append(np.array([_conv_grad_norm(block) for block in self.blocks]))
        self._armed_step = None

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def record(self) -> GradientRecord:
        return GradientRecord(
            steps=np.array(self.steps, dtype=np.int64),
            output_grad=np.array(self.output_grads).reshape(len(self.steps), len(self.blocks)),
            weight_grad=np.array(self.weight_grads).reshape(len(self.steps), len(self.blocks)),
            block_names=tuple(self.block_names),
        )


@dataclass(frozen=True)
class GradientRecord:
    """Per-block gradient sizes at the recorded steps: arrays ``[S, B]`` (S steps, B blocks)."""

    steps: np.ndarray  # [S]
    output_grad: np.ndarray  # [S, B] RMS of dL/d(block output)
    weight_grad: np.ndarray  # [S, B] norm of dL/dW of the block's convs
    block_names: tuple[str, ...]


@dataclass
class ResidualTrainingRun:
    """What one training run of a plain or residual network measured."""

    depth: int
    residual: bool
    seed: int
    losses: list[float] = field(default_factory=list)  # training loss per step (the mini-batch's)
    learning_rates: list[float] = field(default_factory=list)
    test_accuracy: float = math.nan
    test_accuracies: dict[int, float] = field(default_factory=dict)  # step -> accuracy, when evaluated
    train_loss: float = math.nan  # the whole training set's loss in evaluation mode, after training
    diverged: bool = False
    seconds: float = 0.0
    gradients: GradientRecord | None = None
    model: nn.Module | None = None
    source: str = "trained"  # or "cache": loaded from the local cache (vislib.training.store.cached)

    @property
    def name(self) -> str:
        return f"{'ResNet' if self.residual else 'plain'}-{self.depth}"

    @property
    def steps(self) -> int:
        return len(self.losses)

    def final_loss(self, last: int = 20) -> float:
        """Mean training loss of the last ``last`` mini-batches."""
        tail = self.losses[-check_int("last", last, min_value=1) :]
        return float(np.mean(tail)) if tail else math.nan


def learning_rate_at(step: int, steps: int, lr: float, warmup_steps: int) -> float:
    """Linear warm-up from ``lr / 10`` over ``warmup_steps``, then cosine decay to 0 at ``steps``."""
    steps = check_int("steps", steps, min_value=1)
    step = check_int("step", step, min_value=0, max_value=steps)
    lr = check_number("lr", lr, min_value=0.0)
    warmup_steps = check_int("warmup_steps", warmup_steps, min_value=0)
    if step < warmup_steps:
        return lr * (0.1 + 0.9 * step / warmup_steps)
    progress_ = (step - warmup_steps) / max(steps - warmup_steps, 1)
    return 0.5 * lr * (1 + math.cos(math.pi * progress_))


def train_network(
    model: CifarResNet,
    data: ImageSplit,
    *,
    steps: int,
    lr: float = 0.1,
    warmup_steps: int = 0,
    batch_size: int = 64,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    seed: int = 0,
    record_every: int | None = None,
    evaluate_every: int | None = None,
    device=None,
    show_progress: bool = False,
    description: str | None = None,
    cache: bool = True,
) -> ResidualTrainingRun:
    """Train ``model`` with SGD on ``data.train_*``; record gradients every ``record_every`` steps (step 0 included).

    The batch order depends only on ``seed`` (see ``vislib.training.classification.batches``),
    so twins trained with the same seed see the same images in the same order.
    ``evaluate_every`` adds test accuracies along the way (costs a pass over the test set each time).

    With ``cache`` (the default) the trained weights, the run and its gradient records go into the local cache
    (:func:`vislib.training.store.cached`, keyed by the model, the data, every setting and the code); a later call
    with the same key loads them instead of training (bit-identical; ``run.source`` says ``"cache"``) unless
    ``VISLIB_RETRAIN=1``.
    """
    check_type("model", model, CifarResNet, "a CifarResNet (vislib.models.residual)")
    check_type("data", data, ImageSplit, "an ImageSplit (see vislib.data.digits.load_digits)")
    steps = check_int("steps", steps, min_value=1)
    lr = check_number("lr", lr, min_value=0.0)
    warmup_steps = check_int("warmup_steps", warmup_steps, min_value=0, max_value=steps)
    batch_size = check_int("batch_size", batch_size, min_value=2, max_value=len(data.train_labels))
    momentum = check_number("momentum", momentum, min_value=0.0, max_value=1.0)
    weight_decay = check_number("weight_decay", weight_decay, min_value=0.0)
    seed = check_int("seed", seed, min_value=0)
    if record_every is not None:
        record_every = check_int("record_every", record_every, min_value=1)
    if evaluate_every is not None:
        evaluate_every = check_int("evaluate_every", evaluate_every, min_value=1)
    check_type("cache", cache, bool, "True or False")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    settings = dict(
        steps=steps, lr=lr, warmup_steps=warmup_steps, batch_size=batch_size, momentum=momentum,
        weight_decay=weight_decay, seed=seed, record_every=record_every, evaluate_every=evaluate_every,
        device=device.type,
    )  # fmt: skip

    def train_now():
        run = _train_network(model, data, device, settings, show_progress, description)
        return {**model.state_dict(), **_gradient_tensors(run.gradients)}, _residual_record(run, model)

    if not cache:
        run = _train_network(model, data, device, settings, show_progress, description)
    else:
        key = store.content_key(
            "residual",
            model=model,
            train=(data.train_images, data.train_labels),
            test=(data.test_images, data.test_labels),
            settings=settings,
            code=[_train_network, batches, accuracy, dataset_loss, learning_rate_at, GradientRecorder],
        )
        result = store.cached("residual", key, train_now)
        run = _residual_run(result.tensors, result.record, result.source)
        if result.source == "cache":
            model.to(device)
            model.load_state_dict({k: v for k, v in result.tensors.items() if not k.startswith(_GRADIENTS)})
            model.train(result.record["model_training"])
        if show_progress:
            print(result.message.replace("residual", description or run.name, 1))
    run.model = model
    return run


_GRADIENTS = "gradients/"


def _gradient_tensors(record: GradientRecord | None) -> dict:
    if record is None:
        return {}
    return {
        f"{_GRADIENTS}{name}": torch.from_numpy(np.ascontiguousarray(getattr(record, name)))
        for name in ("steps", "output_grad", "weight_grad")
    }


def _residual_record(run: ResidualTrainingRun, model: nn.Module) -> dict:
    fields = ("depth", "residual", "seed", "losses", "learning_rates", "test_accuracy", "train_loss", "diverged")
    return {
        **{name: getattr(run, name) for name in fields},
        "seconds": run.seconds,
        "test_accuracies": [[step, value] for step, value in run.test_accuracies.items()],
        "block_names": list(run.gradients.block_names) if run.gradients is not None else None,
        "model_training": model.training,
    }


def _residual_run(tensors: dict, record: dict, source: str) -> ResidualTrainingRun:
    fields = ("depth", "residual", "seed", "losses", "learning_rates", "test_accuracy", "train_loss", "diverged")
    run = ResidualTrainingRun(**{name: record[name] for name in fields}, seconds=record["seconds"], source=source)
    run.test_accuracies = {int(step): value for step, value in record["test_accuracies"]}
    if record["block_names"] is not None:
        run.gradients = GradientRecord(
            steps=tensors[f"{_GRADIENTS}steps"].numpy(),
            output_grad=tensors[f"{_GRADIENTS}output_grad"].numpy(),
            weight_grad=tensors[f"{_GRADIENTS}weight_grad"].numpy(),
            block_names=tuple(record["block_names"]),
        )
    return run


def _train_network(model, data, device, settings, show_progress, description) -> ResidualTrainingRun:
    """The training loop of :func:`train_network` (arguments checked): trains ``model`` in place."""
    steps, record_every, evaluate_every = settings["steps"], settings["record_every"], settings["evaluate_every"]
    model.to(device).train()
    images, labels = data.train_images.to(device), data.train_labels.to(device)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=settings["lr"], momentum=settings["momentum"], weight_decay=settings["weight_decay"]
    )
    recorder = GradientRecorder(model) if record_every is not None else None
    run = ResidualTrainingRun(depth=model.depth, residual=model.residual, seed=settings["seed"])
    start = time.perf_counter()
    order = batches(len(labels), settings["batch_size"], steps, settings["seed"])
    bar = progress(order, total=steps, desc=description or f"{run.name}, seed {run.seed}", disable=not show_progress)
    try:
        for step, batch in enumerate(bar):
            rate = learning_rate_at(step, steps, settings["lr"], settings["warmup_steps"])
            for group in optimizer.param_groups:
                group["lr"] = rate
            recording = recorder is not None and (step % record_every == 0 or step == steps - 1)
            if recording:
                recorder.arm(step)
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            value = loss.item()
            run.losses.append(value)
            run.learning_rates.append(rate)
            if not math.isfinite(value) or value > DIVERGENCE_FACTOR * max(run.losses[0], 1.0):
                run.diverged = True
                break
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if recording:
                recorder.collect()
            optimizer.step()
            if evaluate_every is not None and (step + 1) % evaluate_every == 0:
                run.test_accuracies[step + 1] = accuracy(model, data.test_images, data.test_labels)
    finally:
        if recorder is not None:
            recorder.remove()
    run.seconds = time.perf_counter() - start
    run.test_accuracy = accuracy(model, data.test_images, data.test_labels)
    run.test_accuracies[run.steps] = run.test_accuracy
    run.train_loss = dataset_loss(model, data.train_images, data.train_labels)
    run.gradients = recorder.record() if recorder is not None else None
    return run


@torch.no_grad()
def dataset_loss(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 512) -> float:
    """Mean cross-entropy of ``model`` (evaluation mode) on ``images``."""
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_type("images", images, Tensor, "a torch.Tensor [N, C, H, W]")
    check_type("labels", labels, Tensor, "a torch.Tensor [N] of class indices")
    if len(images) != len(labels):
        raise ValueError(f"labels must have one label per image ({len(images)} images), got {len(labels)}")
    batch_size = check_int("batch_size", batch_size, min_value=1)
    if isinstance(model, CifarResNet):
        check_model_input("images", images, model, channels=model.conv1.in_channels)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total = 0.0
    for start in range(0, len(labels), batch_size):
        logits = model(images[start : start + batch_size].to(device))
        total += F.cross_entropy(logits, labels[start : start + batch_size].to(device), reduction="sum").item()
    model.train(was_training)
    return total / max(len(labels), 1)


@dataclass
class DegradationExperiment:
    """Runs keyed ``(depth, residual, seed)``, all with the same recipe."""

    runs: dict[tuple[int, bool, int], ResidualTrainingRun]
    depths: tuple[int, ...]
    seeds: tuple[int, ...]
    recipe: dict

    def run(self, depth: int, residual: bool, seed: int | None = None) -> ResidualTrainingRun:
        seed = self.seeds[0] if seed is None else seed
        key = (depth, residual, seed)
        if key not in self.runs:
            raise ValueError(
                f"no run for depth={depth}, residual={residual}, seed={seed}; depths {self.depths}, seeds {self.seeds}"
            )
        return self.runs[key]

    def final_losses(self, depth: int, residual: bool) -> np.ndarray:
        """Each seed's training-set loss after training (evaluation mode): ``[seeds]``."""
        return np.array([self.run(depth, residual, s).train_loss for s in self.seeds])

    def summary(self, depth: int, residual: bool) -> tuple[float, float]:
        """Mean and spread (standard deviation over seeds, 0 for one seed) of the final training loss."""
        values = self.final_losses(depth, residual)
        return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def degradation_experiment(
    data: ImageSplit,
    *,
    depths=(20, 56),
    seeds=(0,),
    steps: int = 300,
    lr: float = 0.1,
    warmup_steps: int = 0,
    batch_size: int = 64,
    momentum: float = 0.9,
    record_every: int | None = 10,
    evaluate_every: int | None = None,
    width: int = 16,
    device=None,
    show_progress: bool = True,
) -> DegradationExperiment:
    """Train a plain and a residual :class:`CifarResNet` per depth and seed with one recipe.

    For each seed both twins are built right after ``torch.manual_seed(seed)``, so they start
    from the same weights, and they see the same batches.
    """
    check_type("data", data, ImageSplit, "an ImageSplit (see vislib.data.digits.load_digits)")
    depths = tuple(check_int("depths[...]", d, min_value=2) for d in depths)
    seeds = tuple(check_int("seeds[...]", s, min_value=0) for s in seeds)
    if not depths or not seeds:
        raise ValueError("depths and seeds must each hold at least one value")
    recipe = dict(steps=steps, lr=lr, warmup_steps=warmup_steps, batch_size=batch_size, momentum=momentum)
    runs = {}
    jobs = [(d, r, s) for s in seeds for d in depths for r in (False, True)]
    for depth, residual, seed in progress(jobs, desc="plain and residual networks", disable=not show_progress):
        torch.manual_seed(seed)
        model = CifarResNet(
            depth,
            residual=residual,
            width=width,
            in_channels=data.train_images.shape[1],
            classes=int(data.train_labels.max()) + 1,
        )
        runs[depth, residual, seed] = train_network(
            model, data, seed=seed, record_every=record_every, evaluate_every=evaluate_every, device=device, **recipe
        )
    if show_progress:
        print(store.report_sources("plain and residual networks", runs.values()))
    return DegradationExperiment(runs=runs, depths=depths, seeds=seeds, recipe=recipe)


def _conv_grad_norm(block: nn.Module) -> float:
    squares = [
        m.weight.grad.detach().pow(2).sum()
        for m in block.modules()
        if isinstance(m, nn.Conv2d) and m.weight.grad is not None
    ]
    return float(torch.stack(squares).sum().sqrt()) if squares else 0.0
