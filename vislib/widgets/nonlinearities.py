"""The start-here widget: move the pre-activation distribution, watch saturation."""

from __future__ import annotations

import ipywidgets

from vislib.analysis.nonlinearities import NONLINEARITIES, activation_response
from vislib.plotting.nonlinearities import SaturationView
from vislib.widgets.core import Interactive, make_control

__all__ = ["saturation_widget"]


def saturation_widget(mean: float = 0.0, std: float = 1.0, nonlinearity: str = "sigmoid") -> Interactive:
    """Sliders for the mean and spread of ``z`` and a choice of nonlinearity."""
    controls = {
        "mean": make_control("mean", ipywidgets.FloatSlider, mean, min=-6, max=6, step=0.1, description="mean of z"),
        "std": make_control("std", ipywidgets.FloatSlider, std, min=0.1, max=6, step=0.1, description="std of z"),
        "nonlinearity": make_control(
            "nonlinearity", ipywidgets.Dropdown, nonlinearity, options=NONLINEARITIES, description="nonlinearity"
        ),
    }
    return Interactive(activation_response, SaturationView(), controls, ncols=2, figsize=(10, 3.8))
