"""The YOLO notebook's headline widget: grid predictions, thresholds and NMS on held-out images."""

from __future__ import annotations

import ipywidgets

from vislib._validation import check_number, check_type
from vislib.plotting.yolo import GridView
from vislib.states.yolo import GridPredictions
from vislib.widgets.core import Interactive

__all__ = ["grid_prediction_widget"]


def grid_prediction_widget(predictions: GridPredictions, class_names, conf_threshold: float = 0.25) -> Interactive:
    """Choose an image, the confidence threshold, the NMS IoU threshold and the class for the class maps.

    ``conf_threshold``: the threshold slider's starting value (e.g. ``predictions.suggested_threshold()``).
    """
    check_type("predictions", predictions, GridPredictions, "a GridPredictions")
    conf_threshold = check_number("conf_threshold", conf_threshold, min_value=0.0, max_value=1.0)
    if isinstance(class_names, str) or not isinstance(class_names, (list, tuple)):
        raise TypeError(f"class_names must be a list of names, got {class_names!r}")
    if len(class_names) != predictions.num_classes:
        raise ValueError(
            f"class_names must name the model's {predictions.num_classes} classes, got {len(class_names)} names"
        )
    controls = {
        "image_index": ipywidgets.IntSlider(value=0, min=0, max=len(predictions.decoded) - 1, description="image"),
        "conf_threshold": ipywidgets.FloatSlider(
            value=conf_threshold, min=0.0, max=1.0, step=0.01, description="confidence ≥"
        ),
        "nms_threshold": ipywidgets.FloatSlider(value=0.5, min=0.05, max=1.0, step=0.05, description="NMS IoU >"),
        "class_index": ipywidgets.Dropdown(
            options=[(n, i) for i, n in enumerate(class_names)], value=0, description="class map"
        ),
    }
    images = len(predictions.decoded)
    return Interactive(
        predictions.state,
        GridView(predictions.images, class_names),
        controls,
        nrows=2,
        ncols=3,
        figsize=(12.5, 8.2),  # 1000 CSS px: fits the output area of a 1440-px screen
        controls_per_row=4,
        image_format="jpeg",
        max_backgrounds=images,
        warm_up=[{"image_index": i} for i in range(images)],
    )
