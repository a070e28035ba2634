"""The activation-distribution widget's picture: histograms now, statistics over training."""

from __future__ import annotations

import numpy as np

from vislib.plotting.style import ROLE_COLORS
from vislib.plotting.view import View, peak_normalized
from vislib.states.activations import ActivationDistributionState
from vislib.training.recording import NETWORK_STAGE_LABELS

__all__ = ["ActivationDistributionView", "NETWORKS"]

NETWORKS = (
    ("plain", "without batch norm", ROLE_COLORS["without_batchnorm"]),
    ("batchnorm", "with batch norm", ROLE_COLORS["with_batchnorm"]),
)


class ActivationDistributionView(View):
    """Top: the histogram of each network's activations at the chosen step.
    Bottom: their mean and standard deviation over training, the chosen step marked.
    """

    def setup(self, axes, state: ActivationDistributionState):
        self.histogram_axes = axes[0]
        self.mean_axis, self.std_axis = axes[1]
        self.bars, self.titles, self.markers, self.trajectories = {}, {}, [], {}
        for ax, (key, _label, color) in zip(self.histogram_axes, NETWORKS):
            network = getattr(state, key)
            self.bars[key] = ax.stairs(
                peak_normalized(network.density), network.bin_edges, fill=True, color=color, alpha=0.75
            )
            ax.set_ylim(0, 1.05)
            ax.set_ylabel("relative frequency (peak = 1)")
            self.titles[key] = ax.set_title(" ")
        for ax, quantity in ((self.mean_axis, "mean"), (self.std_axis, "std")):
            for key, label, color in NETWORKS:
                (self.trajectories[key, quantity],) = ax.plot(
                    state.steps, getattr(getattr(state, key), quantity), color=color, label=label
                )
            ax.set_xlabel("training step")
            ax.set_ylabel(f"{quantity} of the activations")
            self.markers.append(ax.axvline(state.step, color="0.3", linestyle=":"))
        self.std_axis.legend(loc="best", fontsize="small")
        return [*self.bars.values(), *self.titles.values(), *self.markers]

    def background_key(self, state: ActivationDistributionState):
        return (state.layer, state.stage)

    def update(self, state: ActivationDistributionState) -> None:
        # Static for a block and stage: bins, y-limits, axis labels and the trajectories.
        for ax, (key, _label, _color) in zip(self.histogram_axes, NETWORKS):
            network = getattr(state, key)
            ax.set_xlim(network.bin_edges[0], network.bin_edges[-1])
            ax.set_xlabel(f"{state.layer_name}, {NETWORK_STAGE_LABELS[key][state.stage]}")
        for ax, quantity in ((self.mean_axis, "mean"), (self.std_axis, "std")):
            values = []
            for key, _, _ in NETWORKS:
                series = getattr(getattr(state, key), quantity)
                self.trajectories[key, quantity].set_ydata(series)
                values.append(series)
            low, high = float(np.min(values)), float(np.max(values))
            pad = 0.08 * (high - low) + 1e-3
            ax.set_ylim(low - pad, high + pad)
            ax.set_title(f"{quantity} over training, {state.layer_name}")
        # Dynamic: the histograms at this step and the step markers.
        for key, label, _ in NETWORKS:
            network = getattr(state, key)
            self.bars[key].set_data(peak_normalized(network.density), network.bin_edges)
            self.titles[key].set_text(
                f"{label}, step {state.step}: mean {network.mean[state.step_index]:+.2f}, "
                f"std {network.std[state.step_index]:.2f}"
            )
        for marker in self.markers:
            marker.set_xdata([state.step, state.step])
