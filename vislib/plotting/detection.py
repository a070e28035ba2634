"""Drawing detection data: an image with its boxes, labels and instance masks."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle

from vislib.plotting.style import OKABE_ITO

__all__ = ["plot_detection_sample"]


def plot_detection_sample(
    ax, image, target: dict, class_names, *, masks: bool = True, title: str | None = None
) -> None:
    """``image [3, H, W]`` in [0, 1] with each object's box and class (and its mask, tinted)."""
    picture = image.permute(1, 2, 0).cpu().numpy() if hasattr(image, "permute") else np.asarray(image)
    ax.imshow(picture)
    if masks and "masks" in target:
        overlay = np.zeros((*picture.shape[:2], 4))
        for k, mask in enumerate(target["masks"].cpu().numpy().astype(bool)):
            overlay[mask] = to_rgba(OKABE_ITO[k % 7], 0.45)
        ax.imshow(overlay)
    for k, (box, label) in enumerate(zip(target["boxes"].tolist(), target["labels"].tolist())):
        color = OKABE_ITO[k % 7]
        ax.add_patch(
            Rectangle((box[0], box[1]), box[2] - box[0], box[3] - box[1], fill=False, edgecolor=color, linewidth=2)
        )
        ax.text(
            box[0],
            box[1] - 1,
            class_names[label - 1],
            color="white",
            fontsize="small",
            va="bottom",
            bbox=dict(facecolor=color, edgecolor="none", pad=1),
        )
    ax.set_xticks([]), ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize="small")
