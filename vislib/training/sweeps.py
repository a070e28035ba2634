"""Training the same small CNN several ways, for side-by-side comparisons."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vislib._validation import check_choice, check_int, check_number
from vislib.data.digits import ImageSplit
from vislib.models.small_cnn import PLACEMENTS, SmallCNN
from vislib.progress import progress
from vislib.training.classification import TrainingRun, train_classifier

__all__ = ["SweepResult", "train_variants"]


@dataclass(frozen=True)
class SweepResult:
    lr: float
    placement: str  # "none", "before" or "after" (see SmallCNN)
    batch_size: int
    run: TrainingRun
    model: nn.Module | None = None  # the trained network, when asked to keep it


def train_variants(
    data: ImageSplit,
    *,
    learning_rates=(0.1,),
    placements=("none", "before"),
    batch_sizes=(64,),
    steps: int = 200,
    epochs: float | None = None,
    width: int = 16,
    activation: str = "relu",
    seed: int = 0,
    device=None,
    show_progress: bool = True,
    keep_models: bool = False,
) -> list[SweepResult]:
    """Train one fresh ``SmallCNN`` per (learning rate, placement, batch size).

    Every network starts from weights drawn with the same ``seed`` and sees
    batches in the same order. With ``epochs`` set, each run takes as many
    steps as ``epochs`` passes over the training set need at its batch size
    (so small batches take more steps, on the same number of images).
    ``keep_models`` keeps each trained network in its result.
    """
    for placement in placements:
        check_choice("placement", placement, PLACEMENTS)
    steps = check_int("steps", steps, min_value=1)
    if epochs is not None:
        epochs = check_number("epochs", epochs, min_value=0.0)
        if epochs <= 0:
            raise ValueError(f"epochs must be > 0 (or None to use steps), got {epochs}")
    for i, lr in enumerate(learning_rates):
        check_number(f"learning_rates[{i}]", lr, min_value=0.0)
    for i, batch_size in enumerate(batch_sizes):
        check_int(f"batch_sizes[{i}]", batch_size, min_value=1)
    seed = check_int("seed", seed, min_value=0)
    configurations = [(lr, p, b) for lr in learning_rates for p in placements for b in batch_sizes]
    if not configurations:
        raise ValueError("learning_rates, placements and batch_sizes must each hold at least one value")
    results = []
    for lr, placement, batch_size in progress(configurations, desc="training runs", disable=not show_progress):
        torch.manual_seed(seed)
        model = SmallCNN(placement, width=width, activation=activation)
        run_steps = steps if epochs is None else max(1, int(epochs * len(data.train_labels) / batch_size))
        run = train_classifier(model, data, steps=run_steps, lr=lr, batch_size=batch_size, seed=seed, device=device)
        results.append(SweepResult(lr, placement, batch_size, run, model if keep_models else None))
    return results
