"""YOLOv1 (Redmon et al., "You Only Look Once", arXiv 1506.02640), small enough for a CPU.

YOLO treats detection as one regression. The image is cut into an ``S x S``
grid; the cell that holds an object's *centre* is responsible for it. Every
cell predicts ``B`` boxes, each ``(x, y, w, h, confidence)``, and one set of
``C`` class probabilities shared by its boxes, so the network's output for
one image is a tensor ``[S, S, B * 5 + C]``.

Conventions used throughout this module (the paper's):

* **Per-cell layout**: ``[x, y, w, h, conf] * B`` then ``C`` class values.
  Box ``b`` of a cell lives at ``5 * b : 5 * b + 5``; the class values at
  ``5 * B :``.
* ``(x, y)``: the box centre's offset inside its cell, in cell units, in
  ``[0, 1)``: ``x = cx / cell - col`` with ``cell = image_size / S``.
* ``(w, h)``: the box's width and height as fractions of the image.
* ``conf``: ``P(object) * IoU(predicted box, truth)``; 1 in a target.
* Class values: ``P(class | object)``, one-hot in a target (label ``k``, counted
  from 1 as in :mod:`vislib.data.shapes`, sits at index ``k - 1``).
* Boxes in and out are torchvision's: ``(x1, y1, x2, y2)`` in pixels.

:func:`encode_targets` turns a ground truth into such a tensor,
:func:`decode_predictions` turns one back into boxes (score threshold and
per-class NMS), :class:`YoloLoss` is the paper's sum-squared loss and
:class:`TinyYolo` a small network producing the tensor.

One cell, one object: if two objects' centres fall into the same cell, only
the first (in input order) can be represented; :func:`encode_targets` says how
many were dropped. That is YOLOv1's known weakness with small, crowded objects.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vislib._validation import check_choice, check_int, check_model_input, check_number, check_tensor, check_type
from vislib.ops.boxes import batched_nms

__all__ = [
    "CONFIDENCE_TARGETS",
    "ConvBlock",
    "decode_all_boxes",
    "decode_predictions",
    "DOWNSAMPLING",
    "encode_targets",
    "IMAGE_SIZES",
    "object_cells",
    "TinyYolo",
    "YoloLoss",
]

IMAGE_SIZES = (64, 96, 128)
"""Image sizes :class:`TinyYolo` accepts."""

DOWNSAMPLING = 16
""":class:`TinyYolo`'s backbone halves the resolution four times: a 64 px image becomes a 4 x 4 map."""


# --------------------------------------------------------------------------- checks


def _check_image_size(image_size) -> int:
    return check_int("image_size", image_size, min_value=1)


def _check_grid(image_size: int, grid_size) -> int:
    grid_size = check_int("grid_size", grid_size, min_value=1)
    if image_size % grid_size:
        raise ValueError(
            f"grid_size must divide image_size ({image_size}) so that every cell has a whole number of pixels, "
            f"got {grid_size}"
        )
    return grid_size


def _check_gt_boxes(boxes, image_size: int) -> None:
    """Ground-truth boxes: finite xyxy ``Tensor[N, 4]`` with ``x2 >= x1``, ``y2 >= y1``, inside the image."""
    check_tensor("boxes", boxes, shape=("N", 4))
    if boxes.dtype == torch.bool or boxes.is_complex():
        raise TypeError(f"boxes must hold real numbers, got dtype {boxes.dtype}")
    if not len(boxes):
        return
    if boxes.is_floating_point() and not torch.isfinite(boxes).all():
        bad = int(torch.nonzero(~torch.isfinite(boxes).all(dim=1))[0])
        raise ValueError(f"boxes must be finite; box {bad} is {boxes[bad].tolist()}")
    broken = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
    if broken.any():
        bad = int(torch.nonzero(broken)[0])
        raise ValueError(f"boxes must satisfy x2 >= x1 and y2 >= y1; box {bad} is {boxes[bad].tolist()}")
    outside = (boxes[:, :2] < 0).any(dim=1) | (boxes[:, 2:] > image_size).any(dim=1)
    if outside.any():
        bad = int(torch.nonzero(outside)[0])
        raise ValueError(
            f"boxes must lie inside the {image_size} x {image_size} image (0 <= x, y <= image_size); "
            f"box {bad} is {boxes[bad].tolist()}"
        )


