"""What the benchmark measures: the notebooks (with their time goals), the widgets (with their update-time
goals) and the other measurements, each named by a ``"module:function"`` spec; :func:`is_selected` picks
entries for ``--only``. New notebooks and widgets register here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "is_selected",
    "Measurement",
    "MEASUREMENTS",
    "NotebookGoal",
    "NOTEBOOKS",
    "REPOSITORY",
    "WidgetBenchmark",
    "WIDGETS",
]

REPOSITORY = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class NotebookGoal:
    path: str  # relative to the repository root
    quick_seconds: float
    full_seconds: float


@dataclass(frozen=True)
class WidgetBenchmark:
    name: str
    factory: str  # "module:function" returning an Interactive
    median_ms: float = 50.0
    p95_ms: float = 150.0


NOTEBOOKS = [
    NotebookGoal("notebooks/00_start_here.ipynb", quick_seconds=60, full_seconds=60),
    NotebookGoal("notebooks/01_batch_normalization.ipynb", quick_seconds=90, full_seconds=300),
    NotebookGoal("notebooks/02_residual_connections.ipynb", quick_seconds=90, full_seconds=480),
    NotebookGoal("notebooks/03_grouped_convolutions.ipynb", quick_seconds=90, full_seconds=480),
    NotebookGoal("notebooks/04_semantic_segmentation.ipynb", quick_seconds=120, full_seconds=900),
    NotebookGoal("notebooks/05_atrous_deeplab.ipynb", quick_seconds=120, full_seconds=900),
    NotebookGoal("notebooks/06_detection_scoring.ipynb", quick_seconds=90, full_seconds=300),
    NotebookGoal("notebooks/07_yolo.ipynb", quick_seconds=120, full_seconds=600),
    NotebookGoal("notebooks/08_rcnn_family.ipynb", quick_seconds=120, full_seconds=900),
    NotebookGoal("notebooks/09_instance_segmentation.ipynb", quick_seconds=120, full_seconds=900),
]


WIDGETS = [
    WidgetBenchmark("00 start here: saturation", "vislib.widgets.nonlinearities:saturation_widget"),
    WidgetBenchmark(
        "01 batch norm: activation distributions", "vislib.tools.benchmark.fixtures:batchnorm_activation_widget"
    ),
    WidgetBenchmark("02 residual: gradient flow", "vislib.tools.benchmark.fixtures:residual_gradient_flow_widget"),
    WidgetBenchmark("03 grouped convolutions: channel connectivity", "vislib.widgets.grouped_conv:connectivity_widget"),
    WidgetBenchmark(
        "04 segmentation: prediction explorer", "vislib.tools.benchmark.fixtures:segmentation_explorer_widget"
    ),
    WidgetBenchmark("05 atrous: receptive-field explorer", "vislib.widgets.receptive_field:receptive_field_widget"),
    WidgetBenchmark("06 scoring: IoU of two boxes", "vislib.widgets.scoring:iou_widget"),
    WidgetBenchmark(
        "06 scoring: precision and recall at a threshold",
        "vislib.tools.benchmark.fixtures:detection_precision_recall_widget",
    ),
    WidgetBenchmark("06 scoring: error oracles (TIDE)", "vislib.tools.benchmark.fixtures:tide_oracle_widget"),
    WidgetBenchmark("07 YOLO: grid predictions", "vislib.tools.benchmark.fixtures:yolo_grid_widget"),
    WidgetBenchmark("08 R-CNN: RoIAlign sampling", "vislib.widgets.roi:roi_align_widget"),
    WidgetBenchmark("09 Mask R-CNN: instance explorer", "vislib.tools.benchmark.fixtures:instance_explorer_widget"),
]


@dataclass(frozen=True)
class Measurement:
    """A named speed or quality figure: ``function()`` returns ``[(what, value, unit, goal text, met?)]``."""

    name: str
    function: str  # "module:function"


MEASUREMENTS = [
    Measurement("COCO evaluation speed (06)", "vislib.tools.benchmark.measurements:measure_coco_speed"),
    Measurement("shapes data set throughput (06)", "vislib.tools.benchmark.measurements:measure_shapes_throughput"),
    Measurement("training monitor cost (06)", "vislib.tools.benchmark.measurements:measure_monitor_cost"),
    Measurement("YOLO training run (07)", "vislib.tools.benchmark.measurements:measure_yolo_training"),
    Measurement("TIDE error analysis, 300 images (06)", "vislib.tools.benchmark.measurements:measure_tide_analysis"),
    Measurement("nms against torchvision (issue 20)", "vislib.tools.benchmark.measurements:measure_nms"),
    Measurement("shared cores (issue 18)", "vislib.tools.benchmark.measurements:measure_shared_cores"),
    Measurement(
        "time to first headline widget (issue 18)", "vislib.tools.benchmark.measurements:measure_time_to_headline"
    ),
]

#: Each notebook's headline widget: the id of the cell that shows it ("time to first headline widget").
HEADLINE_WIDGETS = {
    "notebooks/00_start_here.ipynb": "saturation-widget",
    "notebooks/01_batch_normalization.ipynb": "activation-widget-show",
    "notebooks/02_residual_connections.ipynb": "gradient-flow-widget-show",
    "notebooks/03_grouped_convolutions.ipynb": "connectivity-widget",
    "notebooks/04_semantic_segmentation.ipynb": "explorer-widget",
    "notebooks/05_atrous_deeplab.ipynb": "widget",
    "notebooks/06_detection_scoring.ipynb": "iou-widget",
    "notebooks/07_yolo.ipynb": "widget-show",
    "notebooks/08_rcnn_family.ipynb": "roi-widget-show",
    "notebooks/09_instance_segmentation.ipynb": "widget-show",
}


def is_selected(name: str, only: str) -> bool:
    """Whether ``--only`` picks ``name``: it contains one of the comma-separated parts (an empty ``only``: all)."""
    parts = [part.strip() for part in only.split(",") if part.strip()]
    return not parts or any(part in name for part in parts)
