"""Pictures of detection errors: TIDE's ΔAP bars, COCO's stacked PR areas, the oracle widget's view, and one
detection of each error type on an image.
"""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from vislib.metrics.tide import ANALYZE_CURVES, ERROR_NAMES, ERROR_TYPES
from vislib.plotting.style import OKABE_ITO, ROLE_COLORS
from vislib.plotting.view import View

__all__ = ["ANALYZE_COLORS", "ERROR_COLORS", "OracleView", "plot_analyze", "plot_error_example", "plot_tide_summary"]

ERROR_COLORS = dict(zip(ERROR_TYPES, (OKABE_ITO[3], OKABE_ITO[1], OKABE_ITO[6], OKABE_ITO[4], OKABE_ITO[5], "0.45")))
# CocoEval.m's makeplot colours: C75 and C50 white, then blue, red, green, purple, orange.
ANALYZE_COLORS = (
    "0.92",
    "0.80",
    (0.31, 0.51, 0.74),
    (0.75, 0.31, 0.30),
    (0.36, 0.90, 0.38),
    (0.50, 0.39, 0.64),
    (1, 0.6, 0),
)


def plot_tide_summary(ax, delta_ap: dict, title: str = "", ymax: float = 0.5, label_bars: bool = True):
    """TIDE's summary: ΔAP of each error type's oracle as bars, on a fixed axis so models compare.

    Args:
        ax: matplotlib Axes.
        delta_ap (dict[str, float] or dict[str, dict[str, float]]): type -> ΔAP (0..1), or
            model name -> that, for grouped bars.
        ymax (float): the fixed top of the axis (ΔAP above it is clipped and marked).
    """
    models = delta_ap if isinstance(next(iter(delta_ap.values())), dict) else {"": delta_ap}
    n = len(models)
    width = 0.8 / n
    x = np.arange(len(ERROR_TYPES))
    for m, (name, values) in enumerate(models.items()):
        heights = np.array([values[t] for t in ERROR_TYPES])
        offset = (m - (n - 1) / 2) * width
        bars = ax.bar(
            x + offset,
            np.minimum(heights, ymax),
            width * 0.95,
            color=[ERROR_COLORS[t] for t in ERROR_TYPES],
            alpha=1.0 if m == 0 else 0.55,
            edgecolor="black",
            hatch=None if m == 0 else "//",
            label=name or None,
        )
        if label_bars:
            for bar, h in zip(bars, heights):
                ax.annotate(
                    f"{h:.3f}" + ("↑" if h > ymax else ""),
                    (bar.get_x() + bar.get_width() / 2, min(h, ymax)),
                    ha="center",
                    va="bottom",
                    fontsize="small",
                )
    ax.set_xticks(x, [f"{t}\n{ERROR_NAMES[t].split(' (')[0]}" for t in ERROR_TYPES], fontsize="small")
    ax.set_ylim(0, ymax)
    ax.set_ylabel("ΔAP@0.5 when the oracle fixes it")
    if n > 1:
        ax.legend(fontsize="small")
    ax.set_title(title or "TIDE: AP gained by fixing each error type")


def plot_analyze(ax, analysis, area: str = "all", title: str = ""):
    """COCO's analyze() picture: the seven PR curves averaged over classes, as stacked areas with their AP.

    Each band is the precision one more kind of error costs (C75 at the bottom, FN on top).
    """
    curves = analysis.mean_curves(area)  # [7, R]
    recall = analysis.recall_thresholds
    aps = analysis.ap(area)
    lower = np.zeros_like(recall)
    for i, name in enumerate(ANALYZE_CURVES):
        upper = np.maximum(curves[i], lower)
        ax.fill_between(recall, lower, upper, color=ANALYZE_COLORS[i], step=None, label=f"[{aps[name]:.3f}] {name}")
        ax.plot(recall, upper, color="0.3", linewidth=0.6)
        lower = upper
    ax.set(xlim=(0, 1), ylim=(0, 1.0), xlabel="recall", ylabel="precision")
    ax.legend(loc="lower left", fontsize="small", title="[AP] curve", title_fontsize="small")
    ax.set_title(title or f"COCO analyze(): PR curves, area {area}")


def plot_error_example(ax, image, gt_box, gt_label: str, det_box, det_label: str, error: str, found_box=None):
    """One detection of an error type on an image: the object (green), the detection (coloured by type).

    Boxes are xyxy pixels; ``det_box`` or ``gt_box`` may be None (a missed object, a background detection);
    ``found_box``: a higher-scoring detection that already found the object (for a duplicate), dotted.
    """
    ax.imshow(np.asarray(image))
    ax.set_xticks([]), ax.set_yticks([])
    if found_box is not None:
        x1, y1, x2, y2 = found_box
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor="white", lw=2, linestyle=":"))
    if gt_box is not None:
        x1, y1, x2, y2 = gt_box
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=ROLE_COLORS["ground_truth"], lw=2.5))
        ax.text(x1, y2 + 1, f"truth: {gt_label}", color=ROLE_COLORS["ground_truth"], va="top", fontsize="small")
    if det_box is not None:
        x1, y1, x2, y2 = det_box
        color = ERROR_COLORS.get(error, ROLE_COLORS["true_positive"])
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color, lw=2.5, linestyle="--"))
        ax.text(x1, y1 - 1, f"detected: {det_label}", color=color, va="bottom", fontsize="small")
    ax.set_title(f"{error}: {ERROR_NAMES.get(error, 'correct')}", fontsize="small")


class OracleView(View):
    """The oracle widget: the PR curve before (grey) and with the chosen oracles (coloured), and the AP."""

    def setup(self, ax, state):
        (self.base,) = ax.plot(
            state.recall, state.base_curve, color="0.6", lw=2, label=f"as detected: AP {state.base_ap:.3f}"
        )
        ax.fill_between(state.recall, 0, state.base_curve, color="0.85")
        (self.curve,) = ax.plot([], [], color=OKABE_ITO[0], lw=2.5, label="with the chosen oracles")
        ax.set(xlim=(0, 1.01), ylim=(0, 1.02), xlabel="recall", ylabel="precision (mean over classes)")
        ax.legend(loc="lower left", fontsize="small")
        self.title = ax.set_title(" ")
        self.update(state)
        return [self.curve, self.title]

    def update(self, state):
        self.curve.set_data(state.recall, state.curve)
        fixed = ", ".join(state.fixed) if state.fixed else "nothing"
        self.title.set_text(f"fixed: {fixed}  ->  AP@0.5 {state.ap:.3f} (from {state.base_ap:.3f})")