def _check_output(name: str, output, num_boxes: int) -> tuple[int, int]:
    """``output`` must be ``[S, S, B * 5 + C]`` with ``C >= 1``; returns ``(S, C)``."""
    check_tensor(name, output, shape=("S", "S", "B*5+C"), floating=True)
    if output.shape[0] != output.shape[1]:
        raise ValueError(f"{name} must be a square grid [S, S, B*5+C], got {list(output.shape)}")
    num_classes = output.shape[2] - 5 * num_boxes
    if num_classes < 1:
        raise ValueError(
            f"{name} has {output.shape[2]} values per cell, too few for num_boxes={num_boxes} boxes "
            f"(5 each) and at least one class"
        )
    if not torch.isfinite(output).all():
        raise ValueError(f"{name} must be finite; it holds {int((~torch.isfinite(output)).sum())} NaN or inf values")
    return output.shape[0], num_classes


# --------------------------------------------------------------------------- targets


def object_cells(boxes: Tensor, image_size: int, grid_size: int) -> tuple[Tensor, Tensor, Tensor]:
    """The grid cell that owns each box's centre, and which boxes keep their cell.

    Args:
        boxes (Tensor[N, 4]): ``(x1, y1, x2, y2)`` in pixels.
        image_size (int): the image's height and width in pixels.
        grid_size (int): ``S``.

    Returns:
        (rows, cols, kept): int64 Tensor[N] each (``row = floor(cy / cell)``,
        ``col = floor(cx / cell)``, clamped to the grid) and bool Tensor[N]: False
        for an object whose cell was already taken by an earlier object.
    """
    image_size = _check_image_size(image_size)
    grid_size = _check_grid(image_size, grid_size)
    _check_gt_boxes(boxes, image_size)
    cell = image_size / grid_size
    boxes = boxes.double()  # exact enough that floor() agrees with the decoded offsets
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    cols = torch.floor(cx / cell).long().clamp(0, grid_size - 1)
    rows = torch.floor(cy / cell).long().clamp(0, grid_size - 1)
    kept = torch.ones(len(boxes), dtype=torch.bool)
    taken = set()
    for i, (r, c) in enumerate(zip(rows.tolist(), cols.tolist())):
        if (r, c) in taken:
            kept[i] = False  # the first object in input order keeps the cell
        taken.add((r, c))
    return rows, cols, kept


def encode_targets(
    boxes: Tensor, labels: Tensor, image_size: int, grid_size: int, num_boxes: int, num_classes: int
) -> tuple[Tensor, int]:
    """One image's ground truth as YOLO's target tensor.

    The cell that holds an object's centre gets, in every one of its ``B`` box
    slots, ``(x, y)`` = the centre's offset inside the cell (in ``[0, 1)``),
    ``(w, h)`` = the box's size as a fraction of the image and confidence 1;
    its last ``C`` values are the one-hot class. Every other value is 0.

    Args:
        boxes (Tensor[N, 4]): ``(x1, y1, x2, y2)`` in pixels.
        labels (Tensor[N]): int64 classes, ``1 .. num_classes``.
        image_size (int): the (square) image's side in pixels.
        grid_size (int): ``S``; must divide ``image_size``.
        num_boxes (int): ``B``, boxes per cell.
        num_classes (int): ``C``.

    Returns:
        (target, dropped): float32 Tensor[S, S, B * 5 + C], and the number of
        objects left out because an earlier object (in input order) already
        owns their centre's cell.
    """
    image_size = _check_image_size(image_size)
    grid_size = _check_grid(image_size, grid_size)
    num_boxes = check_int("num_boxes", num_boxes, min_value=1)
    num_classes = check_int("num_classes", num_classes, min_value=1)
    _check_gt_boxes(boxes, image_size)
    check_tensor("labels", labels, shape=("N",))
    if len(labels) != len(boxes):
        raise ValueError(f"labels must have one label per box ({len(boxes)} boxes), got {len(labels)}")
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise TypeError(f"labels must be an integer tensor, got dtype {labels.dtype}")
    if len(labels) and (labels.min() < 1 or labels.max() > num_classes):
        raise ValueError(f"labels must lie in 1..{num_classes} (num_classes), got {labels.tolist()}")

    S, B, C = grid_size, num_boxes, num_classes
    cell = image_size / S
    target = torch.zeros(S, S, B * 5 + C)
    dropped = 0
    taken = set()
    # Plain Python floats (float64) per object: short lists, and exact enough for floor() to agree with decoding.
    for (x1, y1, x2, y2), label in zip(boxes.tolist(), labels.tolist()):
        cx, cy = (x1 + x2) / 2 / cell, (y1 + y2) / 2 / cell  # the centre, in cell units
        row = min(max(math.floor(cy), 0), S - 1)
        col = min(max(math.floor(cx), 0), S - 1)
        if (row, col) in taken:  # the first object in input order keeps the cell
            dropped += 1
            continue
        taken.add((row, col))
        x = cx - col  # the centre's offset inside the cell: [0, 1)
        y = cy - row
        w = (x2 - x1) / image_size  # size as a fraction of the image
        h = (y2 - y1) / image_size
        target[row, col, : 5 * B] = torch.tensor([x, y, w, h, 1.0] * B)
        target[row, col, 5 * B + label - 1] = 1.0  # one-hot class
    return target, dropped


