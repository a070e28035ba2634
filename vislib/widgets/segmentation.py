"""The semantic-segmentation notebook's headline widget: the segmentation explorer."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets

from vislib._validation import check_type
from vislib.plotting.segmentation import SegmentationView
from vislib.states.segmentation import SegmentationExplorer
from vislib.widgets.core import Interactive, make_control

__all__ = ["segmentation_explorer_widget"]


def segmentation_explorer_widget(explorer: SegmentationExplorer, class_names, model: str | None = None) -> Interactive:
    """Choose a held-out image and a trained model: the image, its ground truth, the model's prediction and its
    wrong pixels (near a true boundary or elsewhere), with the image's mIoU and boundary F-score. Every
    prediction was computed once (the explorer); a move only indexes them."""
    check_type("explorer", explorer, SegmentationExplorer, "a SegmentationExplorer (vislib.states.segmentation)")
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise TypeError(f"class_names must be a sequence of names (background first), got {class_names!r}")
    if len(class_names) != explorer.num_classes:
        raise ValueError(
            f"class_names must name the explorer's {explorer.num_classes} classes (background first), "
            f"got {len(class_names)}"
        )
    model = explorer.names[0] if model is None else model
    images = len(explorer.images)
    controls = {
        "image_index": make_control("image_index", ipywidgets.IntSlider, 0, min=0, max=images - 1, description="image"),
        "model": make_control(
            "model",
            ipywidgets.Dropdown,
            model,
            options=explorer.names,
            description="model",
            layout=ipywidgets.Layout(width="260px"),
        ),
    }
    return Interactive(
        explorer.state,
        SegmentationView(class_names),
        controls,
        nrows=1,
        ncols=4,
        figsize=(12.5, 4.4),  # 1000 CSS px: fits the output area of a 1440-px screen
        controls_per_row=2,
        image_format="png",  # exact colours and edges for label maps (ISA-L makes PNG cheap: plotting.figures)
        max_backgrounds=images,
    )
