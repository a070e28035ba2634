"""The live training monitor on a real (short) training run of a tiny detector."""

import numpy as np
import torch

from vislib.data.shapes import ShapesDataset, to_coco
from vislib.metrics import coco_evaluate
from vislib.models.yolo import TinyYolo
from vislib.plotting import live as live_module
from vislib.plotting.monitor import TrainingMonitor
from vislib.training.epochs import to_coco_results
from vislib.training.yolo import predict, train_detector


class _Handle:
    def __init__(self):
        self.updates = 0

    def update(self, image):
        self.updates += 1


def test_monitor_scores_each_epoch_and_redraws_in_place(monkeypatch):
    shown = []
    monkeypatch.setattr(live_module, "display", lambda obj, display_id=False: shown.append(obj) or _Handle())
    train_set = ShapesDataset(64, image_size=64, seed=1)
    held_out = ShapesDataset(16, image_size=64, seed=2)
    ground_truth = to_coco(held_out)
    torch.manual_seed(0)
    model = TinyYolo(image_size=64, grid_size=4, num_classes=4, width=8)
    monitor = TrainingMonitor(lambda m: predict(m, held_out), ground_truth, train_set.classes)
    run = train_detector(model, train_set, epochs=2, batch_size=16, on_epoch=monitor)

    history = monitor.history
    assert [e.epoch for e in history.epochs] == [1, 2]
    assert history.step_losses == run.losses and len(run.losses) == 2 * 4
    assert len(shown) == 1 and monitor.live._handle.updates == 1  # shown once, then updated in place
    assert len(monitor.costs) == 2 and all(c["predict_s"] > 0 and c["draw_s"] > 0 for c in monitor.costs)
    assert len(run.on_epoch_seconds) == 2
    # The recorded numbers are exactly a COCO evaluation of the final model's predictions.
    final = coco_evaluate(ground_truth, to_coco_results(predict(model, held_out), range(len(held_out))))
    assert history.epochs[-1].summary == final.summary
    assert history.epochs[-1].precision_at_50.shape == (4, 101)
    assert np.isfinite(history.epochs[-1].mean_loss)
