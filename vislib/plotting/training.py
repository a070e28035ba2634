"""Loss curves, learning-rate sweeps, and the batch-norm notebook's generalization and batch-statistics plots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from vislib.plotting.style import OKABE_ITO as OKABE
from vislib.plotting.style import ROLE_COLORS

__all__ = [
    "PLACEMENT_COLORS",
    "PLACEMENT_LABELS",
    "plot_generalization_gap",
    "plot_learning_rate_sweep",
    "plot_loss_curves",
    "plot_statistics_groups",
    "smooth",
]

PLACEMENT_LABELS = {"none": "without batch norm", "before": "with batch norm", "after": "BN after the nonlinearity"}
PLACEMENT_COLORS = {
    "none": ROLE_COLORS["without_batchnorm"],
    "before": ROLE_COLORS["with_batchnorm"],
    "after": "#009E73",
}


def smooth(values: Sequence[float], window: int = 10) -> np.ndarray:
    """Moving average over ``window`` steps (shorter at the start), for readable loss curves."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return values
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (cumulative[1:] - cumulative[np.arange(1, len(values) + 1) - counts]) / counts


def plot_loss_curves(
    ax,
    curves: Mapping[str, Sequence[float]],
    *,
    colors: Mapping[str, str] | None = None,
    styles: Mapping[str, str] | None = None,
    window: int = 10,
    title: str = "training loss",
) -> None:
    """One smoothed loss curve per label; a curve that stops early diverged (marked with x)."""
    for label, losses in curves.items():
        finite = [v if np.isfinite(v) else np.nan for v in losses]
        (line,) = ax.plot(
            smooth(finite, window),
            label=label,
            color=(colors or {}).get(label),
            linestyle=(styles or {}).get(label, "-"),
        )
        if losses and not np.isfinite(losses[-1]) or (losses and losses[-1] > 3 * max(losses[0], 1.0)):
            ax.plot(len(losses) - 1, min(ax.get_ylim()[1], 10.0), "x", color=line.get_color(), markersize=10)
    ax.set(xlabel="training step", ylabel="cross-entropy (smoothed)", yscale="log", title=title)
    ax.legend(fontsize="small")


def plot_learning_rate_sweep(axes, results) -> None:
    """Left: test accuracy against learning rate per network. Right: their loss curves."""
    accuracy_ax, loss_ax = axes
    placements = list(dict.fromkeys(r.placement for r in results))
    learning_rates = sorted({r.lr for r in results})
    for placement in placements:
        runs = sorted((r for r in results if r.placement == placement), key=lambda r: r.lr)
        accuracy_ax.plot(
            [r.lr for r in runs],
            [r.run.test_accuracy for r in runs],
            "o-",
            color=PLACEMENT_COLORS[placement],
            label=PLACEMENT_LABELS[placement],
        )
        for r in runs:
            if r.run.diverged:
                accuracy_ax.annotate(
                    "diverged",
                    (r.lr, r.run.test_accuracy),
                    textcoords="offset points",
                    xytext=(0, 8),
                    ha="center",
                    fontsize="small",
                    color=PLACEMENT_COLORS[placement],
                )
    accuracy_ax.axhline(0.1, color="0.5", linestyle=":", label="chance (10 classes)")
    accuracy_ax.set(
        xscale="log",
        xlabel="learning rate (SGD, momentum 0.9)",
        ylabel="test accuracy",
        ylim=(0, 1.02),
        title="final accuracy",
    )
    accuracy_ax.legend(fontsize="small")
    shades = np.linspace(0.35, 1.0, len(learning_rates))
    for placement in placements:
        for shade, lr in zip(shades, learning_rates):
            run = next(r.run for r in results if r.placement == placement and r.lr == lr)
            color = PLACEMENT_COLORS[placement]
            loss_ax.plot(
                smooth(run.losses),
                color=color,
                alpha=float(shade),
                linestyle="-" if placement != "none" else "--",
                linewidth=1.5,
            )
    loss_ax.set(
        xlabel="training step",
        ylabel="cross-entropy (smoothed)",
        yscale="log",
        title="loss curves (darker = larger learning rate)",
    )
    handles = [
        loss_ax.plot(
            [], [], color=PLACEMENT_COLORS[p], linestyle="-" if p != "none" else "--", label=PLACEMENT_LABELS[p]
        )[0]
        for p in placements
    ]
    loss_ax.legend(handles=handles, fontsize="small")


