"""Drawing an :class:`~vislib.analysis.nonlinearities.ActivationResponse`."""

from __future__ import annotations

import numpy as np

from vislib.analysis.nonlinearities import OUTPUT_RANGES, Z_BIN_EDGES, ActivationResponse
from vislib.plotting.style import OKABE_ITO
from vislib.plotting.view import View, peak_normalized

__all__ = ["SaturationView"]


def _min_max_scaled(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else values - low


class SaturationView(View):
    """Left: the histogram of ``z`` under the nonlinearity and its derivative.
    Right: the histogram of the nonlinearity's outputs.
    """

    def setup(self, axes, response: ActivationResponse):
        self.left, self.right = np.ravel(axes)
        left, right = self.left, self.right
        self.z_bars = left.stairs(
            peak_normalized(response.z_density),
            Z_BIN_EDGES,
            fill=True,
            color=OKABE_ITO[5],
            alpha=0.5,
            label="histogram of z",
        )
        (self.function_line,) = left.plot(response.curve_z, response.curve_outputs, color=OKABE_ITO[0])
        (self.derivative_line,) = left.plot(
            response.curve_z, response.curve_gradients, color=OKABE_ITO[3], linestyle="--"
        )
        left.set(xlim=(-8, 8), ylim=(0, 1.08), xlabel="pre-activation z", ylabel="relative frequency (peak = 1)")
        self.legend = left.legend(
            ["histogram of z", "f(z), scaled to [0, 1]", "f'(z), scaled to [0, 1]"], loc="upper left", fontsize="small"
        )
        self.left_title = left.set_title(" ")

        self.output_bars = right.stairs(
            peak_normalized(response.output_density),
            response.output_bin_edges,
            fill=True,
            color=OKABE_ITO[0],
            alpha=0.8,
        )
        right.set(ylim=(0, 1.08), ylabel="relative frequency (peak = 1)")
        # The layout is computed once, but the right axis' range changes with the nonlinearity: leave room
        # at the sides for a tick label at its ends.
        engine = right.figure.get_layout_engine()
        if hasattr(engine, "set"):
            engine.set(w_pad=0.2)
        self.right_title = right.set_title(" ")
        return [self.z_bars, self.output_bars, self.left_title, self.right_title]

    def background_key(self, response: ActivationResponse):
        return response.nonlinearity

    def update(self, response: ActivationResponse) -> None:
        name = response.nonlinearity
        # Static for a given nonlinearity: its curves, output range and labels.
        self.function_line.set_ydata(_min_max_scaled(response.curve_outputs))
        self.derivative_line.set_ydata(_min_max_scaled(response.curve_gradients))
        self.legend.get_texts()[1].set_text(f"{name}(z), scaled to [0, 1]")
        self.legend.get_texts()[2].set_text(f"{name}'(z), scaled to [0, 1]")
        self.right.set_xlim(*OUTPUT_RANGES[name])
        self.right.set_xlabel(f"{name}(z)")
        # Dynamic: the two histograms and the two measurements.
        self.z_bars.set_data(peak_normalized(response.z_density))
        self.output_bars.set_data(peak_normalized(response.output_density), response.output_bin_edges)
        self.left_title.set_text(f"{response.saturated_fraction:.0%} of units saturated")
        self.right_title.set_text(f"mean gradient: {response.mean_gradient_ratio:.0%} of its maximum")
