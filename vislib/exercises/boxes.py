"""Checkers for the box exercises (notebook 06): the IoU of two sets of boxes, against torchvision.ops."""

from __future__ import annotations

from collections.abc import Callable

import torch

from vislib._validation import check_callable

__all__ = ["check_box_iou"]


# -- detection scoring ------------------------------------------------------------
def _random_boxes(generator: torch.Generator, count: int, integer: bool = False) -> torch.Tensor:
    corner = torch.rand(count, 2, generator=generator) * 80
    size = torch.rand(count, 2, generator=generator) * 40 + 1
    boxes = torch.cat([corner, corner + size], dim=1)
    return boxes.round() if integer else boxes


def check_box_iou(box_iou: Callable) -> int:
    """Check ``box_iou(boxes1 [N, 4], boxes2 [M, 4]) -> [N, M]`` (xyxy) against ``torchvision.ops.box_iou``."""
    import torchvision

    check_callable("box_iou", box_iou)
    generator = torch.Generator().manual_seed(0)
    cases = [
        (torch.tensor([[0.0, 0, 10, 10]]), torch.tensor([[5.0, 5, 15, 15]])),  # the slide's kind of overlap
        (torch.tensor([[0.0, 0, 10, 10]]), torch.tensor([[10.0, 0, 20, 10]])),  # touching: IoU 0
        (torch.tensor([[0.0, 0, 10, 10]]), torch.tensor([[20.0, 20, 30, 30]])),  # apart: IoU 0
        (torch.tensor([[0.0, 0, 10, 10]]), torch.tensor([[0.0, 0, 10, 10]])),  # identical: IoU 1
    ]
    cases += [
        (_random_boxes(generator, n, integer=True), _random_boxes(generator, m)) for n, m in ((3, 5), (7, 1), (20, 30))
    ]
    for boxes1, boxes2 in cases:
        expected = torchvision.ops.box_iou(boxes1, boxes2)
        got = box_iou(boxes1.clone(), boxes2.clone())
        where = (
            f"for boxes1 {boxes1.tolist() if len(boxes1) == 1 else f'[{len(boxes1)}, 4]'} and boxes2 "
            f"{boxes2.tolist() if len(boxes2) == 1 else f'[{len(boxes2)}, 4]'}"
        )
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(expected.shape):
            raise AssertionError(
                f"box_iou must return a [N, M] tensor ({list(expected.shape)}) {where}, got "
                f"{list(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}. "
                "Broadcast boxes1[:, None, :] against boxes2[None, :, :]."
            )
        if not torch.allclose(got.double(), expected.double(), atol=1e-6):
            hint = ""
            if (got < 0).any() or torch.allclose(got.double(), _iou_unclamped(boxes1, boxes2), atol=1e-6):
                hint = (
                    "Boxes that do not overlap must have IoU 0: clamp the overlap's width and height at 0 "
                    "(.clamp(min=0)) before multiplying them (two negative sides make a positive area)."
                )
            else:
                plus_one = _iou_plus_one(boxes1, boxes2)
                if torch.allclose(got.double(), plus_one, atol=1e-6):
                    hint = (
                        "You added 1 to widths and heights (the old PASCAL VOC devkit's integer-pixel "
                        "convention); torchvision's boxes are continuous: width = x2 - x1."
                    )
            raise AssertionError(
                f"box_iou differs from torchvision.ops.box_iou {where}: got {got.flatten()[:4].tolist()}..., "
                f"expected {expected.flatten()[:4].tolist()}.... {hint}".strip()
            )
    return len(cases)


def _iou_unclamped(boxes1, boxes2):
    b1, b2 = boxes1.double(), boxes2.double()
    area1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
    area2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
    wh = torch.min(b1[:, None, 2:], b2[None, :, 2:]) - torch.max(b1[:, None, :2], b2[None, :, :2])
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area1[:, None] + area2[None, :] - inter)


def _iou_plus_one(boxes1, boxes2):
    b1, b2 = boxes1.double(), boxes2.double()
    area1 = (b1[:, 2] - b1[:, 0] + 1) * (b1[:, 3] - b1[:, 1] + 1)
    area2 = (b2[:, 2] - b2[:, 0] + 1) * (b2[:, 3] - b2[:, 1] + 1)
    wh = (torch.min(b1[:, None, 2:], b2[None, :, 2:]) - torch.max(b1[:, None, :2], b2[None, :, :2]) + 1).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area1[:, None] + area2[None, :] - inter)
