"""Training the same small CNN several ways, for side-by-side comparisons."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vislib._validation import check_choice, check_int, check_number, check_type
from vislib.data.digits import ImageSplit
from vislib.models.small_cnn import PLACEMENTS, SmallCNN
from vislib.progress import progress
from vislib.training import store
from vislib.training.classification import TrainingRun, accuracy, train_classifier

__all__ = [
    "compare_statistics_groups",
    "generalization_gap",
    "GeneralizationRun",
    "StatisticsGroupRun",
    "SweepResult",
    "train_variants",
]


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
    if show_progress:
        print(store.report_sources("learning-rate sweep", [r.run for r in results]))
    return results


@dataclass(frozen=True)
class GeneralizationRun:
    """One network trained on a small training set: its accuracy on that set and on the test set."""

    placement: str
    seed: int
    train_size: int
    train_accuracy: float  # on the images it was trained on, evaluation mode
    test_accuracy: float  # on the whole held-out test set, evaluation mode
    run: TrainingRun

    @property
    def gap(self) -> float:
        """Train minus test accuracy: how much of what it learned does not carry over to new images."""
        return self.train_accuracy - self.test_accuracy


def generalization_gap(
    data: ImageSplit,
    *,
    train_size: int,
    placements=("none", "before"),
    seeds=(0,),
    steps: int = 300,
    lr: float = 0.05,
    batch_size: int = 32,
    width: int = 16,
    device=None,
    show_progress: bool = True,
) -> list[GeneralizationRun]:
    """Train one ``SmallCNN`` per (seed, placement) on ``train_size`` training images; measure the train-test gap.

    Per seed, the small training set is a random subset of ``data``'s training images (drawn with that seed)
    and every placement starts from weights drawn with that seed and sees the same batches; the test set is
    all of ``data``'s test images. Returns the runs in (seed, placement) order.
    """
    check_type("data", data, ImageSplit, "an ImageSplit (see vislib.data.digits.load_digits)")
    train_size = check_int("train_size", train_size, min_value=2, max_value=len(data.train_labels))
    for placement in placements:
        check_choice("placement", placement, PLACEMENTS)
    seeds = [check_int(f"seeds[{i}]", seed, min_value=0) for i, seed in enumerate(seeds)]
    if not seeds or not placements:
        raise ValueError("seeds and placements must each hold at least one value")
    steps = check_int("steps", steps, min_value=1)
    lr = check_number("lr", lr, min_value=0.0)
    batch_size = check_int("batch_size", batch_size, min_value=1, max_value=train_size)
    configurations = [(seed, placement) for seed in seeds for placement in placements]
    results = []
    for seed, placement in progress(configurations, desc="small training sets", disable=not show_progress):
        chosen = torch.randperm(len(data.train_labels), generator=torch.Generator().manual_seed(seed))[:train_size]
        small = ImageSplit(data.train_images[chosen], data.train_labels[chosen], data.test_images, data.test_labels)
        torch.manual_seed(seed)
        model = SmallCNN(placement, width=width)
        run = train_classifier(model, small, steps=steps, lr=lr, batch_size=batch_size, seed=seed, device=device)
        train_accuracy = accuracy(model, small.train_images, small.train_labels)
        results.append(GeneralizationRun(placement, seed, train_size, train_accuracy, run.test_accuracy, run))
    if show_progress:
        print(store.report_sources("small training sets", [r.run for r in results]))
    return results


@dataclass(frozen=True)
class StatisticsGroupRun:
    """One BN network whose batch statistics came from groups of ``group_size`` images of each batch."""

    group_size: int
    seed: int
    run: TrainingRun
    test_curve: tuple[tuple[int, float], ...] = ()  # (step, test accuracy) along the way


def compare_statistics_groups(
    data: ImageSplit,
    *,
    group_sizes=(2, 64),
    seeds=(0,),
    steps: int = 300,
    lr: float = 0.05,
    batch_size: int = 64,
    width: int = 16,
    device=None,
    show_progress: bool = True,
) -> list[StatisticsGroupRun]:
    """Train BN networks that differ only in how many images their batch statistics are computed over.

    Every run takes the same ``steps`` SGD steps on the same batches of ``batch_size`` images with the same
    learning rate, from the same initial weights (per seed); the gradient averages the whole batch. Only BN's
    statistics differ: over groups of ``group_size`` images of each batch (``SmallCNN(norm_group=...)``,
    ghost batch normalization), so a group of 2 has the statistics of a batch of 2. Returns the runs in
    (seed, group size) order.
    """
    check_type("data", data, ImageSplit, "an ImageSplit (see vislib.data.digits.load_digits)")
    batch_size = check_int("batch_size", batch_size, min_value=1, max_value=len(data.train_labels))
    group_sizes = [check_int(f"group_sizes[{i}]", g, min_value=1) for i, g in enumerate(group_sizes)]
    for group_size in group_sizes:
        if batch_size % group_size:
            raise ValueError(f"every group size must divide batch_size ({batch_size}), got {group_size}")
    seeds = [check_int(f"seeds[{i}]", seed, min_value=0) for i, seed in enumerate(seeds)]
    if not seeds or not group_sizes:
        raise ValueError("seeds and group_sizes must each hold at least one value")
    steps = check_int("steps", steps, min_value=1)
    lr = check_number("lr", lr, min_value=0.0)
    configurations = [(seed, g) for seed in seeds for g in group_sizes]
    results = []
    for seed, group_size in progress(configurations, desc="batch-statistics groups", disable=not show_progress):
        torch.manual_seed(seed)
        model = SmallCNN("before", width=width, norm_group=group_size)
        run = train_classifier(model, data, steps=steps, lr=lr, batch_size=batch_size, seed=seed, device=device)
        results.append(StatisticsGroupRun(group_size, seed, run))
    if show_progress:
        print(store.report_sources("batch-statistics groups", [r.run for r in results]))
    return results
