"""The residual-connections notebook's headline widget: gradient flow through plain and residual networks."""

from __future__ import annotations

from functools import partial

import ipywidgets

from vislib._validation import check_type
from vislib.plotting.residual import GradientFlowView
from vislib.states.residual import QUANTITIES, GradientFlowRecords, gradient_flow_state
from vislib.widgets.core import Interactive, make_control

__all__ = ["gradient_flow_widget", "QUANTITY_NAMES"]

QUANTITY_NAMES = {"output_grad": "dL/d(block output)", "weight_grad": "dL/dW"}


def gradient_flow_widget(
    records: GradientFlowRecords, depth: int | None = None, residual: bool = False, quantity: str = "output_grad"
) -> Interactive:
    """Choose a depth, plain or residual, a recorded training step and the gradient shown."""
    check_type("records", records, GradientFlowRecords, "GradientFlowRecords (vislib.states.residual)")
    depth = max(records.depths) if depth is None else depth
    steps = [int(s) for s in records.steps]
    controls = {
        "depth": make_control(
            "depth", ipywidgets.Dropdown, depth, options=[int(d) for d in records.depths], description="depth"
        ),
        "residual": make_control(
            "residual",
            ipywidgets.ToggleButtons,
            residual,
            options=[("plain", False), ("residual", True)],
            description="network",
        ),
        "step": make_control(
            "step", ipywidgets.SelectionSlider, steps[0], options=[(str(s), s) for s in steps], description="step"
        ),
        "quantity": make_control(
            "quantity",
            ipywidgets.ToggleButtons,
            quantity,
            options=[(QUANTITY_NAMES[q], q) for q in QUANTITIES],
            description="gradient",
        ),
    }
    every_background = [
        {"depth": d, "residual": r, "quantity": q} for d in records.depths for r in (False, True) for q in QUANTITIES
    ]
    return Interactive(
        partial(gradient_flow_state, records),
        GradientFlowView(),
        controls,
        nrows=1,
        ncols=2,
        figsize=(11, 4.2),
        controls_per_row=2,
        warm_up=every_background,
        max_backgrounds=max(16, len(every_background)),
        image_format="jpeg",
    )
