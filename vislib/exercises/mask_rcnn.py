"""Checkers of the instance-segmentation notebook's exercises (mask IoU, pasting a mask).

Each ``check_*`` calls a student's function on many inputs, compares it with an
established oracle (``pycocotools.mask.iou``, through its proven twin
:func:`vislib.ops.masks.mask_iou`; torchvision's ``paste_masks_in_image``) and raises ``AssertionError``
naming the first failing input and, where it can tell, the usual mistake.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from vislib._validation import check_callable
from vislib.ops.masks import mask_iou

__all__ = ["check_mask_iou", "check_paste_mask"]


def _coco_mask_iou(masks1: torch.Tensor, masks2: torch.Tensor) -> torch.Tensor:
    """The oracle, ``[N, M]``: :func:`vislib.ops.masks.mask_iou`, which ``tests/test_mask_rcnn_ops.py`` proves equal
    to ``pycocotools.mask.iou`` (no crowds), so that pycocotools stays a test-only dependency."""
    return mask_iou(masks1, masks2)


def _mask_iou_cases():
    generator = torch.Generator().manual_seed(0)
    square = torch.zeros(1, 8, 8, dtype=torch.bool)
    square[0, 2:6, 2:6] = True  # 16 pixels
    shifted = torch.zeros(1, 8, 8, dtype=torch.bool)
    shifted[0, 4:8, 1:7] = True  # 24 pixels, 8 shared: IoU 8 / 32
    yield "a 4x4 square and a 4x6 rectangle sharing 8 pixels", square, shifted
    yield "a mask with itself", square, square.clone()
    yield "an empty mask and a square", torch.zeros(1, 8, 8, dtype=torch.bool), square
    yield "two empty masks", torch.zeros(1, 8, 8, dtype=torch.bool), torch.zeros(1, 8, 8, dtype=torch.bool)
    for n, m, height, width in ((3, 5, 20, 30), (6, 2, 32, 32), (1, 4, 17, 9)):
        yield (
            f"random masks [{n}, {height}, {width}] and [{m}, {height}, {width}]",
            torch.rand(n, height, width, generator=generator) > torch.rand(n, 1, 1, generator=generator),
            torch.rand(m, height, width, generator=generator) > torch.rand(m, 1, 1, generator=generator),
        )


def check_mask_iou(student_mask_iou: Callable) -> int:
    """Check ``mask_iou(masks1 [N, H, W], masks2 [M, H, W]) -> [N, M]`` (bool masks) against ``pycocotools``.

    Returns the number of cases checked.
    """
    check_callable("mask_iou", student_mask_iou)
    cases = list(_mask_iou_cases())
    for what, masks1, masks2 in cases:
        expected = _coco_mask_iou(masks1, masks2)
        got = student_mask_iou(masks1.clone(), masks2.clone())
        where = f"for {what}"
        if not isinstance(got, torch.Tensor):
            raise AssertionError(f"mask_iou must return a torch.Tensor [N, M] {where}, got {type(got).__name__}")
        if tuple(got.shape) != tuple(expected.shape):
            hint = (
                "You returned [M, N]: rows must follow masks1, columns masks2."
                if tuple(got.shape) == tuple(expected.shape[::-1]) and expected.shape[0] != expected.shape[1]
                else "Compare every mask of masks1 with every mask of masks2: flatten them to [N, H*W] and "
                "[M, H*W]; the intersections are then one matrix product."
            )
            raise AssertionError(
                f"mask_iou must return [N, M] = {list(expected.shape)} {where}, got {list(got.shape)}. {hint}"
            )
        got = got.double()
        if torch.isnan(got).any():
            raise AssertionError(
                f"mask_iou returned NaN {where}: two empty masks have union 0; pycocotools "
                "(and COCO's evaluation) give them IoU 0."
            )
        if not torch.allclose(got, expected, atol=1e-6):
            raise AssertionError(
                f"mask_iou differs from pycocotools.mask.iou {where}: got "
                f"{got.flatten()[:4].tolist()}..., expected {expected.flatten()[:4].tolist()}.... "
                f"{_mask_iou_hint(got, masks1, masks2)}".strip()
            )
    return len(cases)


def _mask_iou_hint(got, masks1, masks2) -> str:
    a = masks1.flatten(1).double()
    b = masks2.flatten(1).double()
    intersection = a @ b.T
    area1, area2 = a.sum(1)[:, None], b.sum(1)[None, :]

    def safe(numerator, denominator):
        return torch.where(denominator > 0, numerator / denominator.clamp(min=1e-12), torch.zeros_like(numerator))

    mistakes = [
        (
            safe(intersection, area1 + area2),
            "The union is |A| + |B| - |A and B|: you forgot to subtract the "
            "intersection, which |A| + |B| counts twice.",
        ),
        (safe(2 * intersection, area1 + area2), "That is the Dice coefficient 2|A and B| / (|A| + |B|), not the IoU."),
        (
            safe(intersection, area1.expand_as(intersection)),
            "You divided by the area of masks1 only; IoU divides by the union of both masks.",
        ),
        (
            safe(intersection, area2.expand_as(intersection)),
            "You divided by the area of masks2 only; IoU divides by the union of both masks.",
        ),
        (
            safe(intersection, torch.full_like(intersection, a.shape[1])),
            "You divided by the number of pixels of the image; IoU divides by the union.",
        ),
    ]
    for wrong, hint in mistakes:
        if torch.allclose(got, wrong, atol=1e-6):
            return hint
    return (
        "Count, for each pair, the pixels in both masks (intersection) and in either (union); "
        "IoU = intersection / union."
    )


def _torchvision_paste(mask: torch.Tensor, box, image_size) -> torch.Tensor:
    from torchvision.models.detection.roi_heads import paste_masks_in_image

    return paste_masks_in_image(mask[None, None], torch.tensor([box], dtype=torch.float32), image_size)[0, 0]


def _paste_variant(mask, box, image_size, *, padding=1, to_int=int, plus_one=1, align_corners=False):
    """torchvision's paste with one step changed, to recognise a mistake."""
    height, width = image_size
    size = mask.shape[-1]
    scale = (size + 2 * padding) / size
    mask = F.pad(mask, (padding,) * 4)
    x1, y1, x2, y2 = box
    cx, cy, half_w, half_h = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2 * scale, (y2 - y1) / 2 * scale
    x1, y1, x2, y2 = (to_int(v) for v in (cx - half_w, cy - half_h, cx + half_w, cy + half_h))
    w, h = max(x2 - x1 + plus_one, 1), max(y2 - y1 + plus_one, 1)
    resized = F.interpolate(mask[None, None], size=(h, w), mode="bilinear", align_corners=align_corners)[0, 0]
    out = torch.zeros(height, width)
    left, right, top, bottom = max(x1, 0), min(x1 + w, width), max(y1, 0), min(y1 + h, height)
    if right > left and bottom > top:
        out[top:bottom, left:right] = resized[top - y1 : bottom - y1, left - x1 : right - x1]
    return out


