"""Pictures for scoring detection: IoU of two boxes, TP/FP/FN at a threshold, AP three ways, mAP heat maps."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle

from vislib.plotting.style import OKABE_ITO, ROLE_COLORS
from vislib.plotting.view import View, set_box
from vislib.states.scoring import CORRECT_IOU, IoUState, ThresholdState

__all__ = ["IoUView", "plot_ap_heatmap", "plot_ap_methods", "STATUS_COLORS", "ThresholdView"]

STATUS_COLORS = {"TP": ROLE_COLORS["true_positive"], "FP": ROLE_COLORS["false_positive"], "below": "0.6"}


class IoUView(View):
    """Two boxes on a canvas, their intersection filled, and the IoU arithmetic in the title."""

    def __init__(self, canvas: float = 100.0):
        self.canvas = canvas

    def setup(self, ax, state: IoUState):
        ax.set(xlim=(0, self.canvas), ylim=(self.canvas, 0), aspect="equal", xlabel="x (pixels)", ylabel="y (pixels)")
        self.gt = ax.add_patch(
            Rectangle(
                (0, 0),
                1,
                1,
                facecolor=to_rgba(ROLE_COLORS["ground_truth"], 0.25),
                edgecolor=ROLE_COLORS["ground_truth"],
                linewidth=3,
                label="ground truth",
            )
        )
        self.pred = ax.add_patch(
            Rectangle(
                (0, 0),
                1,
                1,
                facecolor=to_rgba(ROLE_COLORS["prediction"], 0.25),
                edgecolor=ROLE_COLORS["prediction"],
                linewidth=3,
                label="prediction",
            )
        )
        self.overlap = ax.add_patch(
            Rectangle(
                (0, 0), 1, 1, facecolor="none", edgecolor="black", hatch="///", linewidth=1.5, label="intersection"
            )
        )
        ax.legend(handles=[self.gt, self.pred, self.overlap], loc="upper right", fontsize="small")
        self.title = ax.set_title(" ")
        self.note = ax.text(
            0.02,
            0.02,
            "",
            transform=ax.transAxes,
            fontsize="small",
            va="bottom",
            bbox=dict(facecolor="white", alpha=0.85, edgecolor="0.7"),
        )
        return [self.gt, self.pred, self.overlap, self.title, self.note]

    def update(self, state: IoUState) -> None:
        set_box(self.gt, state.ground_truth)
        set_box(self.pred, state.prediction)
        self.overlap.set_visible(state.intersection is not None)
        if state.intersection is not None:
            set_box(self.overlap, state.intersection)
        verdict = "correct" if state.correct else "not correct"
        self.title.set_text(f"IoU = {state.iou:.2f}: {verdict} (needs ≥ {CORRECT_IOU})")
        self.title.set_color(ROLE_COLORS["true_positive"] if state.correct else ROLE_COLORS["false_positive"])
        self.note.set_text(
            f"intersection = {state.intersection_area:.0f} px²\nunion = {state.union_area:.0f} px²\n"
            f"IoU = {state.intersection_area:.0f} / {state.union_area:.0f}"
        )


class ThresholdView(View):
    """A few images with the detections coloured TP / FP (or grey below the threshold) and
    missed objects (FN) dashed, next to the PR curve with the current point."""

    MAX_BOXES = 40

    def __init__(self, images: list[np.ndarray]):
        self.images = images

    def setup(self, axes, state: ThresholdState):
        *image_axes, self.curve_ax = np.ravel(axes)
        self.detection_patches, self.missed_patches, self.titles = [], [], []
        for ax, image in zip(image_axes, self.images):
            ax.imshow(image)
            ax.set_xticks([]), ax.set_yticks([])
            self.detection_patches.append(
                [ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, linewidth=2)) for _ in range(self.MAX_BOXES)]
            )
            self.missed_patches.append(
                [
                    ax.add_patch(
                        Rectangle(
                            (0, 0),
                            1,
                            1,
                            fill=False,
                            linewidth=2,
                            linestyle="--",
                            edgecolor=ROLE_COLORS["false_negative"],
                        )
                    )
                    for _ in range(self.MAX_BOXES)
                ]
            )
            self.titles.append(ax.set_title(" ", fontsize="small"))
        handles = [
            Rectangle((0, 0), 1, 1, fill=False, edgecolor=STATUS_COLORS[k], linewidth=2, label=label)
            for k, label in (("TP", "true positive"), ("FP", "false positive"), ("below", "below threshold"))
        ]
        handles.append(
            Rectangle(
                (0, 0),
                1,
                1,
                fill=False,
                edgecolor=ROLE_COLORS["false_negative"],
                linestyle="--",
                linewidth=2,
                label="missed (false negative)",
            )
        )
        image_axes[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.02), ncol=2, fontsize="small")
        (self.curve,) = self.curve_ax.plot([], [], color=OKABE_ITO[0], label="PR curve (all classes pooled)")
        (self.point,) = self.curve_ax.plot([], [], "o", color=OKABE_ITO[3], markersize=12, label="this threshold")
        self.curve_ax.set(
            xlim=(0, 1.02), ylim=(0, 1.02), xlabel="recall = TP / (TP + FN)", ylabel="precision = TP / (TP + FP)"
        )
        self.curve_ax.legend(loc="lower left", fontsize="small")
        self.curve_title = self.curve_ax.set_title(" \n \n ")  # room for the three lines of update()
        return [
            *(p for patches in self.detection_patches + self.missed_patches for p in patches),
            *self.titles,
            self.curve,
            self.point,
            self.curve_title,
        ]

    def update(self, state: ThresholdState) -> None:
        for shown, patches, missed_patches, title in zip(
            state.shown, self.detection_patches, self.missed_patches, self.titles
        ):
            order = np.argsort(shown["scores"])  # draw the most confident last, on top
            for patch, row in zip(patches, order[-self.MAX_BOXES :]):
                status = shown["status"][row]
                set_box(patch, shown["boxes"][row])
                patch.set_edgecolor(STATUS_COLORS[status])
                patch.set_alpha(0.35 if status == "below" else 1.0)
                patch.set_linestyle(":" if status == "below" else "-")
                patch.set_visible(True)
            for patch in patches[len(order) :]:
                patch.set_visible(False)
            for patch, box in zip(missed_patches, shown["missed"]):
                set_box(patch, box)
                patch.set_visible(True)
            for patch in missed_patches[len(shown["missed"]) :]:
                patch.set_visible(False)
            counts = {k: int(np.sum(shown["status"] == k)) for k in ("TP", "FP")}
            title.set_text(f"TP {counts['TP']}, FP {counts['FP']}, FN {len(shown['missed'])}")
        self.curve.set_data(state.curve_recall, state.curve_precision)
        precision = state.precision if not math.isnan(state.precision) else 1.0
        self.point.set_data([state.recall], [precision])
        nothing_kept = math.isnan(state.precision)
        shown_precision = "n/a" if nothing_kept else f"{state.precision:.2f}"
        self.curve_title.set_text(  # three short lines: it fits above the narrow curve panel
            f"threshold {state.score_threshold:.2f}{': nothing kept' if nothing_kept else ''}\n"
            f"precision {shown_precision}, recall {state.recall:.2f}\n"
            f"(TP {state.tp}, FP {state.fp}, FN {state.fn})"
        )


def plot_ap_methods(axes, recall: np.ndarray, precision: np.ndarray, values: dict[str, float]) -> None:
    """The same PR curve summarized three ways: VOC07 11-point, VOC10+ all-point, COCO 101-point."""
    from vislib.metrics.detection import coco_interpolated_precision, precision_envelope

    envelope = precision_envelope(precision).numpy()
    coco = coco_interpolated_precision(recall, precision).numpy()
    grid = np.linspace(0, 1, 101)
    eleven = np.linspace(0, 1, 11)
    eleven_values = [envelope[recall >= r].max() if np.any(recall >= r) else 0.0 for r in eleven]
    for ax, title in zip(axes, ("VOC 2007: 11 points", "VOC 2010+: area under the envelope", "COCO: 101 points")):
        ax.plot(recall, precision, color="0.55", linewidth=1.5, label="PR curve")
        ax.plot(recall, envelope, color=OKABE_ITO[0], label="monotone envelope")
        ax.set(xlim=(0, 1.02), ylim=(0, 1.05), xlabel="recall", title=title)
    axes[0].set_ylabel("precision")
    axes[0].plot(eleven, eleven_values, "o", color=OKABE_ITO[3], label="11 samples")
    axes[0].text(0.05, 0.05, f"AP = mean of 11 = {values['voc07']:.3f}", transform=axes[0].transAxes)
    # Precision e_i holds on the recall interval (r_{i-1}, r_i]: a step function starting at recall 0.
    steps_r = np.concatenate([[0.0], recall])
    steps_p = np.concatenate([envelope, [0.0]])
    axes[1].fill_between(steps_r, steps_p, step="post", alpha=0.25, color=OKABE_ITO[0], label="area")
    axes[1].text(0.05, 0.05, f"AP = area = {values['voc10']:.3f}", transform=axes[1].transAxes)
    axes[2].plot(grid, coco, ".", color=OKABE_ITO[2], markersize=5, label="101 samples")
    axes[2].text(0.05, 0.05, f"AP = mean of 101 = {values['coco']:.3f}", transform=axes[2].transAxes)
    for ax in axes:
        ax.legend(loc="upper right", fontsize="small")


def plot_ap_heatmap(ax, ap: np.ndarray, class_names, iou_thresholds) -> None:
    """Per-class AP (rows) at each IoU threshold (columns), with the values written in the body font size."""
    image = ax.imshow(ap, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(iou_thresholds)), [f"{t:.2f}" for t in iou_thresholds], rotation=45)
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set(xlabel="IoU threshold", title="AP per class and IoU threshold (COCO 101-point)")
    ax.grid(False)
    for (row, column), value in np.ndenumerate(ap):
        ax.text(
            column,
            row,
            "-" if np.isnan(value) else f"{value:.2f}",
            ha="center",
            va="center",
            color="white" if value < 0.6 else "black",
            fontsize="medium",  # readable when the figure is shown smaller
        )
    ax.figure.colorbar(image, ax=ax, label="AP")
