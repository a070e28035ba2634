"""Widgets to time that need a set-up first (a trained model, simulated detections): each function builds
one and returns its :class:`~vislib.widgets.core.Interactive`.
"""

from __future__ import annotations

from functools import cache

from vislib import runtime
from vislib.widgets.core import Interactive


def yolo_grid_widget() -> Interactive:
    """The 07 notebook's grid widget on its quick-profile model (300 images, 3 epochs) and 12 held-out images."""
    from vislib.widgets.yolo import grid_prediction_widget

    grid, class_names = _yolo_grid_predictions()
    return grid_prediction_widget(grid, class_names)


@cache
def _yolo_grid_predictions():
    """The trained model's predictions (trained once per process; widgets of several styles share them)."""
    import torch

    from vislib.data.shapes import ShapesDataset
    from vislib.models.yolo import TinyYolo
    from vislib.states.yolo import GridPredictions
    from vislib.training.yolo import train_detector

    train_set = ShapesDataset(300, image_size=64, seed=1)
    held_out = ShapesDataset(12, image_size=64, seed=2)
    torch.manual_seed(0)
    model = TinyYolo(image_size=64, grid_size=4, num_boxes=2, num_classes=len(train_set.classes))
    train_detector(model, train_set, epochs=3, lr=2e-3, device=runtime.device())
    shown = [held_out[i] for i in range(len(held_out))]
    grid = GridPredictions(model.cpu(), torch.stack([image for image, _ in shown]), [t for _, t in shown], num_boxes=2)
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