def plot_generalization_gap(ax, runs) -> None:
    """Train and test accuracy of each network on a small training set: bars the mean, dots the seeds.

    ``runs``: :class:`~vislib.training.sweeps.GeneralizationRun` results (several seeds per placement). The
    gap between a network's two bars is what it learned that does not carry over to new images.
    """
    placements = list(dict.fromkeys(r.placement for r in runs))
    for k, placement in enumerate(placements):
        chosen = [r for r in runs if r.placement == placement]
        color = PLACEMENT_COLORS[placement]
        for offset, (name, values, alpha) in enumerate(
            (
                ("train", [r.train_accuracy for r in chosen], 0.45),
                ("test", [r.test_accuracy for r in chosen], 0.95),
            )
        ):
            x = k + (offset - 0.5) * 0.38
            ax.bar(x, np.mean(values), 0.34, color=color, alpha=alpha)
            ax.plot([x] * len(values), values, "o", color="black", markersize=3)
            ax.text(x, 0.02, name, ha="center", va="bottom", fontsize="small", color="white")
        gap = np.mean([r.gap for r in chosen])
        ax.annotate(
            f"gap {gap:.3f}",
            (k, max(np.mean([r.train_accuracy for r in chosen]), 0.0) + 0.03),
            ha="center",
            fontsize="small",
        )
    ax.set_xticks(range(len(placements)), [PLACEMENT_LABELS[p] for p in placements])
    train_size = runs[0].train_size if runs else 0
    ax.set(
        ylim=(0, 1.12),
        yticks=np.linspace(0, 1, 6),
        ylabel="accuracy (evaluation mode)",
        title=f"{train_size} training images: train vs test accuracy (dots: seeds)",
    )


def plot_statistics_groups(axes, runs) -> None:
    """Left: test accuracy against the number of images BN's statistics come from (dots: seeds; line: mean).
    Right: the training loss of the first seed for each group size.

    ``runs``: :class:`~vislib.training.sweeps.StatisticsGroupRun` results; every run took the same steps on the
    same batches, so only the noise of the batch statistics differs.
    """
    accuracy_ax, loss_ax = axes
    sizes = sorted({r.group_size for r in runs})
    means = [np.mean([r.run.test_accuracy for r in runs if r.group_size == g]) for g in sizes]
    for g in sizes:
        values = [r.run.test_accuracy for r in runs if r.group_size == g]
        accuracy_ax.plot([g] * len(values), values, "o", color="0.35", markersize=4)
    accuracy_ax.plot(sizes, means, "-", color=ROLE_COLORS["with_batchnorm"], linewidth=2, label="mean over seeds")
    accuracy_ax.set_xscale("log", base=2)
    accuracy_ax.set_xticks(sizes, [str(g) for g in sizes])
    accuracy_ax.minorticks_off()
    accuracy_ax.set(
        xlabel="images per batch-statistics group",
        ylabel="test accuracy (evaluation mode)",
        title="same steps, same batches: only the statistics differ",
    )
    accuracy_ax.legend(fontsize="small", loc="lower right")
    first_seed = runs[0].seed if runs else 0
    colors = {g: OKABE[k % len(OKABE)] for k, g in enumerate(sizes)}
    plot_loss_curves(
        loss_ax,
        {f"statistics over {g} images": r.run.losses for r in runs if r.seed == first_seed for g in [r.group_size]},
        colors={f"statistics over {g} images": colors[g] for g in sizes},
        window=20,
        title=f"training loss (seed {first_seed}, batches of 64)",
    )
