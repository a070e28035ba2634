"""The instance-segmentation notebook's headline widget: the instance explorer."""

from __future__ import annotations

import ipywidgets

from vislib.plotting.mask_rcnn import InstanceView
from vislib.states.mask_rcnn import InstanceExplorer
from vislib.widgets.core import Interactive


def instance_explorer_widget(explorer: InstanceExplorer, class_names) -> Interactive:
    """Choose a held-out image, one of its detections and the mask threshold: the box, the 28 x 28 mask
    probabilities, the pasted mask and its IoU with the matched ground truth."""
    images = len(explorer.entries)
    controls = {
        "image_index": ipywidgets.IntSlider(value=0, min=0, max=images - 1, description="image"),
        "detection": ipywidgets.IntSlider(value=0, min=0, max=explorer.max_detections - 1, description="detection"),
        "threshold": ipywidgets.FloatSlider(value=0.5, min=0.05, max=0.95, step=0.05, description="threshold >"),
    }
    return Interactive(
        explorer.state,
        InstanceView(explorer.images, class_names),
        controls,
        nrows=1,
        ncols=3,
        figsize=(12.5, 4.5),  # 1000 CSS px: fits the output area of a 1440-px screen
        controls_per_row=3,
        image_format="jpeg",
        max_backgrounds=images,
        warm_up=[{"image_index": i} for i in range(images)],
    )
