"""The detection-scoring notebook's widgets: IoU of two boxes, and precision/recall at a threshold."""

from __future__ import annotations

import ipywidgets

from vislib._validation import check_int, check_type
from vislib.plotting.scoring import IoUView, ThresholdView
from vislib.states.scoring import SimulatedDetector, iou_state
from vislib.widgets.core import Interactive

__all__ = ["iou_widget", "precision_recall_widget"]


def iou_widget(canvas: int = 100) -> Interactive:
    """Move and resize a ground-truth box and a predicted box; see the intersection, union and IoU."""
    canvas = check_int("canvas", canvas, min_value=60)

    def slider(value, description, low=0.0):
        return ipywidgets.FloatSlider(
            value=value, min=low, max=canvas, step=1, description=description, continuous_update=True
        )

    controls = {
        "gt_x": slider(40, "truth x"),
        "gt_y": slider(45, "truth y"),
        "gt_w": slider(40, "truth w", 1),
        "gt_h": slider(50, "truth h", 1),
        "pred_x": slider(52, "pred x"),
        "pred_y": slider(52, "pred y"),
        "pred_w": slider(44, "pred w", 1),
        "pred_h": slider(46, "pred h", 1),
    }
    return Interactive(iou_state, IoUView(canvas), controls, figsize=(6.5, 6.2), controls_per_row=4)


def precision_recall_widget(detector: SimulatedDetector, images) -> Interactive:
    """Detector quality sliders and a score threshold; TP/FP/FN on images and the point on the PR curve."""
    check_type("detector", detector, SimulatedDetector, "a SimulatedDetector")
    if isinstance(images, (str, bytes)) or not isinstance(images, (list, tuple)) or not images:
        raise TypeError(f"images must be a non-empty list of the images shown, got {type(images).__name__}")
    controls = {
        "localization_noise": ipywidgets.FloatSlider(value=0.1, min=0, max=0.5, step=0.02, description="box noise"),
        "false_positives": ipywidgets.FloatSlider(value=1.0, min=0, max=5, step=0.25, description="FPs / image"),
        "calibration": ipywidgets.FloatSlider(value=0.8, min=0, max=1, step=0.05, description="calibration"),
        "score_threshold": ipywidgets.FloatSlider(value=0.5, min=0, max=1, step=0.01, description="threshold"),
    }
    return Interactive(
        detector.state,
        ThresholdView(images),
        controls,
        ncols=len(images) + 1,
        figsize=(4.15 * (len(images) + 1), 4.5),  # two pictures and the curve: 1000 CSS px, a 1440-px screen
        controls_per_row=4,
        image_format="png",  # exact, and with ISA-L cheaper to encode than JPEG here
    )
