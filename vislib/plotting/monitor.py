"""The live training monitor: loss, per-class PR curves and mAP, one figure updated in place."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from matplotlib.ticker import MaxNLocator

from vislib._validation import check_int
from vislib.plotting.live import LiveFigure
from vislib.plotting.style import OKABE_ITO
from vislib.plotting.training import smooth
from vislib.training.monitor import MonitorHistory, evaluate_epoch

__all__ = ["plot_monitor", "TrainingMonitor"]


def plot_monitor(axes, history: MonitorHistory, epochs: int | None = None) -> None:
    """Left: the loss per step. Middle: each class's PR curve at IoU 0.5 (latest epoch). Right: mAP per epoch.

    The mAP axis is fixed: mAP from 0 to 1, epochs from 1 to ``epochs`` (the run's length, when known, so the
    axes do not move while it trains; else the epochs so far), whole epochs only. The PR and mAP legends sit
    below their axes, off the curves.
    """
    loss_ax, pr_ax, map_ax = axes
    if history.step_losses:
        loss_ax.plot(history.step_losses, color="0.75", linewidth=1, label="per step")
        loss_ax.plot(smooth(history.step_losses, 20), color=OKABE_ITO[0], label="smoothed")
        loss_ax.set_yscale("log")
        loss_ax.legend(fontsize="small")
    loss_ax.set(xlabel="training step", ylabel="loss", title="training loss")
    if history.epochs:
        latest = history.epochs[-1]
        for k, (name, curve) in enumerate(zip(history.class_names, latest.precision_at_50)):
            ap = list(latest.per_class_ap50.values())[k]
            pr_ax.plot(latest.recall_points, curve, color=OKABE_ITO[k % len(OKABE_ITO)], label=f"{name}: AP50 {ap:.2f}")
        pr_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize="small")
        pr_ax.set_title(f"PR curves at IoU 0.5, epoch {latest.epoch}")
        epoch_numbers = [e.epoch for e in history.epochs]
        map_ax.plot(epoch_numbers, history.ap50, "o-", color=OKABE_ITO[0], label="mAP@.5")
        map_ax.plot(epoch_numbers, history.ap, "s-", color=OKABE_ITO[1], label="mAP@[.5:.95]")
        if history.mask_ap50:
            map_ax.plot(epoch_numbers, history.mask_ap50, "o--", color=OKABE_ITO[2], label="mask mAP@.5")
            map_ax.plot(epoch_numbers, history.mask_ap, "s--", color=OKABE_ITO[3], label="mask mAP@[.5:.95]")
        map_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize="small")
    else:
        pr_ax.set_title("PR curves at IoU 0.5 (after the first epoch)")
    pr_ax.set(xlim=(0, 1.02), ylim=(0, 1.05), xlabel="recall", ylabel="precision")
    last_epoch = max([e.epoch for e in history.epochs] + [epochs or 1, 1])
    map_ax.set_xlim(0.5, last_epoch + 0.5)
    map_ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    map_ax.set_yticks(np.linspace(0, 1, 6))
    map_ax.set(
        ylim=(0, 1.02),
        xlabel="epoch",
        ylabel="mAP",
        title="held-out mAP (boxes, masks)" if history.mask_ap50 else "held-out mAP",
    )


class TrainingMonitor:
    """An ``on_epoch(epoch, model, run)`` callback for :func:`~vislib.training.yolo.train_detector`:
    predict the held-out set, score it, redraw the live figure.

    ``predict(model) -> list of per-image predictions`` and ``ground_truth``
    (COCO dict of the same images) define the held-out set; ``run.losses`` are
    the training losses so far. Each call records how long predicting,
    evaluating and drawing took (``costs``), to compare with the epoch. With ``masks=True``
    the predictions' ``masks`` are scored too (mask AP, COCO ``segm``) and drawn next to the box mAP.
    ``epochs`` (the run's length) fixes the epoch axis from the first redraw on.
    """

    def __init__(
        self,
        predict: Callable,
        ground_truth: dict,
        class_names,
        *,
        live: bool = True,
        masks: bool = False,
        epochs: int | None = None,
    ):
        self.predict = predict
        self.epochs = None if epochs is None else check_int("epochs", epochs, min_value=1)
        self.masks = masks
        self.ground_truth = ground_truth
        self.history = MonitorHistory(tuple(class_names))
        self.live = LiveFigure(ncols=3, figsize=(15, 4.2)) if live else None
        self.costs: list[dict] = []

    def __call__(self, epoch: int, model, run) -> None:
        start = time.perf_counter()
        new_losses = list(run.losses[len(self.history.step_losses) :])
        self.history.step_losses.extend(new_losses)
        predictions = self.predict(model)
        predicted = time.perf_counter()
        self.history.epochs.append(evaluate_epoch(epoch, predictions, self.ground_truth, new_losses, masks=self.masks))
        evaluated = time.perf_counter()
        if self.live is not None:
            self.live.update(lambda axes, history: plot_monitor(axes, history, self.epochs), self.history)
        self.costs.append(
            {
                "predict_s": predicted - start,
                "evaluate_s": evaluated - predicted,
                "draw_s": time.perf_counter() - evaluated,
            }
        )

    def show(self) -> None:
        """Draw the history as it is now (a restored one, say: :func:`vislib.training.store.trained`)."""
        if self.live is not None and self.history.epochs:
            self.live.update(plot_monitor, self.history)

    def mean_cost(self) -> dict:
        return {key: float(np.mean([c[key] for c in self.costs])) for key in self.costs[0]} if self.costs else {}
