"""Loss curves and learning-rate sweeps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from vislib.plotting.style import ROLE_COLORS

__all__ = ["PLACEMENT_COLORS", "PLACEMENT_LABELS", "plot_learning_rate_sweep", "plot_loss_curves", "smooth"]

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