# --------------------------------------------------------------------------- decoding


def decode_all_boxes(output: Tensor, image_size: int, num_boxes: int = 2) -> dict:
    """Every box of every cell, with no threshold and no NMS (for drawing all ``S * S * B`` guesses).

    Args:
        output (Tensor[S, S, B * 5 + C]): one image's output, after the model's activations.
        image_size (int): the image's side in pixels.
        num_boxes (int): ``B`` (the number of classes is what is left: ``C = D - 5 * B``).

    Returns:
        dict, one row per (cell, slot) in order row, col, slot (``K = S * S * B``):
        ``boxes`` (Tensor[K, 4], xyxy pixels, clipped to the image), ``objectness``
        (Tensor[K], the predicted confidence), ``class_probs`` (Tensor[K, C], the
        cell's), ``scores`` (Tensor[K], best class probability x objectness),
        ``labels`` (Tensor[K], the best class, from 1), ``cell`` (Tensor[K, 2] of
        (row, col)) and ``slot`` (Tensor[K]).
    """
    num_boxes = check_int("num_boxes", num_boxes, min_value=1)
    S, C = _check_output("output", output, num_boxes)
    image_size = _check_image_size(image_size)
    B = num_boxes
    output = output.detach()
    cell = image_size / S
    slots = output[..., : 5 * B].reshape(S, S, B, 5)  # [S, S, B, 5]
    rows = torch.arange(S, dtype=output.dtype, device=output.device).view(S, 1, 1)
    cols = torch.arange(S, dtype=output.dtype, device=output.device).view(1, S, 1)
    cx = (cols + slots[..., 0]) * cell  # [S, S, B], pixels
    cy = (rows + slots[..., 1]) * cell
    w = slots[..., 2] * image_size
    h = slots[..., 3] * image_size
    boxes = torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=-1).clamp(0, image_size)
    objectness = slots[..., 4]  # [S, S, B]
    class_probs = output[..., 5 * B :].unsqueeze(2).expand(S, S, B, C)  # the cell's classes, for each box
    # Class-specific confidence P(class | object) * P(object), best class per box.
    best_prob, best_class = class_probs.max(dim=-1)  # [S, S, B]
    grid_rows, grid_cols, grid_slots = torch.meshgrid(torch.arange(S), torch.arange(S), torch.arange(B), indexing="ij")
    return {
        "boxes": boxes.reshape(-1, 4),
        "objectness": objectness.reshape(-1),
        "class_probs": class_probs.reshape(-1, C),
        "scores": (best_prob * objectness).reshape(-1),
        "labels": best_class.reshape(-1) + 1,
        "cell": torch.stack((grid_rows, grid_cols), dim=-1).reshape(-1, 2).to(output.device),
        "slot": grid_slots.reshape(-1).to(output.device),
    }


