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

import numpy as np
import torch
from torch import Tensor

from vislib._validation import check_choice, check_number, check_tensor

__all__ = ["batched_nms", "box_area", "box_convert", "BOX_FORMATS", "box_iou", "nms", "NMS_BLOCK", "NMS_CHUNK"]

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")


# --------------------------------------------------------------------------- checks


def _check_boxes(name: str, boxes, fmt: str = "xyxy", batched: bool = False) -> Tensor:
    """``boxes`` must be a real ``Tensor[N, 4]`` (``[..., 4]`` when ``batched``) of finite, well-formed boxes."""
    if batched:
        check_tensor(name, boxes)
        if boxes.ndim < 1 or boxes.shape[-1] != 4:
            raise ValueError(f"{name} must have shape [..., 4] (4 numbers per box), got {list(boxes.shape)}")
        boxes = boxes.reshape(-1, 4)
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
        boxes (Tensor[N, 4] or Tensor[..., 4]): boxes in ``in_fmt`` (leading batch dimensions are
            kept, as in torchvision).
        in_fmt (str): format of ``boxes``.
        out_fmt (str): wanted format.

    Returns:
        Tensor[N, 4]: the same boxes in ``out_fmt`` (a new tensor, even when the formats agree).
    """
    check_choice("in_fmt", in_fmt, BOX_FORMATS)
    check_choice("out_fmt", out_fmt, BOX_FORMATS)
    _check_boxes("boxes", boxes, in_fmt, batched=True)
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


#: Boxes per block in :func:`_nms`: the IoU of a block with the boxes after it is at most
#: ``NMS_BLOCK * N`` values, so memory grows linearly with ``N`` (not with ``N ** 2``).
NMS_BLOCK = 256
#: Later boxes compared with a block's kept boxes at a time (keeps the temporaries in the CPU's cache).
NMS_CHUNK = 2048


def _nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy NMS in blocks of :data:`NMS_BLOCK` boxes (in score order).

    Within a block the greedy loop runs on the block's own IoU matrix; then the
    boxes kept in it suppress every later box at once (one ``[kept, rest]`` IoU
    block). The result is exactly the box-by-box greedy rule, with memory
    ``O(NMS_BLOCK * N)`` instead of an ``[N, N]`` matrix.
    """
    order = torch.sort(scores, descending=True, stable=True).indices  # [N], best first
    boxes = _upcast(boxes[order])
    n = len(order)
    area = _area(boxes)
    columns = (*boxes.T.contiguous(), area)  # x1, y1, x2, y2, area: contiguous [N] each
    alive = torch.ones(n, dtype=torch.bool)  # not suppressed (yet)
    keep = []
    for start in range(0, n, NMS_BLOCK):
        stop = min(start + NMS_BLOCK, n)
        candidates = torch.nonzero(alive[start:stop]).flatten() + start
        if not len(candidates):
            continue
        # The greedy rule inside the block: a box is kept unless a box kept before it overlaps it too much.
        block_iou = _iou_with_area(boxes[candidates], area[candidates], boxes[candidates], area[candidates])
        over = (block_iou > iou_threshold).numpy()  # [b, b] bool
        suppressed = np.zeros(len(candidates), dtype=bool)
        kept_here = []
        for i in range(len(candidates)):
            if not suppressed[i]:
                kept_here.append(i)
                suppressed |= over[i]  # boxes before i are decided already; only later ones matter
        kept = candidates[kept_here]
        keep.append(kept)
        # The block's kept boxes suppress every later box (in column chunks that stay in cache).
        if stop < n:
            rest = torch.nonzero(alive[stop:]).flatten() + stop
            k1, k2, k3, k4, ka = (c[kept, None] for c in columns)  # [kept, 1] each
            for first in range(0, len(rest), NMS_CHUNK):
                chunk = rest[first : first + NMS_CHUNK]
                c1, c2, c3, c4, ca = (c[chunk] for c in columns)  # [chunk] each
                # IoU of every kept box with every box of the chunk, [kept, chunk], in torchvision's arithmetic.
                w = torch.minimum(k3, c3).sub_(torch.maximum(k1, c1)).clamp_(min=0)
                h = torch.minimum(k4, c4).sub_(torch.maximum(k2, c2)).clamp_(min=0)
                intersection = w.mul_(h)
                iou = intersection / (ka + ca).sub_(intersection)
                alive[chunk[(iou > iou_threshold).any(dim=0)]] = False
    if not keep:
        return order[:0]
    return order[torch.cat(keep)]


def _iou_with_area(boxes1: Tensor, area1: Tensor, boxes2: Tensor, area2: Tensor) -> Tensor:
    """:func:`_iou` with the areas given (computed once per NMS call)."""
    top_left = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    intersection = wh[..., 0] * wh[..., 1]
    return intersection / (area1[:, None] + area2[None, :] - intersection)


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
    if boxes.shape[0]:
        # One category at a time (exact: no coordinate offsets that could round an IoU across the threshold).
        categories, inverse = torch.unique(idxs.cpu(), return_inverse=True)
        members_of = torch.argsort(inverse, stable=True).split(torch.bincount(inverse).tolist())
        for members in members_of:
            keep[members[_nms(boxes[members], scores[members], iou_threshold)]] = True
    kept = torch.nonzero(keep).flatten()  # ascending index
    return kept[torch.sort(scores[kept], descending=True, stable=True).indices]
