"""A slide's claim against what a notebook measured: one comparison, paired by seed.

A notebook that tests a claim ("batch norm allows larger learning rates", "RoI Align beats RoI Pool") trains
or times the same thing twice per seed, once with the mechanism the slide names and once without, and builds
a :class:`Claim`. ``RESULTS`` keeps it (``runtime.notebook_results(numbers, claims=[...])``) and the
benchmark writes every notebook's claims into one table of ``BENCHMARKS.md``.

The verdict is deliberately simple and stated in the table: a claim **holds** when the effect points the way
the slide says in every seed and its mean exceeds ``min_effect``. With one seed (the quick profile) that is
a single comparison, and the verdict says so.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from vislib._validation import check_bool, check_number, check_type

__all__ = ["Claim", "measure_claim"]


@dataclass(frozen=True)
class Claim:
    """What the slide claims and the per-seed values with and without the mechanism.

    ``with_values[i]`` and ``without_values[i]`` come from the same seed. ``higher_is_better`` orients the
    effect (accuracy, mIoU: True; seconds, error, train-test gap: False).
    """

    claim: str
    metric: str
    with_label: str
    without_label: str
    with_values: tuple[float, ...]
    without_values: tuple[float, ...]
    higher_is_better: bool = True
    min_effect: float = 0.0

    @property
    def seeds(self) -> int:
        return len(self.with_values)

    @property
    def effects(self) -> tuple[float, ...]:
        """Per seed, how much better the mechanism did (positive: the way the slide says)."""
        sign = 1.0 if self.higher_is_better else -1.0
        return tuple(sign * (a - b) for a, b in zip(self.with_values, self.without_values, strict=True))

    @property
    def mean_effect(self) -> float:
        return statistics.fmean(self.effects)

    @property
    def holds(self) -> bool:
        return all(effect > 0 for effect in self.effects) and self.mean_effect > self.min_effect

    def measured(self, digits: int = 3) -> str:
        """``"mIoU 0.612 ± 0.021 (pre-trained) vs 0.480 ± 0.050 (from scratch), 3 seeds"``."""

        def spread(values):
            mean = statistics.fmean(values)
            if len(values) < 2:
                return f"{mean:.{digits}g}"
            return f"{mean:.{digits}g} ± {statistics.stdev(values):.{max(digits - 1, 1)}g}"

        seeds = f"{self.seeds} seed" + ("s" if self.seeds != 1 else "")
        return (
            f"{self.metric} {spread(self.with_values)} ({self.with_label}) vs "
            f"{spread(self.without_values)} ({self.without_label}), {seeds}"
        )

    def as_result(self) -> dict:
        """The JSON-able form ``RESULTS`` keeps (and the benchmark reads)."""
        with_sd = statistics.stdev(self.with_values) if self.seeds > 1 else 0.0
        without_sd = statistics.stdev(self.without_values) if self.seeds > 1 else 0.0
        return {
            "claim": self.claim,
            "measured": self.measured(),
            "seeds": self.seeds,
            "holds": "yes" if self.holds else "no",
            "with_mean": statistics.fmean(self.with_values),
            "with_sd": with_sd,
            "without_mean": statistics.fmean(self.without_values),
            "without_sd": without_sd,
        }


def measure_claim(
    claim: str,
    metric: str,
    with_values: Sequence[float],
    without_values: Sequence[float],
    *,
    with_label: str,
    without_label: str,
    higher_is_better: bool = True,
    min_effect: float = 0.0,
) -> Claim:
    """Build a :class:`Claim` from per-seed values (same length, same seed order), checking them first."""
    for name, value in (("claim", claim), ("metric", metric), ("with_label", with_label)):
        check_type(name, value, str, "a string")
    check_type("without_label", without_label, str, "a string")
    check_bool("higher_is_better", higher_is_better)
    min_effect = check_number("min_effect", min_effect, min_value=0.0)
    values = {}
    for name, given in (("with_values", with_values), ("without_values", without_values)):
        if isinstance(given, (str, bytes)) or not isinstance(given, Sequence) or len(given) == 0:
            raise TypeError(f"{name} must be a non-empty sequence of numbers (one per seed), got {given!r}")
        values[name] = tuple(check_number(f"{name}[{i}]", v) for i, v in enumerate(given))
    if len(values["with_values"]) != len(values["without_values"]):
        raise ValueError(
            f"with_values and without_values must have one value per seed each, got "
            f"{len(values['with_values'])} and {len(values['without_values'])}"
        )
    return Claim(
        claim,
        metric,
        with_label,
        without_label,
        values["with_values"],
        values["without_values"],
        higher_is_better,
        min_effect,
    )
