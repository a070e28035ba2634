"""The instance-segmentation notebook's headline widget: the instance explorer."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets

from vislib._validation import check_type
from vislib.plotting.mask_rcnn import InstanceView
from vislib.states.mask_rcnn import InstanceExplorer
from vislib.widgets.core import Interactive, make_control

__all__ = ["instance_explorer_widget"]


def instance_explorer_widget(explorer: InstanceExplorer, class_names) -> Interactive:
    """Choose a held-out image, one of its detections and the mask threshold: the box, the 28 x 28 mask
    probabilities, the pasted mask and its IoU with the matched ground truth."""
    check_type("explorer", explorer, InstanceExplorer, "an InstanceExplorer (vislib.states.mask_rcnn)")
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise TypeError(f"class_names must be a sequence of names (label k is class_names[k - 1]), got {class_names!r}")
    images = len(explorer.entries)
    slider = ipywidgets.IntSlider
    controls = {
        "image_index": make_control("image_index", slider, 0, min=0, max=images - 1, description="image"),
        "detection": make_control(
            "detection", slider, 0, min=0, max=max(explorer.max_detections - 1, 0), description="detection"
        ),
        "threshold": make_control(
            "threshold", ipywidgets.FloatSlider, 0.5, min=0.05, max=0.95, step=0.05, description="threshold >"
        ),
    }
    return Interactive(
        explorer.state,
        InstanceView(explorer.images, class_names),
        controls,
        nrows=1,
        ncols=3,
        figsize=(12.5, 4.5),  # 1000 CSS px: fits the output area of a 1440-px screen
        controls_per_row=3,
    )
