"""Pictures for Faster R-CNN (notebook 08): anchors, and RPN proposals beside the head's detections.

Every function draws onto the ``Axes`` it is given and computes nothing: the anchors come from
:func:`vislib.models.faster_rcnn.anchor_grid`, the proposals from :func:`vislib.models.faster_rcnn.rpn_proposals`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from vislib._validation import check_int, check_number
from vislib.plotting.region_cnn import _boxes, _image_axes, _outlines, _picture
from vislib.plotting.style import OKABE_ITO, ROLE_COLORS

__all__ = ["plot_anchors", "plot_proposals_and_detections", "RATIO_STYLES"]

RATIO_STYLES = ("-", "--", ":", "-.")


def plot_anchors(ax, image, anchors, centres, sizes, aspect_ratios, *, locations, title: str | None = None) -> None:
    """Anchors over an image: every location's centre, and all ``len(sizes) * len(ratios)`` anchors at a few.

    ``anchors [L * A, 4]`` and ``centres [L, 2]`` as :func:`vislib.models.faster_rcnn.anchor_grid` returns
    them (ratio-major: anchor ``a = r * len(sizes) + s``); ``locations``: indices into the ``L`` locations to
    draw anchors at. Colour: the size; line style: the aspect ratio (height / width).
    """
    picture = _picture(image)
    sizes, aspect_ratios = list(sizes), list(aspect_ratios)
    per_location = len(sizes) * len(aspect_ratios)
    anchors = _boxes("anchors", anchors)
    centres = np.asarray(centres.detach().cpu() if hasattr(centres, "detach") else centres, dtype=float)
    if len(anchors) != len(centres) * per_location:
        raise ValueError(f"anchors has {len(anchors)} rows; {len(centres)} locations x {per_location} anchors expected")
    if len(aspect_ratios) > len(RATIO_STYLES):
        raise ValueError(f"at most {len(RATIO_STYLES)} aspect ratios can be told apart, got {len(aspect_ratios)}")
    anchors = anchors.reshape(len(centres), per_location, 4)
    height, width = picture.shape[:2]
    _image_axes(ax, picture, title)
    ax.plot(
        centres[:, 0], centres[:, 1], ".", color="white", markersize=3, markeredgecolor="black", markeredgewidth=0.3
    )
    for location in locations:
        location = check_int("locations", int(location), min_value=0, max_value=len(centres) - 1)
        for r in range(len(aspect_ratios)):
            for s in range(len(sizes)):
                x1, y1, x2, y2 = anchors[location, r * len(sizes) + s]
                ax.add_patch(
                    Rectangle(
                        (x1, y1),
                        x2 - x1,
                        y2 - y1,
                        fill=False,
                        linewidth=1.6,
                        edgecolor=OKABE_ITO[s % 7],
                        linestyle=RATIO_STYLES[r],
                    )
                )
        ax.plot(*centres[location], "o", color=OKABE_ITO[3], markersize=6)
    margin = max(sizes) / 2
    ax.set(xlim=(-margin, width + margin), ylim=(height + margin, -margin))
    ax.add_patch(Rectangle((0, 0), width, height, fill=False, edgecolor="black", linewidth=1))
    handles = [
        Patch(facecolor="none", edgecolor=OKABE_ITO[s % 7], linewidth=1.6, label=f"size {size:g} px")
        for s, size in enumerate(sizes)
    ]
    handles += [
        Line2D([], [], color="black", linestyle=RATIO_STYLES[r], label=f"h/w = {ratio:g}")
        for r, ratio in enumerate(aspect_ratios)
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)


def plot_proposals_and_detections(
    axes, image, proposals, detections, class_names, *, ground_truth=None, top: int = 20, score_threshold: float = 0.5
) -> None:
    """Faster R-CNN in two pictures: the RPN's ``top`` proposals, then the detector head's detections.

    ``axes``: two Axes. ``proposals``: ``{"boxes": [P, 4], "scores": [P]}`` best first (from
    :func:`vislib.models.faster_rcnn.rpn_proposals`); opacity follows the objectness score.
    ``detections``: ``{"boxes", "scores", "labels"}`` (labels from 1); those scoring ``>= score_threshold``
    are drawn with class and score. ``ground_truth`` (optional ``{"boxes", ...}``): dashed boxes.
    """
    proposal_ax, detection_ax = axes
    picture = _picture(image)
    top = check_int("top", top, min_value=1)
    score_threshold = check_number("score_threshold", score_threshold, min_value=0.0, max_value=1.0)
    boxes = _boxes("proposals['boxes']", proposals["boxes"])[:top]
    scores = np.asarray(proposals["scores"][:top], dtype=float)
    _image_axes(proposal_ax, picture, f"RPN: best {len(boxes)} of {_count(len(proposals['boxes']), 'proposal')}")
    colors = [to_rgba(OKABE_ITO[1], 0.25 + 0.75 * float(score)) for score in scores]
    proposal_ax.add_collection(LineCollection(_outlines(boxes), colors=colors, linewidths=1.5))

    kept = np.asarray(detections["scores"], dtype=float) >= score_threshold
    found = _boxes("detections['boxes']", detections["boxes"])[kept]
    labels = np.asarray(detections["labels"])[kept]
    found_scores = np.asarray(detections["scores"], dtype=float)[kept]
    _image_axes(detection_ax, picture, f"head: {_count(len(found), 'detection')}, score ≥ {score_threshold:g}")
    if ground_truth is not None:
        for x1, y1, x2, y2 in _boxes("ground_truth['boxes']", ground_truth["boxes"]):
            detection_ax.add_patch(
                Rectangle(
                    (x1, y1),
                    x2 - x1,
                    y2 - y1,
                    fill=False,
                    linestyle="--",
                    linewidth=1.5,
                    edgecolor=ROLE_COLORS["ground_truth"],
                )
            )
    for (x1, y1, x2, y2), label, score in zip(found, labels, found_scores):
        color = OKABE_ITO[(int(label) - 1) % 7]
        detection_ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color, linewidth=2))
        detection_ax.text(
            x1,
            y1,
            f"{class_names[int(label) - 1]} {score:.2f}",
            color="white",
            fontsize="small",
            va="bottom",
            bbox=dict(facecolor=color, edgecolor="none", pad=1),
        )


def _count(number: int, noun: str) -> str:
    """``"1 detection"``, ``"3 detections"``."""
    return f"{number} {noun}" + ("" if number == 1 else "s")
