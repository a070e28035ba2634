"""Pictures for the residual-connections notebook: gradient flow, degradation, block deletion, loss landscapes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.ticker import NullFormatter

from vislib.plotting.style import OKABE_ITO
from vislib.plotting.training import smooth
from vislib.plotting.view import View
from vislib.states.residual import QUANTITY_LABELS, GradientFlowState

__all__ = [
    "GradientFlowView",
    "NETWORK_COLORS",
    "network_label",
    "plot_block_deletion",
    "plot_degradation",
    "plot_gradient_profiles",
    "plot_loss_slices",
    "plot_loss_surfaces",
]

#: plain networks in vermillion, residual ones in blue, in every picture of the notebook.
NETWORK_COLORS = {False: OKABE_ITO[3], True: OKABE_ITO[0]}


def network_label(depth: int, residual: bool) -> str:
    return f"{'ResNet' if residual else 'plain'}-{depth}"


class GradientFlowView(View):
    """Left: the gradient size of every block at the chosen step (log scale), the twin network thin and grey.
    Right: the chosen network's training loss up to that step, over its whole run drawn faintly.
    """

    def setup(self, axes, state: GradientFlowState):
        self.gradient_ax, self.loss_ax = axes
        blocks = np.arange(1, len(state.gradient) + 1)
        (self.twin_line,) = self.gradient_ax.plot(
            blocks, state.twin_gradient, color="0.6", linewidth=1.2, marker=".", label="twin"
        )
        (self.line,) = self.gradient_ax.plot(blocks, state.gradient, marker="o", markersize=4, label="chosen")
        self.gradient_ax.set_yscale("log")
        self.gradient_ax.set_xlabel("block (1 = next to the input)")
        self.gradient_ax.set_ylabel(QUANTITY_LABELS["output_grad"])
        self.gradient_title = self.gradient_ax.set_title(" ")
        self.legend, self.legend_key = None, None
        (self.full_curve,) = self.loss_ax.plot(smooth(state.losses), alpha=0.25)
        (self.twin_curve,) = self.loss_ax.plot(smooth(state.twin_losses), color="0.6", alpha=0.5, linewidth=1.2)
        (self.curve,) = self.loss_ax.plot(smooth(state.losses))
        self.marker = self.loss_ax.axvline(state.step, color="0.3", linestyle=":")
        self.loss_ax.set_yscale("log")
        self.loss_ax.set_xlabel("training step")
        self.loss_ax.set_ylabel("training loss (smoothed over 10 steps)")
        self.loss_title = self.loss_ax.set_title(" ")
        # The layout is computed once, for the first state: label only whole decades (the limits always span
        # one, see update), so the tick labels, and the y-labels beside them, keep their width for every state.
        for ax in (self.gradient_ax, self.loss_ax):
            ax.yaxis.set_minor_formatter(NullFormatter())
        return [self.line, self.twin_line, self.gradient_title, self.curve, self.marker, self.loss_title]

    def background_key(self, state: GradientFlowState):
        return (state.depth, state.residual, state.quantity)

    def update(self, state: GradientFlowState) -> None:
        # Static per (depth, network, quantity): limits, labels, colours, the faint whole curves.
        color = NETWORK_COLORS[state.residual]
        name, twin = network_label(state.depth, state.residual), network_label(state.depth, not state.residual)
        blocks = np.arange(1, len(state.gradient) + 1)
        self.gradient_ax.set_xlim(0.5, len(blocks) + 0.5)
        self.gradient_ax.set_ylabel(state.quantity_label)
        self.gradient_ax.set_ylim(*_whole_decades(*state.gradient_limits))
        for line, label, shade in ((self.line, name, color), (self.twin_line, twin, "0.6")):
            line.set_label(label)
            line.set_color(shade)
        if self.legend_key != (state.depth, state.residual):  # the legend is static: rebuilt only when it changes
            if self.legend is not None:
                self.legend.remove()
            self.legend = self.gradient_ax.legend(loc="upper right", fontsize="small")
            self.legend_key = (state.depth, state.residual)
        smoothed, twin_smoothed = smooth(state.losses), smooth(state.twin_losses)
        self.full_curve.set_data(np.arange(len(smoothed)), smoothed)
        self.full_curve.set_color(color)
        self.twin_curve.set_data(np.arange(len(twin_smoothed)), twin_smoothed)
        self.twin_curve.set_label(twin)
        self.curve.set_color(color)
        finite = np.concatenate([smoothed, twin_smoothed])
        finite = finite[np.isfinite(finite) & (finite > 0)]
        self.loss_ax.set_xlim(0, max(len(state.losses), len(state.twin_losses)))
        if finite.size:
            self.loss_ax.set_ylim(*_whole_decades(finite.min() / 1.5, finite.max() * 1.5))
        # Dynamic: this step's gradients, the loss curve up to it.
        self.line.set_data(blocks, state.gradient)
        self.twin_line.set_data(blocks, state.twin_gradient)
        self.gradient_title.set_text(f"{name}, step {state.step}: first / last block = {state.first_to_last:.3g}")
        shown = smoothed[: state.step + 1]
        self.curve.set_data(np.arange(len(shown)), shown)
        self.marker.set_xdata([state.step, state.step])
        status = " (diverged)" if state.diverged else ""
        self.loss_title.set_text(f"{name}: loss {state.loss:.3g} at step {state.step}{status}")


def plot_gradient_profiles(
    ax, profiles: Mapping[tuple[int, bool], np.ndarray], *, ylabel: str = "RMS of dL/d(block output)", title: str = ""
) -> None:
    """One line per (depth, residual) network: a gradient size per block, block positions scaled to [0, 1]."""
    for (depth, residual), values in profiles.items():
        values = np.asarray(values)
        position = np.linspace(0, 1, len(values))
        ax.plot(
            position,
            values,
            color=NETWORK_COLORS[residual],
            marker="." if len(values) < 12 else None,
            alpha=0.35 + 0.65 * depth / max(d for d, _ in profiles),
            label=network_label(depth, residual),
        )
    ax.set(
        yscale="log",
        xlabel="position of the block (0 = next to the input, 1 = next to the output)",
        ylabel=ylabel,
        title=title,
    )
    ax.legend(fontsize="small", ncol=2)


def plot_degradation(axes, experiment, window: int = 20) -> None:
    """Left: training loss curves (mean over seeds, the seeds' range shaded). Right: test accuracy during training."""
    loss_ax, accuracy_ax = axes
    # The deepest networks solid, then dashed, dotted, dash-dotted for shallower ones.
    line_styles = dict(zip(sorted(experiment.depths, reverse=True), ["-", "--", ":", "-."] * 4))
    for depth in experiment.depths:
        for residual in (False, True):
            runs = [experiment.run(depth, residual, seed) for seed in experiment.seeds]
            style = dict(
                color=NETWORK_COLORS[residual], linestyle=line_styles[depth], label=network_label(depth, residual)
            )
            length = min(len(r.losses) for r in runs)
            curves = np.array([smooth(r.losses[:length], window) for r in runs])
            steps = np.arange(length)
            loss_ax.plot(steps, curves.mean(axis=0), **style)
            if len(runs) > 1:
                loss_ax.fill_between(steps, curves.min(axis=0), curves.max(axis=0), color=style["color"], alpha=0.15)
            evaluated = sorted(set.intersection(*(set(r.test_accuracies) for r in runs)))
            accuracy_ax.plot(
                evaluated,
                [np.mean([r.test_accuracies[s] for r in runs]) for s in evaluated],
                marker="o",
                markersize=4,
                **style,
            )
    loss_ax.set(
        yscale="log",
        xlabel="training step",
        ylabel=f"training loss (smoothed over {window} steps)",
        title=f"training loss, mean of {len(experiment.seeds)} seed(s)",
    )
    accuracy_ax.set(xlabel="training step", ylabel="test accuracy", ylim=(0, 1.02), title="test accuracy")
    accuracy_ax.axhline(0.1, color="0.5", linestyle=":", linewidth=1)
    loss_ax.legend(fontsize="small")


def plot_block_deletion(ax, deletions: Mapping[str, object], colors: Mapping[str, str] | None = None) -> None:
    """Test accuracy after deleting each block in turn; the intact network's accuracy dotted."""
    for label, result in deletions.items():
        color = (colors or {}).get(label)
        blocks = np.arange(1, len(result.deleted) + 1)
        (line,) = ax.plot(
            blocks, result.deleted, marker="o", markersize=4, color=color, label=f"{label}, one block deleted"
        )
        ax.axhline(result.baseline, color=line.get_color(), linestyle=":", linewidth=1.2, label=f"{label}, intact")
    ax.axhline(0.1, color="0.5", linestyle="--", linewidth=1, label="chance (10 classes)")
    ax.set(
        xlabel="deleted block (1 = next to the input)",
        ylabel="test accuracy",
        ylim=(0, 1.02),
        title="deleting one block at test time",
    )
    ax.legend(fontsize="small", loc="lower right")


def plot_loss_slices(ax, slices: Mapping[str, object], colors: Mapping[str, str] | None = None) -> None:
    """The loss along a filter-normalized direction, one curve per network."""
    for label, result in slices.items():
        ax.plot(result.alphas, result.losses, color=(colors or {}).get(label), label=label)
    ax.set(
        yscale="log",
        xlabel="step along the direction (alpha; 1 = one filter norm)",
        ylabel="training loss",
        title="a 1-D slice of the loss landscape",
    )
    ax.legend(fontsize="small")


def plot_loss_surfaces(axes, surfaces: Mapping[str, object], levels: int = 20):
    """Contours of log10(loss) on the plane of two directions, one panel per network, a shared scale."""
    logs = {label: np.log10(np.maximum(s.losses, 1e-6)) for label, s in surfaces.items()}
    low = min(v.min() for v in logs.values())
    high = max(v.max() for v in logs.values())
    bounds = np.linspace(low, high, levels)
    shown = None
    for ax, (label, surface) in zip(np.ravel(axes), surfaces.items()):
        shown = ax.contourf(surface.betas, surface.alphas, logs[label], levels=bounds, cmap="viridis")
        ax.contour(surface.betas, surface.alphas, logs[label], levels=bounds, colors="white", linewidths=0.4)
        ax.plot(0, 0, "r*", markersize=10)
        ax.set(xlabel="direction 2 (beta)", ylabel="direction 1 (alpha)", title=label, aspect="equal")
    return shown


def _whole_decades(low: float, high: float) -> tuple[float, float]:
    """``[low, high]`` widened to whole powers of ten, so that a log axis always shows two labelled decades."""
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 or high <= 0:
        return low, high
    return 10.0 ** np.floor(np.log10(low)), 10.0 ** max(np.ceil(np.log10(high)), np.floor(np.log10(low)) + 1)
