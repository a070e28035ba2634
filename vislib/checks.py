"""Checks for the notebooks' exercises.

Each ``check_*`` function calls a student's implementation on many inputs,
compares with an established oracle (``torch.nn``, ``torchvision.ops``,
``pycocotools``) and raises ``AssertionError`` with a message that names the
first failing input and, where it can tell, the likely mistake.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from vislib._checks import check_callable


def _conv_cases():
    for size in (1, 5, 7, 8, 28, 32, 33, 224):
        for kernel in (1, 2, 3, 5, 7):
            for stride in (1, 2, 3, 4):
                for padding in (0, 1, 2, 3):
                    if kernel <= size + 2 * padding and padding <= kernel // 2 + 1:
                        yield size, kernel, stride, padding


def conv_output_size_oracle(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """The output width of ``torch.nn.Conv2d`` on a ``size`` x ``size`` input, measured by running it."""
    conv = torch.nn.Conv2d(1, 1, kernel_size, stride=stride, padding=padding, bias=False)
    with torch.no_grad():
        return conv(torch.zeros(1, 1, size, size)).shape[-1]


def check_conv_output_size(conv_output_size: Callable[..., int]) -> int:
    """Check ``conv_output_size(size, kernel_size, stride, padding)`` against ``nn.Conv2d``.

    Returns the number of cases checked.
    """
    check_callable("conv_output_size", conv_output_size)
    checked = 0
    for size, kernel, stride, padding in _conv_cases():
        expected = conv_output_size_oracle(size, kernel, stride, padding)
        got = conv_output_size(size, kernel, stride, padding)
        call = f"conv_output_size({size}, kernel_size={kernel}, stride={stride}, padding={padding})"
        if isinstance(got, float) and not got.is_integer():
            raise AssertionError(
                f"{call} returned {got}, a fraction: a layer has a whole number of outputs. "
                "Round down with integer division (//)."
            )
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            raise AssertionError(f"{call} must return an int, got {got!r}")
        got = int(got)
        if got != expected:
            exact = (size + 2 * padding - kernel) / stride + 1
            hints = {
                math.floor((size - kernel) / stride) + 1: "Did you forget the padding? It is added on both sides: 2 * padding.",
                math.floor((size + padding - kernel) / stride) + 1: "Padding is added on both sides: use 2 * padding.",
                math.floor((size + 2 * padding - kernel) / stride): "Did you forget the +1 (the first window's position)?",
                math.ceil(exact): "Round down, not up: a window must fit entirely inside the padded input.",
                (size + 2 * padding - kernel + 1): "Did you forget to divide by the stride?",
            }
            hint = hints.get(got, "")
            raise AssertionError(f"{call} returned {got}, but nn.Conv2d gives {expected}. {hint}".strip())
        checked += 1
    return checked


# -- batch normalization -------------------------------------------------------
BATCH_NORM_SHAPES = ((64, 16, 32, 32), (2, 3, 4, 5), (8, 1, 7, 7), (1, 4, 3, 3), (5, 6, 1, 1), (3, 2, 1, 9))


def _normalize_over(x: torch.Tensor, dims: tuple[int, ...], eps: float, unbiased: bool = False) -> torch.Tensor:
    mean = x.mean(dim=dims, keepdim=True)
    variance = x.var(dim=dims, keepdim=True, unbiased=unbiased)
    return (x - mean) / torch.sqrt(variance + eps)


def _diagnose_normalization(x, got, weight, bias, eps) -> str:
    shape = (1, -1, 1, 1)
    candidates = {
        "You normalized each image on its own (over dims 1, 2, 3). Batch norm computes one mean and variance "
        "per filter (channel), over the images and positions: dims (0, 2, 3).": (1, 2, 3),
        "You normalized each image's channel on its own (over dims 2, 3; that is instance norm). Batch norm "
        "also averages over the images in the batch: dims (0, 2, 3).": (2, 3),
        "You normalized over the batch only (dim 0), per position. Batch norm also averages over the spatial "
        "positions: dims (0, 2, 3).": (0,),
        "You normalized over everything at once. Batch norm keeps one mean and variance per channel: reduce "
        "over dims (0, 2, 3), not dim 1.": (0, 1, 2, 3),
    }
    for message, dims in candidates.items():
        expected = _normalize_over(x, dims, eps) * weight.reshape(shape) + bias.reshape(shape)
        if got.shape == expected.shape and torch.allclose(got, expected, atol=1e-4):
            return message
    unbiased = _normalize_over(x, (0, 2, 3), eps, unbiased=True) * weight.reshape(shape) + bias.reshape(shape)
    if got.shape == unbiased.shape and torch.allclose(got, unbiased, atol=1e-5):
        return ("You normalized with the unbiased variance (divide by n - 1). The output uses the biased "
                "variance (divide by n); only the running estimate uses the unbiased one.")
    plain = _normalize_over(x, (0, 2, 3), eps)
    if got.shape == plain.shape and torch.allclose(got, plain, atol=1e-4):
        return "You forgot the learned scale and shift: multiply by weight (gamma) and add bias (beta), per channel."
    return ""


def check_batch_norm(batch_norm: Callable) -> int:
    """Check ``batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)``.

    It must behave like ``torch.nn.BatchNorm2d`` (and ``F.batch_norm``): in
    training mode normalize with the batch statistics and update the running
    statistics in place; in evaluation mode normalize with the running
    statistics. Compared to 1e-5 on several shapes; returns the number of checks.
    """
    check_callable("batch_norm", batch_norm)
    generator = torch.Generator().manual_seed(0)
    checked = 0
    for shape in BATCH_NORM_SHAPES:
        channels = shape[1]
        x = torch.randn(shape, generator=generator) * 3 + 2
        reference = torch.nn.BatchNorm2d(channels, momentum=0.1, eps=1e-5)
        with torch.no_grad():
            reference.weight.copy_(torch.rand(channels, generator=generator) + 0.5)
            reference.bias.copy_(torch.randn(channels, generator=generator))
            reference.running_mean.copy_(torch.randn(channels, generator=generator))
            reference.running_var.copy_(torch.rand(channels, generator=generator) + 0.5)
        running_mean, running_var = reference.running_mean.clone(), reference.running_var.clone()
        weight, bias = reference.weight.detach().clone(), reference.bias.detach().clone()
        where = f"for x of shape {list(shape)}"

        # Evaluation mode first: the running statistics must be used, and left alone.
        reference.eval()
        expected = reference(x).detach()
        got = batch_norm(x, running_mean, running_var, weight, bias, False, 0.1, 1e-5)
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            raise AssertionError(f"batch_norm must return a tensor of shape {list(expected.shape)} {where}, "
                                 f"got {getattr(got, 'shape', type(got).__name__)}")
        if not torch.allclose(got, expected, atol=1e-5, rtol=1e-5):
            batch_stats = _normalize_over(x, (0, 2, 3), 1e-5) * weight.reshape(1, -1, 1, 1) + bias.reshape(1, -1, 1, 1)
            no_affine = (x - running_mean.reshape(1, -1, 1, 1)) / torch.sqrt(running_var.reshape(1, -1, 1, 1) + 1e-5)
            hint = ""
            if torch.allclose(got, batch_stats, atol=1e-4):
                hint = ("In evaluation mode (training=False) normalize with running_mean and running_var, not with "
                        "the batch's statistics.")
            elif torch.allclose(got, no_affine, atol=1e-4):
                hint = "You forgot the learned scale and shift: multiply by weight (gamma) and add bias (beta), per channel."
            raise AssertionError(f"evaluation mode {where}: output differs from nn.BatchNorm2d. {hint}".strip())
        if not (torch.equal(running_mean, reference.running_mean) and torch.equal(running_var, reference.running_var)):
            raise AssertionError("evaluation mode must not change running_mean or running_var")

        # Training mode: batch statistics, and the running statistics updated in place.
        reference.train()
        expected = reference(x).detach()
        got = batch_norm(x, running_mean, running_var, weight, bias, True, 0.1, 1e-5)
        if not torch.allclose(got, expected, atol=1e-5, rtol=1e-5):
            hint = _diagnose_normalization(x, got, weight, bias, 1e-5)
            raise AssertionError(f"training mode {where}: output differs from nn.BatchNorm2d "
                                 f"(largest difference {(got - expected).abs().max():.3g}). {hint}".strip())
        if not torch.allclose(running_mean, reference.running_mean, atol=1e-5, rtol=1e-5):
            raise AssertionError(
                f"training mode {where}: running_mean is {running_mean.tolist()[:3]}..., expected "
                f"{reference.running_mean.tolist()[:3]}.... Update it in place: "
                "running_mean.mul_(1 - momentum).add_(momentum * batch_mean)."
            )
        if not torch.allclose(running_var, reference.running_var, atol=1e-5, rtol=1e-5):
            n = shape[0] * shape[2] * shape[3]
            raise AssertionError(
                f"training mode {where}: running_var differs from nn.BatchNorm2d. It is updated in place with "
                f"the unbiased variance (times n / (n - 1), here n = {n}), with the same momentum as the mean."
            )
        checked += 1
    return checked


def check_fold_batchnorm(fold: Callable) -> int:
    """Check ``fold(conv, bn) -> nn.Conv2d`` whose output equals ``bn(conv(x))`` in evaluation mode."""
    check_callable("fold", fold)
    generator = torch.Generator().manual_seed(1)
    cases = [dict(bias=False), dict(bias=True), dict(bias=True, stride=2, padding=1), dict(bias=False, padding=2)]
    for case in cases:
        torch.manual_seed(len(str(case)))
        conv = torch.nn.Conv2d(3, 8, 3, **case)
        bn = torch.nn.BatchNorm2d(8)
        with torch.no_grad():
            bn.weight.copy_(torch.rand(8, generator=generator) + 0.5)
            bn.bias.copy_(torch.randn(8, generator=generator))
            bn.running_mean.copy_(torch.randn(8, generator=generator))
            bn.running_var.copy_(torch.rand(8, generator=generator) + 0.2)
        conv.eval(), bn.eval()
        x = torch.randn(4, 3, 12, 12, generator=generator)
        expected = bn(conv(x)).detach()
        folded = fold(conv, bn)
        if not isinstance(folded, torch.nn.Conv2d):
            raise AssertionError(f"fold must return an nn.Conv2d, got {type(folded).__name__}")
        with torch.no_grad():
            got = folded(x)
        if got.shape != expected.shape:
            raise AssertionError(f"the folded convolution gives shape {list(got.shape)}, expected "
                                 f"{list(expected.shape)}: keep the stride and padding of conv")
        if not torch.allclose(got, expected, atol=1e-5, rtol=1e-4):
            hint = "Remember conv's own bias: it is scaled too." if case.get("bias") else \
                "scale = weight / sqrt(running_var + eps) multiplies each output filter's weights; " \
                "the new bias is beta - scale * running_mean (+ scale * conv.bias)."
            raise AssertionError(f"bn(conv(x)) and the folded conv differ for conv {case} "
                                 f"(largest difference {(got - expected).abs().max():.3g}). {hint}")
    return len(cases)


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
    cases += [(_random_boxes(generator, n, integer=True), _random_boxes(generator, m)) for n, m in ((3, 5), (7, 1), (20, 30))]
    for boxes1, boxes2 in cases:
        expected = torchvision.ops.box_iou(boxes1, boxes2)
        got = box_iou(boxes1.clone(), boxes2.clone())
        where = f"for boxes1 {boxes1.tolist() if len(boxes1) == 1 else f'[{len(boxes1)}, 4]'} and boxes2 " \
                f"{boxes2.tolist() if len(boxes2) == 1 else f'[{len(boxes2)}, 4]'}"
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(expected.shape):
            raise AssertionError(f"box_iou must return a [N, M] tensor ({list(expected.shape)}) {where}, got "
                                 f"{list(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}. "
                                 "Broadcast boxes1[:, None, :] against boxes2[None, :, :].")
        if not torch.allclose(got.double(), expected.double(), atol=1e-6):
            hint = ""
            if (got < 0).any() or torch.allclose(got.double(), _iou_unclamped(boxes1, boxes2), atol=1e-6):
                hint = ("Boxes that do not overlap must have IoU 0: clamp the overlap's width and height at 0 "
                        "(.clamp(min=0)) before multiplying them (two negative sides make a positive area).")
            else:
                plus_one = _iou_plus_one(boxes1, boxes2)
                if torch.allclose(got.double(), plus_one, atol=1e-6):
                    hint = ("You added 1 to widths and heights (the old PASCAL VOC devkit's integer-pixel "
                            "convention); torchvision's boxes are continuous: width = x2 - x1.")
            raise AssertionError(f"box_iou differs from torchvision.ops.box_iou {where}: got {got.flatten()[:4].tolist()}..., "
                                 f"expected {expected.flatten()[:4].tolist()}.... {hint}".strip())
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


def check_average_precision(average_precision: Callable) -> int:
    """Check ``average_precision(tp_flags, num_ground_truth) -> float``: PASCAL VOC 2010+ all-point AP.

    ``tp_flags`` are 1 (true positive) / 0 (false positive) for detections
    already ranked by decreasing score. The oracle is ``vislib.metrics.voc_ap``
    on ``vislib.metrics.precision_recall_curve`` (both tested against the
    devkit's formula and pycocotools).
    """
    from vislib.metrics.detection import precision_recall_curve, voc_ap

    check_callable("average_precision", average_precision)
    generator = torch.Generator().manual_seed(0)
    cases = [([1, 1, 0, 1, 0, 0, 1], 5), ([1, 0, 0, 0], 1), ([0, 0, 1, 1], 2), ([1, 1, 1], 3), ([0, 1, 0, 1, 1, 0], 4)]
    cases += [((torch.rand(n, generator=generator) < 0.3).int().tolist(), g) for n, g in ((30, 20), (100, 45))]
    for flags, total in cases:
        tp = torch.tensor(flags, dtype=torch.bool)
        precision, recall = precision_recall_curve(tp, total)
        expected = voc_ap(recall, precision)
        got = average_precision(list(flags), total)
        call = f"average_precision({flags if len(flags) <= 10 else f'<{len(flags)} flags>'}, {total})"
        if not isinstance(got, (int, float)) and not (isinstance(got, torch.Tensor) and got.numel() == 1):
            raise AssertionError(f"{call} must return a number, got {type(got).__name__}")
        got = float(got)
        if abs(got - expected) > 1e-6:
            p, r = precision.numpy(), recall.numpy()
            raw_area = float(np.sum(np.diff(np.concatenate([[0.0], r])) * p))
            tp_mean = float(p[tp.numpy()].sum() / total)
            hint = ""
            if abs(got - raw_area) < 1e-6 and abs(raw_area - expected) > 1e-9:
                hint = ("You summed the raw precision: use the monotone envelope (precision at recall r is the best "
                        "precision at any recall >= r) before taking the area.")
            elif abs(got - tp_mean) < 1e-6:
                hint = "Close: that is precision averaged at each TP. VOC 2010+ takes the area under the envelope."
            elif abs(got - float(np.trapezoid(p, r) if hasattr(np, "trapezoid") else 0)) < 1e-6:
                hint = "Trapezoids interpolate between points; AP uses the step function of the envelope."
            raise AssertionError(f"{call} returned {got:.6f}, expected {expected:.6f}. {hint}".strip())
    return len(cases)