def decode_predictions(
    output: Tensor,
    image_size: int,
    conf_threshold: float = 0.25,
    iou_threshold: float = 0.5,
    apply_nms: bool = True,
    num_boxes: int = 2,
) -> dict:
    """One image's output as detections: score threshold, then per-class NMS.

    Each box's score is the paper's class-specific confidence
    ``P(class | object) * P(object)`` for its cell's most likely class. Boxes
    scoring ``>= conf_threshold`` are kept, then :func:`vislib.ops.batched_nms`
    removes, within each class, boxes overlapping a better one by IoU
    ``> iou_threshold``.

    Args:
        output (Tensor[S, S, B * 5 + C]): after the model's output activations.
        image_size (int): the image's side in pixels.
        conf_threshold (float): minimum score, in [0, 1].
        iou_threshold (float): NMS threshold, in [0, 1].
        apply_nms (bool): False returns every box over the threshold.
        num_boxes (int): ``B`` (``C = D - 5 * B``).

    Returns:
        dict: ``boxes`` (Tensor[K, 4], xyxy pixels), ``scores`` (Tensor[K]),
        ``labels`` (int64 Tensor[K], from 1), ``cell`` (Tensor[K, 2], (row, col))
        and ``slot`` (Tensor[K]); sorted by decreasing score (ties in grid order).
    """
    conf_threshold = check_number("conf_threshold", conf_threshold, min_value=0.0, max_value=1.0)
    iou_threshold = check_number("iou_threshold", iou_threshold, min_value=0.0, max_value=1.0)
    check_type("apply_nms", apply_nms, bool, "True or False")
    every = decode_all_boxes(output, image_size, num_boxes)
    keep = torch.nonzero(every["scores"] >= conf_threshold).flatten()
    if apply_nms and len(keep):
        kept = batched_nms(
            every["boxes"][keep].cpu().float(),
            every["scores"][keep].cpu().float(),
            every["labels"][keep].cpu(),
            iou_threshold,
        )
        keep = keep[kept.to(keep.device)]
    else:
        keep = keep[torch.sort(every["scores"][keep], descending=True, stable=True).indices]
    return {key: every[key][keep] for key in ("boxes", "scores", "labels", "cell", "slot")}


# --------------------------------------------------------------------------- loss


def _cell_iou(a: Tensor, b: Tensor) -> Tensor:
    """IoU of boxes ``a[..., :4]`` and ``b[..., :4]`` given as YOLO ``(x, y, w, h)`` in the same cell.

    ``x, y`` are in cell units and ``w, h`` in image units, so the centres are
    divided by ``S`` first; the cell's own position cancels out (IoU does not
    change when both boxes move together).
    """
    S = a.shape[1]

    def corners(t):
        cx, cy, w, h = t[..., 0] / S, t[..., 1] / S, t[..., 2], t[..., 3]
        return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2

    ax1, ay1, ax2, ay2 = corners(a)
    bx1, by1, bx2, by2 = corners(b)
    inter = (torch.min(ax2, bx2) - torch.max(ax1, bx1)).clamp(min=0) * (
        torch.min(ay2, by2) - torch.max(ay1, by1)
    ).clamp(min=0)
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return inter / union.clamp(min=1e-12)


CONFIDENCE_TARGETS = ("iou", "one")


