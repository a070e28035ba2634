"""Boxes: area, format conversion, IoU and non-maximum suppression.

Every function mirrors the one of the same name in ``torchvision.ops`` (same
signature, same conventions, same numbers; ``tests/test_boxes.py`` proves it):

* Boxes are ``Tensor[N, 4]`` in ``(x1, y1, x2, y2)`` format ("xyxy"), with
  ``x2 >= x1`` and ``y2 >= y1``; a box is the set of points between its
  corners, so two boxes that only touch have an intersection of area 0.
* Integer boxes work too; as in torchvision, products are computed in a type
  that cannot overflow (``int32``/``int64`` or ``float32``/``float64``) and IoU
  is returned as floating point.

The one addition is input checking: a malformed box (``x2 < x1``), a wrong
shape or a NaN raises ``ValueError``/``TypeError`` naming the argument, where
torchvision would silently compute something.
"""

from __future__ import annotations

import torch
from torch import Tensor

from vislib._validation import check_choice, check_number, check_tensor

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")


# --------------------------------------------------------------------------- checks


def _check_boxes(name: str, boxes, fmt: str = "xyxy") -> Tensor:
    """``boxes`` must be a real ``Tensor[N, 4]`` of finite, well-formed boxes in ``fmt``."""
    check_tensor(name, boxes, shape=("N", 4))
    if boxes.dtype == torch.bool or boxes.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {boxes.dtype}")
    if boxes.is_floating_point() and not torch.isfinite(boxes).all():
        bad = int(torch.nonzero(~torch.isfinite(boxes).all(dim=1))[0])
        raise ValueError(f"{name} must be finite; box {bad} is {_show(boxes[bad])}")
    if fmt == "xyxy":
        broken = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
        rule = "x2 >= x1 and y2 >= y1"
    else:  # xywh and cxcywh: columns 2 and 3 are width and height
        broken = (boxes[:, 2] < 0) | (boxes[:, 3] < 0)
        rule = "w >= 0 and h >= 0"
    if broken.any():
        bad = int(torch.nonzero(broken)[0])
        raise ValueError(f"{name} must satisfy {rule}; box {bad} is {_show(boxes[bad])}")
    return boxes


def _check_scores(name: str, scores, n: int, boxes_name: str = "boxes") -> Tensor:
    check_tensor(name, scores, shape=("N",))
    if scores.shape[0] != n:
        raise ValueError(f"{name} must have one score per box ({n} {boxes_name}), got {scores.shape[0]}")
    if not scores.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {scores.dtype}")
    if torch.isnan(scores).any():
        bad = int(torch.nonzero(torch.isnan(scores))[0])
        raise ValueError(f"{name} must not contain NaN; score {bad} is NaN")
    return scores


def _show(row: Tensor) -> str:
    values = [float(v) for v in row]
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _upcast(t: Tensor) -> Tensor:
    """A type in which ``w * h`` cannot overflow (torchvision's rule)."""
    if t.is_floating_point():
        return t if t.dtype in (torch.float32, torch.float64) else t.float()
    return t if t.dtype in (torch.int32, torch.int64) else t.int()


# --------------------------------------------------------------------------- area and formats


def box_area(boxes: Tensor) -> Tensor:
    """Area of each box.

    Args:
        boxes (Tensor[N, 4]): boxes in ``(x1, y1, x2, y2)`` format.

    Returns:
        Tensor[N]: ``(x2 - x1) * (y2 - y1)`` for each box.
    """
    _check_boxes("boxes", boxes)
    return _area(boxes)


