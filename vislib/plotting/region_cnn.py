"""Pictures for R-CNN and Fast R-CNN (notebook 08): proposals, warped regions, timings, proposal recall.

Every function draws onto the ``Axes`` it is given and computes nothing: the proposals come from
:func:`vislib.ops.selective_search.selective_search`, the timings from
:func:`vislib.analysis.region_cnn.time_rcnn_and_fast_rcnn`, the recall from
:func:`vislib.metrics.proposals.recall_at_counts`. Boxes are xyxy pixels; images ``Tensor[3, H, W]`` in [0, 1]
or ``[H, W, 3]`` arrays.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patches import Rectangle

from vislib._validation import check_int, check_number
from vislib.plotting.style import OKABE_ITO

__all__ = ["plot_proposals", "plot_rcnn_timing", "plot_recall_at_counts", "plot_warped_regions"]

"""Line styles of the anchors' aspect ratios (in order)."""


def _picture(image) -> np.ndarray:
    """``[H, W, 3]`` floats for ``imshow``."""
    if hasattr(image, "permute"):
        image = image.detach().cpu()
        if image.ndim != 3 or image.shape[0] != 3:
            raise ValueError(f"image must be [3, H, W], got {list(image.shape)}")
        return image.permute(1, 2, 0).clamp(0, 1).numpy()
    picture = np.asarray(image)
    if picture.ndim != 3 or picture.shape[2] != 3:
        raise ValueError(f"image must be [H, W, 3], got {list(picture.shape)}")
    return picture


def _boxes(name: str, boxes) -> np.ndarray:
    array = np.asarray(boxes.detach().cpu() if hasattr(boxes, "detach") else boxes, dtype=float)
    if array.size == 0:
        return np.zeros((0, 4))
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"{name} must be [K, 4] boxes, got {array.shape}")
    return array


def _outlines(boxes: np.ndarray) -> list[np.ndarray]:
    """Closed rectangles as polylines for a ``LineCollection`` (thousands draw in milliseconds)."""
    return [np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]) for x1, y1, x2, y2 in boxes]


def _image_axes(ax, picture: np.ndarray, title: str | None) -> None:
    height, width = picture.shape[:2]
    ax.imshow(picture, extent=(0, width, height, 0))
    ax.set(xlim=(0, width), ylim=(height, 0), xlabel="x (pixels)", ylabel="y (pixels)")
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize="small")


def plot_proposals(
    ax,
    image,
    boxes,
    *,
    count: int | None = None,
    color: str = OKABE_ITO[1],
    linewidth: float = 0.8,
    alpha: float = 0.6,
    numbered: int = 0,
    title: str | None = None,
) -> None:
    """``image`` with the first ``count`` proposals ``[K, 4]`` (all by default) as thin outlines.

    ``numbered`` (int): also outline the first ``numbered`` proposals thicker, in colour, with their index
    (0, 1, ...) at their top-left corner, to match them with :func:`plot_warped_regions`' thumbnails
    (``count=0, numbered=16`` draws only those).
    """
    picture = _picture(image)
    boxes = _boxes("boxes", boxes)
    numbered = check_int("numbered", numbered, min_value=0)
    alpha = check_number("alpha", alpha, min_value=0.0, max_value=1.0)
    thin = boxes if count is None else boxes[: check_int("count", count, min_value=0)]
    _image_axes(ax, picture, title)
    ax.add_collection(LineCollection(_outlines(thin), colors=color, linewidths=linewidth, alpha=alpha))
    for k, (x1, y1, x2, y2) in enumerate(boxes[:numbered]):
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=OKABE_ITO[k % 7], linewidth=2))
        _number(ax, x1 + 1, y1 + 1, k)


def plot_warped_regions(ax, warped, *, ncols: int = 8, boxes=None, pad: int = 2, title: str | None = None) -> None:
    """Warped regions ``[K, 3, S, S]`` as a grid of thumbnails, ``ncols`` per row, numbered from 0.

    ``boxes`` (optional, ``[K, 4]``): the regions' boxes before warping; each thumbnail is then captioned with
    its original width x height, which shows how much warping stretches it.
    """
    warped = warped.detach().cpu() if hasattr(warped, "detach") else np.asarray(warped)
    if warped.ndim != 4 or warped.shape[1] != 3:
        raise ValueError(f"warped must be [K, 3, S, S], got {list(warped.shape)}")
    ncols = check_int("ncols", ncols, min_value=1)
    pad = check_int("pad", pad, min_value=0)
    count, size = warped.shape[0], warped.shape[-1]
    rows = max(1, math.ceil(count / ncols))
    cell = size + pad
    mosaic = np.ones((rows * cell + pad, ncols * cell + pad, 3))
    thumbnails = np.asarray(warped.permute(0, 2, 3, 1) if hasattr(warped, "permute") else warped.transpose(0, 2, 3, 1))
    for k in range(count):
        row, col = divmod(k, ncols)
        mosaic[pad + row * cell : pad + row * cell + size, pad + col * cell : pad + col * cell + size] = thumbnails[
            k
        ].clip(0, 1)
    ax.imshow(mosaic)
    ax.set_xticks([]), ax.set_yticks([])
    ax.grid(False)
    sizes = _boxes("boxes", boxes) if boxes is not None else None
    for k in range(count):
        row, col = divmod(k, ncols)
        x, y = pad + col * cell, pad + row * cell
        _number(ax, x + 1, y + 1, k)
        if sizes is not None:
            width, height = sizes[k, 2] - sizes[k, 0], sizes[k, 3] - sizes[k, 1]
            ax.text(
                x + size - 1,
                y + size - 1,
                f"{width:.0f}×{height:.0f}",
                color="white",
                fontsize="small",
                ha="right",
                va="bottom",
                bbox=dict(facecolor="black", alpha=0.6, edgecolor="none", pad=1),
            )
    ax.set_title(title or f"{count} regions, each warped to {size} × {size}", fontsize="small")


