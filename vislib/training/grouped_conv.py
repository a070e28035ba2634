"""Training small ResNeXts with 1, 4, 8, 32 ... groups at matched parameters, over seeds, and timing them.

Each run is ``vislib.training.classification.train_classifier`` on a fresh ``SmallResNeXt(groups,
base_width)``, where ``base_width`` is chosen by ``matched_base_width`` so that every net has about
the same number of parameters (the paper's Table 2 keeps complexity fixed the same way).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from vislib._validation import check_int, check_number, check_type
from vislib.analysis.grouped_conv import count_multiply_adds, time_forward
from vislib.analysis.parameters import count_parameters
from vislib.data.digits import ImageSplit
from vislib.models.grouped_conv import SmallResNeXt, matched_base_width
from vislib.progress import progress
from vislib.training import store
from vislib.training.classification import train_classifier

__all__ = ["GroupRun", "GroupSummary", "GroupComparison", "compare_groups"]


@dataclass(frozen=True)
class GroupRun:
    """One trained net: its groups and width per group, size, arithmetic, seed, accuracy and costs."""

    groups: int
    base_width: int
    parameters: int
    multiply_adds: int  # per image
    seed: int
    test_accuracy: float
    training_seconds: float
    forward_seconds: float  # median time of one forward pass of the test batch
    diverged: bool


@dataclass(frozen=True)
class GroupSummary:
    """The runs of one number of groups, summarized over seeds."""

    groups: int
    base_width: int
    parameters: int
    multiply_adds: int
    accuracies: tuple[float, ...]
    forward_seconds: float  # median over seeds

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accuracies)

    @property
    def spread(self) -> float:
        """Standard deviation over seeds (0 for a single seed)."""
        return statistics.stdev(self.accuracies) if len(self.accuracies) > 1 else 0.0


@dataclass
class GroupComparison:
    runs: list[GroupRun] = field(default_factory=list)
    test_images: int = 0

    def summary(self) -> list[GroupSummary]:
        summaries = []
        for groups in sorted({run.groups for run in self.runs}):
            runs = [run for run in self.runs if run.groups == groups]
            summaries.append(
                GroupSummary(
                    groups,
                    runs[0].base_width,
                    runs[0].parameters,
                    runs[0].multiply_adds,
                    tuple(run.test_accuracy for run in runs),
                    statistics.median(run.forward_seconds for run in runs),
                )
            )
        return summaries


def compare_groups(
    data: ImageSplit,
    groups: Sequence[int] = (1, 4, 8, 32),
    *,
    seeds: Sequence[int] = (0,),
    steps: int = 200,
    lr: float = 0.05,
    batch_size: int = 64,
    budget: int | None = None,
    timing_repeats: int = 5,
    device=None,
    show_progress: bool = True,
) -> GroupComparison:
    """Train one ``SmallResNeXt`` per (groups, seed) on ``data`` and measure each.

    ``budget`` (parameters) defaults to the dense net's (``SmallResNeXt(1, 64)``); each number of groups
    gets the ``base_width`` closest to it. The forward time is measured on the test images, on ``device``.
    """
    check_type("data", data, ImageSplit, "an ImageSplit (vislib.data.digits.load_digits)")
    groups = [check_int("groups", g, min_value=1) for g in groups]
    seeds = [check_int("seed", s, min_value=0) for s in seeds]
    if not groups or not seeds:
        raise ValueError("groups and seeds must each hold at least one value")
    steps = check_int("steps", steps, min_value=1)
    lr = check_number("lr", lr, min_value=0.0)
    budget = check_int("budget", budget, min_value=1) if budget is not None else count_parameters(SmallResNeXt(1, 64))
    device = torch.device(device) if device is not None else torch.device("cpu")
    comparison = GroupComparison(test_images=len(data.test_labels))
    jobs = [(g, s) for s in seeds for g in groups]
    sources = []
    for g, seed in progress(jobs, desc="training", disable=not show_progress):
        base_width = matched_base_width(g, budget)
        torch.manual_seed(seed)
        model = SmallResNeXt(g, base_width)
        operations = count_multiply_adds(model, data.test_images[:1])["total"]
        run = train_classifier(model, data, steps=steps, lr=lr, batch_size=batch_size, seed=seed, device=device)
        seconds = time_forward(model, data.test_images.to(device), repeats=timing_repeats)
        accuracy = run.test_accuracy if not run.diverged else math.nan
        comparison.runs.append(
            GroupRun(
                g, base_width, count_parameters(model), operations, seed, accuracy, run.seconds, seconds, run.diverged
            )
        )
        sources.append(run)
    if show_progress:
        print(store.report_sources("grouped networks", sources))
    return comparison