def _area(boxes: Tensor) -> Tensor:
    boxes = _upcast(boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert boxes between the formats ``'xyxy'``, ``'xywh'`` and ``'cxcywh'``.

    * ``'xyxy'``: top-left corner ``(x1, y1)`` and bottom-right corner ``(x2, y2)``.
    * ``'xywh'``: top-left corner ``(x, y)``, width ``w`` and height ``h`` (COCO's ``bbox``).
    * ``'cxcywh'``: centre ``(cx, cy)``, width and height (YOLO, DETR).

    Args:
        boxes (Tensor[N, 4]): boxes in ``in_fmt``.
        in_fmt (str): format of ``boxes``.
        out_fmt (str): wanted format.

    Returns:
        Tensor[N, 4]: the same boxes in ``out_fmt`` (a new tensor, even when the formats agree).
    """
    check_choice("in_fmt", in_fmt, BOX_FORMATS)
    check_choice("out_fmt", out_fmt, BOX_FORMATS)
    _check_boxes("boxes", boxes, in_fmt)
    if in_fmt == out_fmt:
        return boxes.clone()
    # Every conversion goes through xyxy, as in torchvision (so the roundings agree).
    if in_fmt == "xywh":
        x, y, w, h = boxes.unbind(-1)
        boxes = torch.stack((x, y, x + w, y + h), dim=-1)
    elif in_fmt == "cxcywh":
        cx, cy, w, h = boxes.unbind(-1)
        boxes = torch.stack((cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h), dim=-1)
    if out_fmt == "xywh":
        x1, y1, x2, y2 = boxes.unbind(-1)
        boxes = torch.stack((x1, y1, x2 - x1, y2 - y1), dim=-1)
    elif out_fmt == "cxcywh":
        x1, y1, x2, y2 = boxes.unbind(-1)
        boxes = torch.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=-1)
    return boxes


# --------------------------------------------------------------------------- IoU


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Intersection over union (Jaccard index) of every pair of boxes.

    ``IoU(a, b) = area(a ∩ b) / (area(a) + area(b) - area(a ∩ b))``.

    Args:
        boxes1 (Tensor[N, 4]): first set of boxes, ``(x1, y1, x2, y2)``.
        boxes2 (Tensor[M, 4]): second set of boxes, ``(x1, y1, x2, y2)``.

    Returns:
        Tensor[N, M]: ``iou[i, j]`` is the IoU of ``boxes1[i]`` and ``boxes2[j]``.
        Boxes that only touch have IoU 0. Two zero-area boxes have IoU ``0 / 0 =
        nan``, exactly as in torchvision (and NMS never suppresses on a NaN).
    """
    _check_boxes("boxes1", boxes1)
    _check_boxes("boxes2", boxes2)
    return _iou(boxes1, boxes2)


def _iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    area1 = _area(boxes1)  # [N]
    area2 = _area(boxes2)  # [M]
    top_left = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])  # [N, M, 2]
    bottom_right = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])  # [N, M, 2]
    wh = _upcast(bottom_right - top_left).clamp(min=0)  # [N, M, 2]; 0 where they do not overlap
    intersection = wh[..., 0] * wh[..., 1]  # [N, M]
    union = area1[:, None] + area2[None, :] - intersection  # [N, M]
    return intersection / union


# --------------------------------------------------------------------------- NMS


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Non-maximum suppression: keep the best box, drop the boxes that overlap it, repeat.

    Boxes are visited in order of decreasing score; a box is kept unless a box
    kept before it has IoU ``> iou_threshold`` with it (so IoU exactly equal to
    the threshold is kept). Equal scores keep their input order (a stable
    sort), which is what torchvision's CPU kernel does.

    Args:
        boxes (Tensor[N, 4]): boxes in ``(x1, y1, x2, y2)`` format.
        scores (Tensor[N]): a score for each box.
        iou_threshold (float): boxes with IoU ``> iou_threshold`` to a kept box are dropped.

    Returns:
        Tensor[K]: int64 indices of the kept boxes, sorted by decreasing score.
    """
    _check_boxes("boxes", boxes)
    _check_scores("scores", scores, boxes.shape[0])
    iou_threshold = check_number("iou_threshold", iou_threshold)
    return _nms(boxes, scores, iou_threshold)


def _nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    order = torch.sort(scores, descending=True, stable=True).indices  # [N], best first
    iou = _iou(boxes[order], boxes[order])  # [N, N], rows and columns in score order
    suppressed = torch.zeros(len(order), dtype=torch.bool)
    keep = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(i)
        # Every box that overlaps box i too much is out (earlier ones are already decided).
        suppressed |= iou[i] > iou_threshold
    return order[torch.tensor(keep, dtype=torch.long)]


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """NMS within each category: boxes with different ``idxs`` never suppress each other.

    Args:
        boxes (Tensor[N, 4]): boxes in ``(x1, y1, x2, y2)`` format.
        scores (Tensor[N]): a score for each box.
        idxs (Tensor[N]): an integer category (or image) index for each box.
        iou_threshold (float): boxes with IoU ``> iou_threshold`` to a kept box of the same index are dropped.

    Returns:
        Tensor[K]: int64 indices of the kept boxes, sorted by decreasing score
        (equal scores in input order).
    """
    _check_boxes("boxes", boxes)
    _check_scores("scores", scores, boxes.shape[0])
    check_tensor("idxs", idxs, shape=("N",))
    if idxs.shape[0] != boxes.shape[0]:
        raise ValueError(f"idxs must have one index per box ({boxes.shape[0]} boxes), got {idxs.shape[0]}")
    if idxs.is_floating_point() or idxs.dtype == torch.bool or idxs.is_complex():
        raise TypeError(f"idxs must be an integer tensor, got dtype {idxs.dtype}")
    iou_threshold = check_number("iou_threshold", iou_threshold)
    keep = torch.zeros(boxes.shape[0], dtype=torch.bool)
    for category in torch.unique(idxs):
        members = torch.nonzero(idxs == category).flatten()  # [n_c]
        keep[members[_nms(boxes[members], scores[members], iou_threshold)]] = True
    kept = torch.nonzero(keep).flatten()  # ascending index
    return kept[torch.sort(scores[kept], descending=True, stable=True).indices]
