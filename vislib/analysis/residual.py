"""Measurements on trained plain and residual networks: no training here.

* :func:`gradients_at_initialization`: per-block gradient sizes of one forward /
  backward pass (what a network's first SGD step sees).
* :func:`delete_block` / :func:`block_deletion_accuracy`: Veit et al., *Residual
  Networks Behave Like Ensembles of Relatively Shallow Networks*, 2016,
  arXiv 1605.06431: remove one block at test time, keep its shortcut, and
  measure the accuracy.
* :func:`filter_normalized_direction`, :func:`loss_landscape_1d`,
  :func:`loss_landscape_2d`: Li et al., *Visualizing the Loss Landscape of
  Neural Nets*, 2018, arXiv 1712.09913: the loss along random directions
  around the trained weights, each filter of the direction scaled to the norm
  of the corresponding filter of the weights (so that the picture does not
  depend on the weights' scale, to which BN makes the network blind).
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vislib._validation import check_int, check_model_input, check_tensor, check_type
from vislib.models.residual import CifarResNet
from vislib.training.classification import accuracy
from vislib.training.residual import GradientRecord, GradientRecorder

__all__ = [
    "block_deletion_accuracy",
    "BlockDeletion",
    "delete_block",
    "filter_normalized_direction",
    "first_to_last_ratio",
    "gradients_at_initialization",
    "loss_landscape_1d",
    "loss_landscape_2d",
    "LossSlice",
    "LossSurface",
    "Shortcut",
]


def gradients_at_initialization(model: CifarResNet, images: Tensor, labels: Tensor) -> GradientRecord:
    """One forward / backward pass of ``model`` (training mode) on ``images`` [N, C, H, W]; a one-step record.

    The model's weights are not changed (its BN running statistics are: use a fresh model or a copy).
    """
    check_type("model", model, CifarResNet, "a CifarResNet (vislib.models.residual)")
    check_model_input("images", images, model, channels=model.conv1.in_channels)
    check_tensor("labels", labels, shape=(images.shape[0],))
    device = next(model.parameters()).device
    recorder = GradientRecorder(model)
    was_training = model.training
    model.train()
    try:
        model.zero_grad(set_to_none=True)
        recorder.arm(0)
        F.cross_entropy(model(images.to(device)), labels.to(device)).backward()
        recorder.collect()
    finally:
        recorder.remove()
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return recorder.record()


def first_to_last_ratio(record: GradientRecord, quantity: str = "output_grad", step_index: int = 0) -> float:
    """The first block's gradient size divided by the last block's, at one recorded step."""
    check_type("record", record, GradientRecord, "a GradientRecord")
    if quantity not in ("output_grad", "weight_grad"):
        raise ValueError(f"quantity must be 'output_grad' or 'weight_grad', got {quantity!r}")
    values = getattr(record, quantity)[
        check_int("step_index", step_index, min_value=-len(record.steps), max_value=len(record.steps) - 1)
    ]
    return float(values[0] / values[-1])


class Shortcut(nn.Module):
    """What is left of a deleted block: only its shortcut (``downsample(x)``, or ``x`` itself)."""

    def __init__(self, downsample: nn.Module | None):
        super().__init__()
        if downsample is not None:
            check_type("downsample", downsample, nn.Module, "a torch.nn.Module or None")
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        return self.downsample(x) if self.downsample is not None else x


def delete_block(model: CifarResNet, index: int):
    """Within the ``with``, block ``index`` (0 to 3n - 1) of ``model`` is replaced by its shortcut.

    For a residual block ``relu(F(x) + x)`` this removes ``F``: the output is ``x`` (already >= 0).
    For a plain block the same replacement cuts the only path through it. A block that changes the
    shape keeps its shortcut (zero-padding or projection), so the rest of the network still fits.
    """
    check_type("model", model, CifarResNet, "a CifarResNet (vislib.models.residual)")
    count = 3 * model.blocks_per_stage
    index = check_int("index", index, min_value=0, max_value=count - 1)
    return _deleted_block(model, index)  # checked now, not when the ``with`` starts


@contextlib.contextmanager
def _deleted_block(model: CifarResNet, index: int):
    stage = getattr(model, f"layer{index // model.blocks_per_stage + 1}")
    position = index % model.blocks_per_stage
    block = stage[position]
    stage[position] = Shortcut(block.downsample)
    try:
        yield model
    finally:
        stage[position] = block


@dataclass(frozen=True)
class BlockDeletion:
    """Test accuracy with every block in place and with block ``b`` deleted: ``deleted[b]``."""

    baseline: float
    deleted: np.ndarray  # [3n]
    block_names: tuple[str, ...]

    @property
    def drops(self) -> np.ndarray:
        """``baseline - deleted``: the accuracy lost by deleting each block."""
        return self.baseline - self.deleted


def block_deletion_accuracy(model: CifarResNet, images: Tensor, labels: Tensor) -> BlockDeletion:
    """Delete each block in turn (evaluation mode) and measure the accuracy on ``images`` [N, C, H, W]."""
    check_type("model", model, CifarResNet, "a CifarResNet (vislib.models.residual)")
    check_model_input("images", images, model, channels=model.conv1.in_channels)
    check_tensor("labels", labels, shape=(images.shape[0],))
    baseline = accuracy(model, images, labels)
    deleted = []
    for index in range(3 * model.blocks_per_stage):
        with delete_block(model, index):
            deleted.append(accuracy(model, images, labels))
    return BlockDeletion(baseline=baseline, deleted=np.array(deleted), block_names=tuple(model.block_names()))


def filter_normalized_direction(model: nn.Module, generator: torch.Generator | None = None) -> list[Tensor]:
    """A random direction in weight space, one tensor per parameter of ``model``, filter-normalized.

    For each weight tensor with two or more dimensions (conv and linear layers) the direction is
    Gaussian and each filter (output unit, the first dimension) ``d_i`` is rescaled to
    ``d_i * ||theta_i|| / ||d_i||``. Biases and BN parameters get a zero direction (Li et al. keep
    them fixed).
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    if generator is not None:
        check_type("generator", generator, torch.Generator, "a torch.Generator or None")
    direction = []
    for parameter in model.parameters():
        weights = parameter.detach()
        if weights.dim() <= 1:
            direction.append(torch.zeros_like(weights))
            continue
        random = torch.randn(weights.shape, generator=generator, dtype=weights.dtype).to(weights.device)
        filter_norms = weights.flatten(1).norm(dim=1)
        random_norms = random.flatten(1).norm(dim=1).clamp_min(1e-12)
        scale = (filter_norms / random_norms).reshape(-1, *([1] * (weights.dim() - 1)))
        direction.append(random * scale)
    return direction


