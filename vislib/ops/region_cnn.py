"""R-CNN's region warping (Girshick et al. 2014, arXiv 1311.2524): each proposal cropped and warped to
the CNN's fixed input size (crop + anti-aliased bilinear resize, equal to torchvision's ``resize``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor

from vislib._validation import (
    check_boxes_in_image,
    check_int,
    check_number,
    check_rgb_image,
    check_tensor,
)

__all__ = ["crop_box", "warp_regions"]


def crop_box(image: Tensor, box: Sequence[float]) -> Tensor:
    """The whole pixels a box touches: ``image[:, floor(y1):ceil(y2), floor(x1):ceil(x2)]``, clipped to the image."""
    check_tensor("image", image, ndim=3)
    if isinstance(box, Tensor):
        box = box.tolist()
    if isinstance(box, (str, bytes)) or not isinstance(box, Sequence) or len(box) != 4:
        raise TypeError(f"box must be 4 numbers (x1, y1, x2, y2), got {box!r}")
    x1, y1, x2, y2 = (check_number(f"box[{i}]", v) for i, v in enumerate(box))
    height, width = image.shape[-2:]
    left, top = max(0, math.floor(x1)), max(0, math.floor(y1))
    right, bottom = min(width, math.ceil(x2)), min(height, math.ceil(y2))
    return image[:, top:bottom, left:right]


def warp_regions(image, boxes: Tensor, size: int = 56) -> Tensor:
    """R-CNN's warping: crop every box and resize it to ``size x size``, whatever its aspect ratio.

    Each crop (:func:`crop_box`) is resized by bilinear interpolation with
    anti-aliasing (``F.interpolate(..., mode="bilinear", align_corners=False,
    antialias=True)``), which is exactly ``torchvision.transforms.functional.resize(crop,
    [size, size])``. The paper warps to 227 x 227 for AlexNet (after adding 16 pixels
    of context around the box); our small network takes 56 x 56.

    Args:
        image: ``Tensor[3, H, W]`` in [0, 1], or a uint8 ``[H, W, 3]`` RGB array.
        boxes: ``Tensor[K, 4]`` xyxy pixels, each overlapping the image, with ``x2 > x1`` and ``y2 > y1``.
        size (int): the side of the warped regions.

    Returns:
        ``Tensor[K, 3, size, size]``.
    """
    image = check_rgb_image("image", image)
    boxes = check_boxes_in_image("boxes", boxes, image)
    size = check_int("size", size, min_value=1, max_value=1024)
    warped = image.new_empty((len(boxes), 3, size, size))
    for k, box in enumerate(boxes.tolist()):
        crop = crop_box(image, box)
        warped[k] = F.interpolate(crop[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True)[
            0
        ]
    return warped