class YoloLoss(nn.Module):
    """YOLOv1's sum-squared loss (the paper's equation 3), divided by the batch size.

    For every image, in each cell that holds an object, the **responsible**
    box is the predicted box with the highest IoU with the ground truth (ties:
    the first slot). Then:

    * ``coord = lambda_coord * sum over responsible boxes of
      (x - x^)^2 + (y - y^)^2 + (sqrt(w) - sqrt(w^))^2 + (sqrt(h) - sqrt(h^))^2``
      (square roots, so that an error of a few pixels counts more on a small box);
    * ``obj = sum over responsible boxes of (conf - target)^2``, where the target
      is the IoU of that box with the ground truth, detached (the paper's choice,
      ``confidence_target="iou"``) or 1 (``confidence_target="one"``);
    * ``noobj = lambda_noobj * sum over all other boxes of conf^2``: every box of
      an empty cell, and the non-responsible boxes of a cell with an object;
    * ``class = sum over cells with an object of sum_c (p(c) - p^(c))^2``.

    The target's cells with an object are those whose first box has confidence
    1 (see :func:`encode_targets`). A perfect prediction therefore equals the
    target in the responsible slot and has confidence 0 in the other slots.

    Args:
        grid_size, num_boxes, num_classes (int): ``S``, ``B``, ``C``.
        lambda_coord (float): weight of the coordinate errors (paper: 5).
        lambda_noobj (float): weight of the confidence of boxes without an object (paper: 0.5).
        confidence_target (str): ``"iou"`` or ``"one"``.

    ``forward(pred, target)`` with both ``[N, S, S, B * 5 + C]`` returns a dict
    of scalar tensors ``total``, ``coord``, ``obj``, ``noobj``, ``class``.
    """

    def __init__(
        self,
        grid_size: int,
        num_boxes: int,
        num_classes: int,
        lambda_coord: float = 5.0,
        lambda_noobj: float = 0.5,
        confidence_target: str = "iou",
    ):
        super().__init__()
        self.grid_size = check_int("grid_size", grid_size, min_value=1)
        self.num_boxes = check_int("num_boxes", num_boxes, min_value=1)
        self.num_classes = check_int("num_classes", num_classes, min_value=1)
        self.lambda_coord = check_number("lambda_coord", lambda_coord, min_value=0.0)
        self.lambda_noobj = check_number("lambda_noobj", lambda_noobj, min_value=0.0)
        self.confidence_target = check_choice("confidence_target", confidence_target, CONFIDENCE_TARGETS)

    def forward(self, pred: Tensor, target: Tensor) -> dict:
        S, B, C = self.grid_size, self.num_boxes, self.num_classes
        shape = (None, S, S, B * 5 + C)
        check_tensor("pred", pred, shape=shape, floating=True)
        check_tensor("target", target, shape=shape, floating=True)
        if pred.shape != target.shape:
            raise ValueError(
                f"pred and target must have the same shape, got {list(pred.shape)} and {list(target.shape)}"
            )
        n = pred.shape[0]
        pred_boxes = pred[..., : 5 * B].reshape(n, S, S, B, 5)  # [N, S, S, B, 5]
        true_box = target[..., :5]  # [N, S, S, 5]: every slot of a target holds the same box
        has_object = true_box[..., 4] > 0.5  # [N, S, S]

        # The responsible box: the predicted box that overlaps the truth most.
        with torch.no_grad():
            ious = _cell_iou(pred_boxes, true_box.unsqueeze(3).expand_as(pred_boxes))  # [N, S, S, B]
            best = ious.argmax(dim=-1)  # [N, S, S]; argmax returns the first of equal values
        responsible = F.one_hot(best, B).bool() & has_object.unsqueeze(-1)  # [N, S, S, B]

        chosen = pred_boxes[responsible]  # [M, 5]
        truth = true_box.unsqueeze(3).expand_as(pred_boxes)[responsible]  # [M, 5]
        xy_error = ((chosen[:, :2] - truth[:, :2]) ** 2).sum()
        # sqrt has an infinite slope at 0: keep the predicted sizes off 0.
        wh_error = ((chosen[:, 2:4].clamp(min=1e-9).sqrt() - truth[:, 2:4].sqrt()) ** 2).sum()
        coord = self.lambda_coord * (xy_error + wh_error)

        conf_target = ious[responsible].detach() if self.confidence_target == "iou" else torch.ones_like(chosen[:, 4])
        obj = ((chosen[:, 4] - conf_target) ** 2).sum()
        noobj = self.lambda_noobj * (pred_boxes[..., 4][~responsible] ** 2).sum()
        classes = ((pred[..., 5 * B :] - target[..., 5 * B :]) ** 2).sum(dim=-1)  # [N, S, S]
        class_loss = classes[has_object].sum()

        parts = {"coord": coord / n, "obj": obj / n, "noobj": noobj / n, "class": class_loss / n}
        return {"total": sum(parts.values()), **parts}


# --------------------------------------------------------------------------- model