@dataclass(frozen=True)
class LossSlice:
    """The loss at ``theta + alpha * d`` for each ``alpha``."""

    alphas: np.ndarray  # [A]
    losses: np.ndarray  # [A]


@dataclass(frozen=True)
class LossSurface:
    """The loss at ``theta + alpha * d1 + beta * d2``: ``losses[i, j]`` at ``alphas[i]``, ``betas[j]``."""

    alphas: np.ndarray  # [A]
    betas: np.ndarray  # [B]
    losses: np.ndarray  # [A, B]


def loss_landscape_1d(model: nn.Module, images: Tensor, labels: Tensor, alphas, *, seed: int = 0) -> LossSlice:
    """The loss (evaluation mode) along one filter-normalized random direction through the trained weights."""
    check_type("model", model, nn.Module, "a torch.nn.Module")
    if isinstance(model, CifarResNet):
        check_model_input("images", images, model, channels=model.conv1.in_channels)
    check_tensor("images", images, ndim=4, floating=True)
    check_tensor("labels", labels, shape=(images.shape[0],))
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise TypeError(f"labels must hold integer class indices, got dtype {labels.dtype}")
    alphas = _grid("alphas", alphas)
    direction = filter_normalized_direction(model, torch.Generator().manual_seed(check_int("seed", seed, min_value=0)))
    losses = [_loss_at(model, [(alpha, direction)], images, labels) for alpha in alphas]
    return LossSlice(alphas=alphas, losses=np.array(losses))


def loss_landscape_2d(model: nn.Module, images: Tensor, labels: Tensor, alphas, betas, *, seed: int = 0) -> LossSurface:
    """The loss (evaluation mode) on the plane of two filter-normalized random directions."""
    check_type("model", model, nn.Module, "a torch.nn.Module")
    if isinstance(model, CifarResNet):
        check_model_input("images", images, model, channels=model.conv1.in_channels)
    check_tensor("images", images, ndim=4, floating=True)
    check_tensor("labels", labels, shape=(images.shape[0],))
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise TypeError(f"labels must hold integer class indices, got dtype {labels.dtype}")
    alphas, betas = _grid("alphas", alphas), _grid("betas", betas)
    generator = torch.Generator().manual_seed(check_int("seed", seed, min_value=0))
    first = filter_normalized_direction(model, generator)
    second = filter_normalized_direction(model, generator)
    losses = [[_loss_at(model, [(a, first), (b, second)], images, labels) for b in betas] for a in alphas]
    return LossSurface(alphas=alphas, betas=betas, losses=np.array(losses))


def _grid(name: str, values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size < 2 or not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be a 1-D sequence of at least 2 finite numbers, got shape {values.shape}")
    return values


@torch.no_grad()
def _loss_at(model: nn.Module, steps: list[tuple[float, list[Tensor]]], images: Tensor, labels: Tensor) -> float:
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_tensor("images", images, ndim=4, floating=True)
    check_tensor("labels", labels, shape=(images.shape[0],))
    moved = copy.deepcopy(model).eval()
    for parameter, *offsets in zip(moved.parameters(), *(d for _, d in steps)):
        for (coefficient, _), offset in zip(steps, offsets):
            parameter.add_(offset, alpha=float(coefficient))
    device = next(moved.parameters()).device
    return float(F.cross_entropy(moved(images.to(device)), labels.to(device)))