def _paste_cases():
    generator = torch.Generator().manual_seed(1)
    ramp = torch.linspace(0, 1, 28)[None, :].expand(28, 28).contiguous()
    yield "a 28x28 ramp in the box (10, 20, 50, 44) of a 64x80 image", ramp, (10.0, 20.0, 50.0, 44.0), (64, 80)
    yield "a 28x28 mask of ones in (4.6, 7.3, 30.2, 21.9)", torch.ones(28, 28), (4.6, 7.3, 30.2, 21.9), (40, 40)
    yield (
        "a box crossing the top-left corner",
        torch.rand(28, 28, generator=generator),
        (-6.0, -3.5, 20.0, 18.0),
        (32, 48),
    )
    yield (
        "a box crossing the bottom-right corner",
        torch.rand(28, 28, generator=generator),
        (40.0, 30.0, 75.0, 70.0),
        (64, 64),
    )
    for k in range(6):
        x1, y1 = (torch.rand(2, generator=generator) * 90).tolist()
        w, h = (torch.rand(2, generator=generator) * 50 + 2).tolist()
        size = 14 if k % 2 else 28
        yield (
            f"a random {size}x{size} mask in ({x1:.1f}, {y1:.1f}, {x1 + w:.1f}, {y1 + h:.1f})",
            torch.rand(size, size, generator=generator),
            (x1, y1, x1 + w, y1 + h),
            (100, 120),
        )


def check_paste_mask(paste_mask: Callable) -> int:
    """Check ``paste_mask(mask [M, M], box (x1, y1, x2, y2), image_size (H, W)) -> [H, W]`` against
    torchvision's ``paste_masks_in_image`` (padding 1). Returns the number of cases checked."""
    check_callable("paste_mask", paste_mask)
    cases = list(_paste_cases())
    for what, mask, box, image_size in cases:
        expected = _torchvision_paste(mask, box, image_size)
        got = paste_mask(mask.clone(), box, image_size)
        where = f"for {what}"
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(image_size):
            shape = list(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            raise AssertionError(f"paste_mask must return an [H, W] = {list(image_size)} tensor {where}, got {shape}")
        got = got.float()
        if torch.allclose(got, expected, atol=1e-5):
            continue
        mistakes = [
            (
                dict(padding=0),
                "Pad the mask with one zero on every side (F.pad(mask, (1, 1, 1, 1))) and grow the box "
                "by (M + 2) / M about its centre first, so the mask's border fades out.",
            ),
            (
                dict(to_int=round),
                "Round the grown box towards zero, as int() does (torchvision's .to(torch.int64)), "
                "not to the nearest integer.",
            ),
            (
                dict(to_int=lambda v: int(np.floor(v))),
                "Round the grown box towards zero, as int() does (torchvision's .to(torch.int64)), not down (floor).",
            ),
            (dict(plus_one=0), "The rounded box covers pixels x1..x2 inclusive: its width is x2 - x1 + 1."),
            (dict(align_corners=True), "Resize with F.interpolate(..., mode='bilinear', align_corners=False)."),
        ]
        hint = next(
            (
                text
                for change, text in mistakes
                if torch.allclose(got, _paste_variant(mask, box, image_size, **change), atol=1e-5)
            ),
            "Follow the four steps: pad and grow, round towards zero, resize bilinearly, place clipped.",
        )
        difference = (got - expected).abs()
        row, col = divmod(int(difference.argmax()), image_size[1])
        raise AssertionError(
            f"paste_mask differs from torchvision's paste_masks_in_image {where}: at pixel "
            f"(row {row}, column {col}) got {got[row, col]:.4f}, expected "
            f"{expected[row, col]:.4f}. {hint}"
        )
    return len(cases)
