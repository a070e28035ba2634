"""Selective search (Uijlings et al. 2013): R-CNN's region proposals, with OpenCV's implementation
(``cv2.ximgproc``), ranked and reproducible.

Boxes are torchvision's: ``Tensor[K, 4]`` ``(x1, y1, x2, y2)`` in pixels. Images are ``Tensor[3, H, W]`` floats
in ``[0, 1]`` (RGB) or uint8 ``[H, W, 3]`` arrays.
"""

from __future__ import annotations

import ctypes

import numpy as np
import torch
from torch import Tensor

from vislib._validation import (
    check_choice,
    check_int,
    check_number,
    check_rgb_image,
)

__all__ = ["SEARCH_MODES", "selective_search"]

SEARCH_MODES = ("single", "fast", "quality")
"""Selective-search strategies: one colour space and one strategy, the paper's *fast* and *quality* settings."""


def _seed_c_random(seed: int) -> bool:
    """Seed the C library's ``rand()``, which OpenCV's selective search uses to rank regions.

    Returns False where the C library cannot be reached (then the ranking is not reproducible).
    """
    for loader in (lambda: ctypes.CDLL(None), lambda: ctypes.cdll.msvcrt):
        try:
            loader().srand(ctypes.c_uint(seed))
            return True
        except (OSError, AttributeError, TypeError):
            continue
    return False


def selective_search(
    image,
    *,
    mode: str = "fast",
    max_proposals: int | None = 2000,
    min_size: float = 1.0,
    seed: int = 0,
) -> Tensor:
    """Region proposals by selective search (Uijlings et al. 2013), OpenCV's implementation.

    Selective search over-segments the image (Felzenszwalb's graph segmentation),
    then greedily merges the two most similar neighbouring regions (colour, texture,
    size, fill) until one is left; every region ever formed is a proposal. The
    proposals come *ranked* as in the paper: by the merge level at which they
    appeared times a random number, so large merged regions are not all last.
    ``seed`` seeds that random number (the C library's ``rand``), so a call is
    reproducible.

    Args:
        image: ``Tensor[3, H, W]`` in [0, 1] (RGB), or a uint8 ``[H, W, 3]`` RGB array.
        mode (str): ``"single"`` (one strategy: fastest, fewest boxes), ``"fast"`` (R-CNN's setting) or
            ``"quality"`` (more strategies and boxes, slower).
        max_proposals (int or None): keep the first ``max_proposals`` ranked proposals (R-CNN: 2000).
        min_size (float): drop proposals narrower or lower than this, in pixels.
        seed (int): seeds the ranking.

    Returns:
        float32 ``Tensor[K, 4]``: proposals ``(x1, y1, x2, y2)`` in pixels, best ranked first, inside the image.
    """
    image = check_rgb_image("image", image)
    check_choice("mode", mode, SEARCH_MODES)
    if max_proposals is not None:
        max_proposals = check_int("max_proposals", max_proposals, min_value=1)
    min_size = check_number("min_size", min_size, min_value=0.0)
    seed = check_int("seed", seed, min_value=0, max_value=2**31 - 1)
    import cv2

    rgb = (image.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    search = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    search.setBaseImage(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    {
        "single": search.switchToSingleStrategy,
        "fast": search.switchToSelectiveSearchFast,
        "quality": search.switchToSelectiveSearchQuality,
    }[mode]()
    _seed_c_random(seed)
    rects = np.asarray(search.process(), dtype=np.float32).reshape(-1, 4)  # x, y, w, h
    boxes = torch.from_numpy(np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1))
    keep = ((boxes[:, 2] - boxes[:, 0]) >= min_size) & ((boxes[:, 3] - boxes[:, 1]) >= min_size)
    boxes = boxes[keep]
    return boxes[:max_proposals] if max_proposals is not None else boxes