class ConvBlock(nn.Sequential):
    """3x3 convolution (no bias: BN's shift replaces it), batch norm, LeakyReLU(0.1) as in the paper."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        in_channels = check_int("in_channels", in_channels, min_value=1)
        out_channels = check_int("out_channels", out_channels, min_value=1)
        stride = check_int("stride", stride, min_value=1)
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)
        self.act = nn.LeakyReLU(0.1)


class TinyYolo(nn.Module):
    """A small YOLOv1: ``[N, 3, image_size, image_size]`` images -> ``[N, S, S, B * 5 + C]``.

    Backbone: a 3x3 block at full resolution, then four blocks with stride 2
    (channels ``width, 2w, 4w, 8w, 8w``) and one more 3x3 block, so a 64 px
    image becomes a 4 x 4 map whose cells see most of the image. Adaptive
    average pooling brings the map to ``S x S`` (``S`` must divide
    ``image_size / 16``) and a 1x1 convolution predicts each cell's
    ``B * 5 + C`` numbers. (The paper ends with two fully connected layers; a
    1x1 convolution is smaller and the cells' receptive fields already cover
    the image.)

    Output activations, so the output can go straight to :class:`YoloLoss` and
    :func:`decode_predictions`:

    * sigmoid on ``x, y`` (offsets in the cell, in ``(0, 1)``) and on the confidence;
    * sigmoid on ``w, h`` too: fractions of the image, in ``(0, 1)``;
    * softmax over the ``C`` class logits (``P(class | object)``).

    Args:
        image_size (int): 64, 96 or 128.
        grid_size (int): ``S``, a divisor of ``image_size / 16`` (4 for 64 px: 1, 2 or 4).
        num_boxes (int): ``B``.
        num_classes (int): ``C``.
        width (int): channels of the first block.
    """

    def __init__(
        self, image_size: int = 64, grid_size: int = 4, num_boxes: int = 2, num_classes: int = 4, width: int = 16
    ):
        super().__init__()
        self.image_size = check_choice("image_size", image_size, IMAGE_SIZES)
        feature_size = image_size // DOWNSAMPLING
        self.grid_size = check_int("grid_size", grid_size, min_value=1)
        if feature_size % self.grid_size:
            divisors = [d for d in range(1, feature_size + 1) if feature_size % d == 0]
            raise ValueError(
                f"grid_size must divide the {feature_size} x {feature_size} feature map of a {image_size} px image "
                f"(one of {divisors}), got {grid_size}"
            )
        self.num_boxes = check_int("num_boxes", num_boxes, min_value=1, max_value=16)
        self.num_classes = check_int("num_classes", num_classes, min_value=1, max_value=1000)
        width = check_int("width", width, min_value=1, max_value=256)
        w = width
        self.backbone = nn.Sequential(
            ConvBlock(3, w),
            ConvBlock(w, 2 * w, stride=2),
            ConvBlock(2 * w, 4 * w, stride=2),
            ConvBlock(4 * w, 8 * w, stride=2),
            ConvBlock(8 * w, 8 * w, stride=2),
            ConvBlock(8 * w, 8 * w),
        )
        self.pool = nn.AdaptiveAvgPool2d(self.grid_size)
        self.head = nn.Conv2d(8 * w, self.values_per_cell, 1)
        for module in self.modules():
            if isinstance(module, nn.Conv2d) and module is not self.head:
                nn.init.kaiming_normal_(module.weight, a=0.1, nonlinearity="leaky_relu")
        nn.init.normal_(self.head.weight, std=0.01)
        nn.init.zeros_(self.head.bias)

    @property
    def values_per_cell(self) -> int:
        return self.num_boxes * 5 + self.num_classes

    def forward(self, images: Tensor) -> Tensor:
        check_tensor("images", images, shape=("N", 3, self.image_size, self.image_size), floating=True)
        check_model_input("images", images, self, channels=3)
        features = self.pool(self.backbone(images))  # [N, 8w, S, S]
        raw = self.head(features).permute(0, 2, 3, 1)  # [N, S, S, B*5 + C]
        return self.activate(raw)

    def activate(self, raw: Tensor) -> Tensor:
        """The output activations: sigmoid on every box value, softmax over the classes."""
        B = self.num_boxes
        boxes = torch.sigmoid(raw[..., : 5 * B])  # x, y, w, h, conf of every box
        classes = torch.softmax(raw[..., 5 * B :], dim=-1)
        return torch.cat((boxes, classes), dim=-1)
