"""Notebook 03's headline widget: which filter sees which input channel, for any number of groups."""

from __future__ import annotations

import ipywidgets

from vislib.plotting.grouped_conv import ConnectivityView
from vislib.states.grouped_conv import LAYOUTS, connectivity_state
from vislib.widgets.core import Interactive, make_control

__all__ = ["connectivity_widget"]


def connectivity_widget(channels: int = 16, groups: int = 4, layout: str = LAYOUTS[0]) -> Interactive:
    """Channels (8, 16, 32), groups (1 = dense ... = channels: depthwise) and one layer, two stacked
    layers, or two with a channel shuffle between them; a group count that does not divide the channels
    is refused with a message."""
    controls = {
        "channels": make_control(
            "channels", ipywidgets.Dropdown, channels, options=[8, 16, 32], description="channels"
        ),
        "groups": make_control(
            "groups", ipywidgets.Dropdown, groups, options=[1, 2, 4, 8, 16, 32], description="groups"
        ),
        "layout": make_control("layout", ipywidgets.ToggleButtons, layout, options=list(LAYOUTS), description="show"),
    }
    warm_up = [
        {"channels": c, "layout": layout_name, "groups": min(groups, c)} for c in (8, 16, 32) for layout_name in LAYOUTS
    ]
    return Interactive(
        connectivity_state,
        ConnectivityView(),
        controls,
        ncols=3,
        figsize=(10.5, 4.2),
        controls_per_row=3,
        warm_up=warm_up,
    )
