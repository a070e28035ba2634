"""Pictures of notebook 05's trained experiments: the fine-tuning learning curve and the ablations' scores
per seed. Every function draws onto the axes it is given."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vislib.plotting.style import OKABE_ITO

__all__ = ["plot_ablation_scores", "plot_fine_tuning_curve"]


def plot_fine_tuning_curve(ax, curve, colors=None) -> None:
    """Validation mIoU against the number of labelled images (log axis), one line per variant of a
    :class:`~vislib.training.deeplab.FineTuningCurve`: the mean over seeds, a band of ± one standard
    deviation and every seed as a dot."""
    counts = np.asarray(curve.label_counts)
    for index, (variant, per_count) in enumerate(curve.miou.items()):
        color = (colors or {}).get(variant, OKABE_ITO[(index + 1) % len(OKABE_ITO)])
        mean, sd = np.asarray(curve.mean(variant)), np.asarray(curve.sd(variant))
        ax.plot(counts, mean, "o-", color=color, label=f"{variant} (mean of {len(curve.seeds)} seeds)")
        ax.fill_between(counts, mean - sd, mean + sd, color=color, alpha=0.2, linewidth=0)
        for n in counts:
            values = per_count[int(n)]
            ax.scatter([n] * len(values), values, s=12, color=color, alpha=0.6, zorder=3)
    ax.set_xscale("log", base=2)
    ax.set_xticks(counts, [str(n) for n in counts])
    ax.minorticks_off()
    ax.set(xlabel="labelled training images (masks)", ylabel="validation mIoU", title="Fine-tuning with few labels")
    ax.legend(fontsize="small")


def plot_ablation_scores(axes, comparison, metrics: Sequence[str], colors=None) -> None:
    """One panel per metric: a bar per variant of a :class:`~vislib.training.deeplab.SegmenterComparison`
    (the mean over seeds) with each seed as a dot."""
    names = list(comparison.scores)
    positions = np.arange(len(names))
    for ax, metric in zip(axes, metrics):
        for index, name in enumerate(names):
            values = comparison.values(name, metric)
            color = (colors or {}).get(name, OKABE_ITO[(index + 1) % len(OKABE_ITO)])
            ax.bar(index, np.mean(values), color=color, alpha=0.8, width=0.7)
            ax.scatter([index] * len(values), values, s=14, color="black", zorder=3)
        ax.set_xticks(positions, [name.replace(", ", "\n") for name in names], fontsize="small")
        ax.set(ylabel=metric, title=metric, ylim=(0, 1))
