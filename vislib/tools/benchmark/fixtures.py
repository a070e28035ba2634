"""Widgets to time that need a set-up first (a trained model, simulated detections): each function builds
one and returns its :class:`~vislib.widgets.core.Interactive`.
"""

from __future__ import annotations

from functools import cache

from vislib import runtime
from vislib.widgets.core import Interactive

__all__ = [
    "batchnorm_activation_widget",
    "detection_precision_recall_widget",
    "instance_explorer_widget",
    "residual_gradient_flow_widget",
    "segmentation_explorer_widget",
    "tide_oracle_widget",
    "yolo_grid_widget",
]


def yolo_grid_widget() -> Interactive:
    """The 07 notebook's grid widget on its quick-profile model (its recipe) and 12 held-out images."""
    from vislib.widgets.yolo import grid_prediction_widget

    grid, class_names = _yolo_grid_predictions()
    return grid_prediction_widget(grid, class_names, conf_threshold=grid.suggested_threshold())


@cache
def _yolo_grid_predictions():
    """The trained model's predictions (trained once per process; widgets of several styles share them)."""
    import torch

    from vislib.states.yolo import GridPredictions
    from vislib.training.yolo import YOLO_RECIPES

    recipe = YOLO_RECIPES["quick"]
    train_set, held_out = recipe.datasets()
    model = recipe.model(len(train_set.classes))
    recipe.train(model, train_set, device=runtime.device())
    shown = [held_out[i] for i in range(12)]
    grid = GridPredictions(
        model.cpu(), torch.stack([image for image, _ in shown]), [t for _, t in shown], num_boxes=recipe.num_boxes
    )
    return grid, train_set.classes


def detection_precision_recall_widget() -> Interactive:
    """The 06 notebook's precision-recall widget on its quick-profile data (60 shapes images)."""
    from vislib.data.shapes import ShapesDataset
    from vislib.states.scoring import SimulatedDetector
    from vislib.widgets.scoring import precision_recall_widget

    dataset = ShapesDataset(60, image_size=128, seed=0)
    samples = [dataset[i] for i in range(len(dataset))]
    detector = SimulatedDetector([t for _, t in samples], num_classes=len(dataset.classes), image_size=128)
    return precision_recall_widget(detector, [samples[i][0].permute(1, 2, 0).numpy() for i in (0, 1)])


def batchnorm_activation_widget() -> Interactive:
    """The 01 notebook's widget on the notebook's quick-profile recordings (150 steps, every 5th)."""
    from vislib.widgets.activations import activation_distribution_widget

    return activation_distribution_widget(*_batchnorm_histories())


@cache
def _batchnorm_histories():
    """The recordings without and with batch norm (trained once per process)."""
    import torch

    from vislib.data.digits import load_digits
    from vislib.models.small_cnn import SmallCNN
    from vislib.training.classification import train_classifier
    from vislib.training.recording import ActivationRecorder

    data = load_digits(size=16, seed=0)
    histories = []
    for placement in ("none", "before"):
        torch.manual_seed(0)
        model = SmallCNN(batchnorm=placement)
        recorder = ActivationRecorder(model)
        train_classifier(model, data, steps=150, lr=0.05, recorder=recorder, record_every=5)
        histories.append(recorder.history())
    return tuple(histories)


def residual_gradient_flow_widget() -> Interactive:
    """The 02 notebook's widget on short runs of its networks (depths 8, 20, 56; 12 steps, every step recorded)."""
    from vislib.widgets.residual import gradient_flow_widget

    return gradient_flow_widget(_residual_records())


@cache
def _residual_records():
    """The short runs' gradient records (trained once per process)."""
    from vislib.data.digits import load_digits
    from vislib.states.residual import GradientFlowRecords
    from vislib.training.residual import degradation_experiment

    experiment = degradation_experiment(
        load_digits(size=16, seed=0),
        depths=(8, 20, 56),
        seeds=(0,),
        steps=12,
        warmup_steps=2,
        record_every=1,
        show_progress=False,
    )
    return GradientFlowRecords.from_experiment(experiment)


def instance_explorer_widget() -> Interactive:
    """The 09 notebook's instance explorer on a small Mask R-CNN (160 images, 2 epochs) and 8 held-out images."""
    from vislib.widgets.mask_rcnn import instance_explorer_widget as widget

    explorer, class_names = _instance_explorer()
    return widget(explorer, class_names)


@cache
def _instance_explorer():
    """The trained Mask R-CNN's explorer (trained once per process)."""
    import torch

    from vislib.data.shapes import ShapesDataset
    from vislib.models.mask_rcnn import small_mask_rcnn
    from vislib.states.mask_rcnn import InstanceExplorer
    from vislib.training.mask_rcnn import train_mask_rcnn

    train_set = ShapesDataset(160, image_size=128, seed=1)
    held_out = ShapesDataset(8, image_size=128, seed=2)
    torch.manual_seed(0)
    model = small_mask_rcnn(len(train_set.classes) + 1, 128)
    train_mask_rcnn(model, train_set, epochs=2, device=runtime.device())
    explorer = InstanceExplorer(model.cpu(), [held_out[i] for i in range(len(held_out))], min_score=0.3)
    return explorer, train_set.classes


def segmentation_explorer_widget() -> Interactive:
    """The 04 notebook's segmentation explorer on two small segmenters (FCN baseline, U-Net; 80 steps on 128
    shapes images, trained once and then cached) and 12 held-out images."""
    from vislib.widgets.segmentation import segmentation_explorer_widget as widget

    explorer, class_names = _segmentation_explorer()
    return widget(explorer, class_names, model="U-Net")


@cache
def _segmentation_explorer():
    import torch

    from vislib.data.shapes import ShapesDataset
    from vislib.models.segmentation import FCNBaseline, UNet
    from vislib.states.segmentation import SegmentationExplorer
    from vislib.training.segmentation import predict_masks, segmentation_tensors, train_segmenter

    train = segmentation_tensors(ShapesDataset(128, image_size=64, seed=0))
    images, masks = segmentation_tensors(ShapesDataset(12, image_size=64, seed=10_000))
    class_names = ("background", *ShapesDataset(1).classes)
    predictions = {}
    for name, architecture in (("FCN baseline", FCNBaseline), ("U-Net", UNet)):
        torch.manual_seed(0)
        model = architecture(len(class_names), (8, 16, 32))
        train_segmenter(model, train, steps=80, batch_size=8, seed=0)
        predictions[name] = predict_masks(model, images)
    return SegmentationExplorer(images, masks, predictions, len(class_names)), class_names


def tide_oracle_widget() -> Interactive:
    """The 06 notebook's error-oracle widget on its quick-profile data (60 shapes images, simulated detector)."""
    from vislib.data.shapes import ShapesDataset, to_coco
    from vislib.metrics.tide import tide_errors
    from vislib.states.scoring import SimulatedDetector
    from vislib.states.tide import OracleExplorer
    from vislib.training.epochs import to_coco_results
    from vislib.widgets.tide import oracle_widget

    dataset = ShapesDataset(60, image_size=128, seed=0)
    targets = [dataset[i][1] for i in range(len(dataset))]
    detector = SimulatedDetector(targets, num_classes=len(dataset.classes), image_size=128, seed=0)
    detections, _ = detector.detections_and_matches(0.15, 1.5, 0.6)
    gt = to_coco(dataset)
    results = to_coco_results(detections, [image["id"] for image in gt["images"]])
    return oracle_widget(OracleExplorer(tide_errors(gt, results)))
