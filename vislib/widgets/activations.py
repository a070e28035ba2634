"""The batch-norm notebook's headline widget: activation distributions with and without BN."""

from __future__ import annotations

from functools import partial

import ipywidgets

from vislib._validation import check_type
from vislib.plotting.activations import ActivationDistributionView
from vislib.states.activations import activation_distribution_state
from vislib.training.recording import STAGE_LABELS, STAGES, ActivationHistory
from vislib.widgets.core import Interactive, make_control

__all__ = ["activation_distribution_widget"]


def activation_distribution_widget(
    plain: ActivationHistory, batchnorm: ActivationHistory, layer: int = 0, stage: str = "before"
) -> Interactive:
    """Pick a block, a recorded training step, and the stage: the conv output or the input of the nonlinearity."""
    check_type("plain", plain, ActivationHistory, "an ActivationHistory")
    check_type("batchnorm", batchnorm, ActivationHistory, "an ActivationHistory")
    controls = {
        "layer": make_control(
            "layer",
            ipywidgets.Dropdown,
            layer,
            options=[(name, i) for i, name in enumerate(plain.layer_names)],
            description="layer",
        ),
        "step_index": ipywidgets.SelectionSlider(
            options=[(str(s), i) for i, s in enumerate(plain.steps)], value=len(plain.steps) - 1, description="step"
        ),
        "stage": make_control(
            "stage",
            ipywidgets.ToggleButtons,
            stage,
            options=[(STAGE_LABELS[s], s) for s in STAGES],
            description="stage",
        ),
    }
    state = partial(activation_distribution_state, plain, batchnorm)
    every_background = [{"layer": i, "stage": s} for i in range(len(plain.layer_names)) for s in STAGES]
    return Interactive(
        state,
        ActivationDistributionView(),
        controls,
        nrows=2,
        ncols=2,
        figsize=(11, 6.5),
        warm_up=every_background,
        image_format="jpeg",
    )