def plot_rcnn_timing(ax, timing, *, per_region: bool = False) -> None:
    """R-CNN vs Fast R-CNN on the same image, proposals and network: stacked horizontal bars of their stages.

    ``timing``: an :class:`vislib.analysis.region_cnn.RCNNTiming`. Seconds per image, or per region with ``per_region``.
    Selective search (``timing.proposal_seconds``), when measured, is drawn first in both bars: both methods
    need it, and Fast R-CNN does not make it faster.
    """
    scale = 1.0 / timing.num_regions if per_region else 1.0
    unit = 1e3 if per_region else 1.0
    stages = {
        "R-CNN": [
            ("warp every region", timing.warp_seconds, OKABE_ITO[5]),
            ("CNN on every region", timing.rcnn_cnn_seconds, OKABE_ITO[3]),
        ],
        "Fast R-CNN": [
            ("trunk once", timing.trunk_seconds, OKABE_ITO[0]),
            ("RoI pooling", timing.pool_seconds, OKABE_ITO[2]),
            ("head per RoI", timing.head_seconds, OKABE_ITO[4]),
        ],
    }
    has_proposals = not math.isnan(timing.proposal_seconds)
    labels_seen = set()
    for row, parts in enumerate(stages.values()):
        left = 0.0
        if has_proposals:
            parts = [("selective search", timing.proposal_seconds, "0.7")] + parts
        for label, seconds, color in parts:
            width = seconds * scale * unit
            ax.barh(
                row, width, left=left, color=color, edgecolor="white", label=None if label in labels_seen else label
            )
            labels_seen.add(label)
            left += width
        ax.text(left, row, f"  {left:.3g} {'ms' if per_region else 's'}", va="center", fontsize="small")
    ax.set_yticks(range(len(stages)), list(stages))
    ax.invert_yaxis()
    ax.set_xlim(0, ax.get_xlim()[1] * 1.15)
    ax.set_xlabel(f"{'milliseconds per region' if per_region else 'seconds per image'} ({timing.device})")
    if per_region:
        ax.set_title(f"per region: the cost of one of the {timing.num_regions} regions", fontsize="small")
    else:
        ax.set_title(
            f"{timing.num_regions} regions, {timing.image_size[1]} × {timing.image_size[0]} image: "
            f"Fast R-CNN {timing.speedup:.0f}× faster (without selective search)",
            fontsize="small",
        )
    ax.legend(loc="lower right", fontsize="small", ncol=2)


def plot_recall_at_counts(ax, counts, recalls: dict, *, iou_threshold: float = 0.5) -> None:
    """Recall of ground-truth objects against the number of proposals kept, one line per proposal method.

    ``recalls``: name -> recall at each of ``counts`` (from :func:`vislib.metrics.proposals.recall_at_counts`).
    """
    counts = list(counts)
    for k, (name, values) in enumerate(recalls.items()):
        values = np.asarray(values, dtype=float)
        if values.shape != (len(counts),):
            raise ValueError(f"recalls[{name!r}] must hold one value per count ({len(counts)}), got {values.shape}")
        ax.plot(counts, values, "o-", color=OKABE_ITO[k % 7], label=name)
    ax.set_xscale("log")
    ax.set(
        ylim=(0, 1.02),
        xlabel="proposals kept per image",
        ylabel=f"recall (IoU ≥ {iou_threshold:g})",
        title="how many objects the proposals cover",
    )
    ax.legend(loc="lower right", fontsize="small")


def _number(ax, x: float, y: float, k: int) -> None:
    """Region ``k``'s index in a small black label; its outline's colour (``OKABE_ITO[k % 7]``) as the border."""
    ax.text(
        x,
        y,
        str(k),
        color="white",
        fontsize="small",
        va="top",
        bbox=dict(facecolor="black", alpha=0.75, edgecolor=OKABE_ITO[k % 7], linewidth=1.5, pad=1),
    )
