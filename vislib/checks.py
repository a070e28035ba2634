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
                math.floor((size - kernel) / stride)
                + 1: "Did you forget the padding? It is added on both sides: 2 * padding.",
                math.floor((size + padding - kernel) / stride) + 1: "Padding is added on both sides: use 2 * padding.",
                math.floor(
                    (size + 2 * padding - kernel) / stride
                ): "Did you forget the +1 (the first window's position)?",
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
        return (
            "You normalized with the unbiased variance (divide by n - 1). The output uses the biased "
            "variance (divide by n); only the running estimate uses the unbiased one."
        )
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
            raise AssertionError(
                f"batch_norm must return a tensor of shape {list(expected.shape)} {where}, "
                f"got {getattr(got, 'shape', type(got).__name__)}"
            )
        if not torch.allclose(got, expected, atol=1e-5, rtol=1e-5):
            batch_stats = _normalize_over(x, (0, 2, 3), 1e-5) * weight.reshape(1, -1, 1, 1) + bias.reshape(1, -1, 1, 1)
            no_affine = (x - running_mean.reshape(1, -1, 1, 1)) / torch.sqrt(running_var.reshape(1, -1, 1, 1) + 1e-5)
            hint = ""
            if torch.allclose(got, batch_stats, atol=1e-4):
                hint = (
                    "In evaluation mode (training=False) normalize with running_mean and running_var, not with "
                    "the batch's statistics."
                )
            elif torch.allclose(got, no_affine, atol=1e-4):
                hint = (
                    "You forgot the learned scale and shift: multiply by weight (gamma) and add bias (beta), "
                    "per channel."
                )
            raise AssertionError(f"evaluation mode {where}: output differs from nn.BatchNorm2d. {hint}".strip())
        if not (torch.equal(running_mean, reference.running_mean) and torch.equal(running_var, reference.running_var)):
            raise AssertionError("evaluation mode must not change running_mean or running_var")

        # Training mode: batch statistics, and the running statistics updated in place.
        reference.train()
        expected = reference(x).detach()
        got = batch_norm(x, running_mean, running_var, weight, bias, True, 0.1, 1e-5)
        if not torch.allclose(got, expected, atol=1e-5, rtol=1e-5):
            hint = _diagnose_normalization(x, got, weight, bias, 1e-5)
            raise AssertionError(
                f"training mode {where}: output differs from nn.BatchNorm2d "
                f"(largest difference {(got - expected).abs().max():.3g}). {hint}".strip()
            )
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
            raise AssertionError(
                f"the folded convolution gives shape {list(got.shape)}, expected "
                f"{list(expected.shape)}: keep the stride and padding of conv"
            )
        if not torch.allclose(got, expected, atol=1e-5, rtol=1e-4):
            hint = (
                "Remember conv's own bias: it is scaled too."
                if case.get("bias")
                else "scale = weight / sqrt(running_var + eps) multiplies each output filter's weights; "
                "the new bias is beta - scale * running_mean (+ scale * conv.bias)."
            )
            raise AssertionError(
                f"bn(conv(x)) and the folded conv differ for conv {case} "
                f"(largest difference {(got - expected).abs().max():.3g}). {hint}"
            )
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
                hint = (
                    "You summed the raw precision: use the monotone envelope (precision at recall r is the best "
                    "precision at any recall >= r) before taking the area."
                )
            elif abs(got - tp_mean) < 1e-6:
                hint = "Close: that is precision averaged at each TP. VOC 2010+ takes the area under the envelope."
            elif abs(got - float(np.trapezoid(p, r) if hasattr(np, "trapezoid") else 0)) < 1e-6:
                hint = "Trapezoids interpolate between points; AP uses the step function of the envelope."
            raise AssertionError(f"{call} returned {got:.6f}, expected {expected:.6f}. {hint}".strip())
    return len(cases)


# -- semantic segmentation (notebook 04) ----------------------------------------------
def _segmentation_cases():
    """(name, pred, target, num_classes): label maps with noise, a class never present, a perfect one."""
    generator = torch.Generator().manual_seed(4)
    cases = []
    target = torch.randint(0, 4, (3, 12, 12), generator=generator)
    noisy = torch.where(
        torch.rand(target.shape, generator=generator) < 0.3,
        torch.randint(0, 4, target.shape, generator=generator),
        target,
    )
    cases.append(("4 classes, 30% of the pixels relabelled at random", noisy, target, 4))
    # Class 4 appears neither in the targets nor in the predictions: it has no union.
    cases.append(("5 classes, class 4 absent from both maps", noisy, target, 5))
    # Class 2 is never predicted (IoU 0 but counted), class 3 never true but predicted (IoU 0, counted).
    shifted = target.clone()
    shifted[shifted == 2] = 1
    shifted[0, :2] = 3
    target_no3 = torch.where(target == 3, torch.zeros_like(target), target)
    cases.append(("a class never predicted and a class only predicted", shifted, target_no3, 4))
    cases.append(("a perfect prediction", target, target, 4))
    blobs = torch.zeros(40, 40, dtype=torch.long)
    blobs[5:25, 5:25], blobs[20:35, 22:38] = 1, 2
    grown = torch.zeros_like(blobs)
    grown[3:27, 3:27], grown[20:35, 20:38] = 1, 2
    cases.append(("a background-dominated map with blobby predictions", grown, blobs, 3))
    return cases


def check_miou_from_confusion(miou_from_confusion: Callable) -> int:
    """Check ``miou_from_confusion(confusion) -> float``: the mean IoU of a ``[K, K]`` confusion matrix
    (rows = truth, columns = prediction). Oracles: ``vislib.metrics.segmentation.mean_iou`` and
    ``sklearn.metrics.jaccard_score(average="macro")`` over the classes that occur. Returns the number of cases.
    """
    from sklearn.metrics import jaccard_score

    from vislib.metrics.segmentation import confusion_matrix, mean_iou

    check_callable("miou_from_confusion", miou_from_confusion)
    checked = 0
    for name, pred, target, num_classes in _segmentation_cases():
        confusion = confusion_matrix(pred, target, num_classes)
        expected = mean_iou(confusion)
        present = sorted(set(pred.flatten().tolist()) | set(target.flatten().tolist()))
        sklearn_value = jaccard_score(
            target.flatten().numpy(), pred.flatten().numpy(), labels=present, average="macro", zero_division=0
        )
        assert abs(expected - sklearn_value) < 1e-9, "internal: the two oracles disagree"
        given = confusion.clone()
        got = miou_from_confusion(given)
        if not torch.equal(given, confusion):
            raise AssertionError("miou_from_confusion changed the confusion matrix it was given; compute on a copy")
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        elif isinstance(got, np.ndarray) and got.size == 1:
            got = float(got)
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            raise AssertionError(f"miou_from_confusion must return one number (a float), got {type(got).__name__}")
        got = float(got)
        if math.isclose(got, expected, rel_tol=0, abs_tol=1e-6):
            checked += 1
            continue
        c = confusion.to(torch.float64)
        tp, rows, cols = c.diagonal(), c.sum(dim=1), c.sum(dim=0)
        hints = []
        if math.isnan(got):
            hints.append(
                "A class absent from both maps has TP + FP + FN = 0, so its IoU is 0 / 0 = NaN: leave "
                "such classes out of the mean (torch.nanmean, or keep only the classes whose union > 0)."
            )
        else:
            union = rows + cols - tp
            candidates = {
                "You counted a class that appears in neither map as IoU 0. It has no union (0 / 0): leave it out "
                "of the mean, as mean_iou and PASCAL VOC do.": float((tp / union.clamp(min=1)).mean()),
                "That is the mean precision TP / (TP + FP) (divided by the column sums). IoU divides by the union "
                "TP + FP + FN.": float(torch.nanmean(tp / cols)),
                "That is the mean class accuracy (recall) TP / (TP + FN) (divided by the row sums). IoU divides "
                "by the union TP + FP + FN.": float(torch.nanmean(tp / rows)),
                "That is the pixel accuracy (trace / total), not the mean over classes of the IoU.": float(
                    c.trace() / c.sum()
                ),
                "The union counts the intersection once: TP + FP + FN = row sum + column sum - TP. You added the "
                "row and column sums without subtracting TP.": float(torch.nanmean(tp / (rows + cols))),
                "That is the Dice / F1 score 2 TP / (2 TP + FP + FN), not the IoU TP / (TP + FP + FN).": float(
                    torch.nanmean(2 * tp / (rows + cols))
                ),
                "You averaged over the pixels (a weighted mean): mIoU gives every class the same weight.": float(
                    (tp / union.clamp(min=1) * rows).sum() / rows.sum()
                ),
            }
            hints += [
                message for message, value in candidates.items() if math.isfinite(value) and abs(value - got) < 1e-6
            ]
        raise AssertionError(
            f"for {name}: miou_from_confusion returned {got:.6f}, but vislib's mean_iou and "
            f"sklearn's jaccard_score give {expected:.6f}. {' '.join(hints[:1])}".strip()
        )
    return checked


def transposed_conv_output_size_oracle(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, output_padding: int = 0
) -> int:
    """The output width of ``torch.nn.ConvTranspose2d`` on a ``size`` x ``size`` input, measured by running it."""
    layer = torch.nn.ConvTranspose2d(
        1, 1, kernel_size, stride=stride, padding=padding, output_padding=output_padding, bias=False
    )
    with torch.no_grad():
        return layer(torch.zeros(1, 1, size, size)).shape[-1]


def _transposed_cases():
    for size in (1, 2, 4, 7, 8, 16, 33):
        for kernel in (1, 2, 3, 4, 5):
            for stride in (1, 2, 3):
                for padding in (0, 1, 2):
                    for output_padding in range(stride):  # PyTorch requires output_padding < stride
                        if (size - 1) * stride - 2 * padding + kernel + output_padding >= 1:
                            yield size, kernel, stride, padding, output_padding


def check_transposed_conv_output_size(transposed_output_size: Callable[..., int]) -> int:
    """Check ``transposed_output_size(size, kernel_size, stride, padding, output_padding)`` against
    ``nn.ConvTranspose2d`` on many settings. Returns the number of cases checked."""
    check_callable("transposed_output_size", transposed_output_size)
    checked = 0
    # First two telling cases (every classic mistake gives a different number there), then a sweep.
    cases = [(8, 4, 3, 2, 2), (8, 2, 2, 0, 0), *_transposed_cases()]
    for size, kernel, stride, padding, output_padding in cases:
        expected = transposed_conv_output_size_oracle(size, kernel, stride, padding, output_padding)
        call = (
            f"transposed_output_size({size}, kernel_size={kernel}, stride={stride}, padding={padding}, "
            f"output_padding={output_padding})"
        )
        got = transposed_output_size(size, kernel, stride, padding, output_padding)
        if isinstance(got, bool) or not isinstance(got, (int, float, np.integer)):
            raise AssertionError(f"{call} must return an int, got {got!r}")
        if isinstance(got, float) and not got.is_integer():
            raise AssertionError(
                f"{call} returned {got}, a fraction: a transposed convolution has no division in its formula."
            )
        got = int(got)
        if got == expected:
            checked += 1
            continue
        hints = {
            (size + 2 * padding - kernel) // stride
            + 1: "That is the formula of an ordinary convolution. A transposed convolution runs it backwards: "
            "(size - 1) * stride - 2 * padding + kernel_size + output_padding.",
            expected - output_padding: "You forgot output_padding: it adds that many rows / columns at one side "
            "(it resolves the ambiguity of stride > 1: several input sizes give the same convolution output size).",
            size * stride
            - 2 * padding
            + kernel
            + output_padding: "Use (size - 1) * stride: the first input position puts its kernel at offset 0, "
            "each of the other size - 1 positions moves it by stride.",
            (size - 1) * stride
            + 2 * padding
            + kernel
            + output_padding: "Padding is *removed* from a transposed convolution's output "
            "(it undoes the padding of the convolution it mirrors): subtract 2 * padding.",
            (size - 1) * stride
            - padding
            + kernel
            + output_padding: "padding is removed on both sides: subtract 2 * padding.",
            (size - 1) * stride
            - 2 * padding
            + kernel
            + output_padding
            + 1: "No + 1 here: (size - 1) * stride + kernel_size already counts the last kernel's full width.",
            size * stride + output_padding: "size * stride is only right for kernel_size == stride and padding 0; "
            "use the general formula (size - 1) * stride - 2 * padding + kernel_size + output_padding.",
        }
        hint = hints.get(got, "")
        raise AssertionError(f"{call} returned {got}, but nn.ConvTranspose2d gives {expected}. {hint}".strip())
    return checked


# -- YOLO ------------------------------------------------------------------------------
def _yolo_cases():
    from vislib.data.shapes import ShapesDataset

    dataset = ShapesDataset(12, image_size=64, seed=11)
    cases = [(torch.tensor([[20.0, 36.0, 40.0, 52.0]]), torch.tensor([3]), 64, 4, 2, 4)]  # one hand-made box
    cases += [(t["boxes"], t["labels"], 64, 4, 2, 4) for _, t in (dataset[i] for i in range(len(dataset)))]
    cases += [
        (t["boxes"] * 7, t["labels"], 448, 7, 2, 20) for _, t in (dataset[i] for i in range(4))
    ]  # the paper's sizes
    return cases


def check_encode_targets(encode: Callable) -> int:
    """Check ``encode(boxes, labels, image_size, S, B, C) -> Tensor[S, S, B*5 + C]`` against vislib's encoder."""
    from vislib.models.yolo import encode_targets

    check_callable("encode", encode)
    cases = _yolo_cases()
    for boxes, labels, size, S, B, C in cases:
        expected, _ = encode_targets(boxes, labels, size, S, B, C)
        got = encode(boxes.clone(), labels.clone(), size, S, B, C)
        call = f"encode(<{len(boxes)} boxes>, image_size={size}, S={S}, B={B}, C={C})"
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(expected.shape):
            raise AssertionError(
                f"{call} must return a tensor of shape {list(expected.shape)}, got "
                f"{list(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}"
            )
        if torch.allclose(got.float(), expected, atol=1e-5):
            continue
        filled_expected = expected[..., 4] > 0
        filled_got = got[..., 4] > 0
        if not torch.equal(filled_got, filled_expected):
            transposed = torch.equal(filled_got, filled_expected.T)
            hint = (
                "The cells are transposed: the row comes from the centre's y, the column from its x."
                if transposed
                else "Check which cell owns each object: row = floor(cy / cell), col = floor(cx / cell); "
                "if two centres share a cell, the first object keeps it."
            )
            raise AssertionError(f"{call}: objects were put in the wrong cells. {hint}")
        row, col = [int(v[0]) for v in torch.nonzero(filled_expected, as_tuple=True)]
        got_cell, want_cell = got[row, col].float(), expected[row, col]
        if not torch.allclose(got_cell[:2], want_cell[:2], atol=1e-5):
            raise AssertionError(
                f"{call}: cell ({row}, {col}) has x, y = {got_cell[:2].tolist()}, expected "
                f"{want_cell[:2].tolist()}: the centre's offset inside its cell, in [0, 1)."
            )
        if not torch.allclose(got_cell[2:4], want_cell[2:4], atol=1e-5):
            raise AssertionError(
                f"{call}: cell ({row}, {col}) has w, h = {got_cell[2:4].tolist()}, expected "
                f"{want_cell[2:4].tolist()}: the box's width and height as fractions of the image."
            )
        raise AssertionError(
            f"{call}: cell ({row}, {col}) is {got_cell.tolist()}, expected {want_cell.tolist()}. "
            "Layout per cell: [x, y, w, h, conf] for each of the B slots, then the one-hot class "
            "(label 1 is index 0)."
        )
    return len(cases)


def check_detect(detect: Callable) -> int:
    """Check ``detect(output, image_size, conf_threshold, iou_threshold, B) -> dict(boxes, scores, labels)``."""
    from vislib.models.yolo import decode_predictions

    check_callable("detect", detect)
    generator = torch.Generator().manual_seed(5)
    checked = 0
    for S, B, C in ((4, 2, 4), (7, 2, 20), (3, 1, 2)):
        for conf, iou in ((0.05, 0.5), (0.2, 0.3), (0.0, 1.0)):
            raw = torch.rand(S, S, B * 5 + C, generator=generator)
            raw[..., 5 * B :] = torch.softmax(raw[..., 5 * B :] * 4, dim=-1)
            raw[..., 2 : 5 * B : 5] *= 0.5  # moderate widths
            raw[..., 3 : 5 * B : 5] *= 0.5
            size = S * 16
            expected = decode_predictions(raw, size, conf, iou, num_boxes=B)
            got = detect(raw.clone(), size, conf, iou, B)
            call = (
                f"detect(output [{S}, {S}, {B * 5 + C}], image_size={size}, "
                f"conf_threshold={conf}, iou_threshold={iou}, B={B})"
            )
            if not isinstance(got, dict) or not {"boxes", "scores", "labels"} <= set(got):
                raise AssertionError(f"{call} must return a dict with 'boxes', 'scores' and 'labels'")
            order = torch.argsort(expected["scores"], descending=True, stable=True)
            got_order = torch.argsort(got["scores"], descending=True, stable=True)
            if len(got["scores"]) != len(expected["scores"]):
                before_nms = decode_predictions(raw, size, conf, iou, apply_nms=False, num_boxes=B)
                hint = (
                    "That is the count before NMS: apply non-maximum suppression per class."
                    if len(got["scores"]) == len(before_nms["scores"])
                    else "Score each box with P(class | object) * P(object) for its cell's best class, keep scores "
                    ">= conf_threshold, then NMS per class (torchvision.ops.batched_nms)."
                )
                raise AssertionError(
                    f"{call} kept {len(got['scores'])} boxes, expected {len(expected['scores'])}. {hint}"
                )
            if not torch.allclose(got["scores"][got_order].float(), expected["scores"][order], atol=1e-5):
                raise AssertionError(f"{call}: scores differ; a box's score is P(class | object) * P(object).")
            if not torch.allclose(got["boxes"][got_order].float(), expected["boxes"][order], atol=1e-3):
                raise AssertionError(
                    f"{call}: boxes differ. The centre is ((col + x) * cell, (row + y) * cell) and "
                    "the size (w * image_size, h * image_size); clip boxes to the image."
                )
            if not torch.equal(got["labels"][got_order].long(), expected["labels"][order]):
                raise AssertionError(f"{call}: labels differ; labels count from 1 (class index + 1).")
            checked += 1
    return checked


# -- atrous convolution and receptive fields (notebook 05) ----------------------
RECEPTIVE_FIELD_STACKS = (
    [(3, 1, 1)],
    [(3, 1, 1)] * 4,
    [(3, 1, 2)] * 3,
    [(3, 1, 1), (3, 1, 2), (3, 1, 5)],
    [(3, 1, 1), (3, 1, 2), (3, 1, 4), (3, 1, 8)],
    [(3, 2, 1), (3, 1, 1), (3, 2, 1), (3, 1, 1)],
    [(7, 2, 1), (3, 2, 1), (3, 1, 1), (3, 1, 2), (3, 1, 4)],
    [(5, 1, 3), (2, 2, 1), (3, 3, 2), (1, 1, 1)],
    [(1, 1, 7), (3, 2, 1)],
)


def receptive_field_sizes_oracle(layers) -> list[int]:
    """Receptive-field size after each ``(kernel_size, stride, dilation)`` conv layer, from vislib.receptive_field."""
    from vislib.receptive_field import Layer, receptive_field

    return [info.size for info in receptive_field([Layer("conv", k, s, 0, d) for k, s, d in layers])]


def _rf_variant(layers, *, use_dilation=True, use_jump=True, jump_after=False, start=1):
    sizes, r, j = [], start, 1
    for k, s, d in layers:
        span = d * (k - 1) + 1 if use_dilation else k
        if jump_after:
            j *= s
        r += (span - 1) * (j if use_jump else 1)
        if not jump_after:
            j *= s
        sizes.append(r)
    return sizes


def check_receptive_field_sizes(receptive_field_sizes: Callable) -> int:
    """Check ``receptive_field_sizes(layers) -> list[int]`` (``layers``: ``(kernel_size, stride, dilation)``
    tuples) against :func:`vislib.receptive_field.receptive_field`. Returns the number of stacks checked."""
    check_callable("receptive_field_sizes", receptive_field_sizes)
    for layers in RECEPTIVE_FIELD_STACKS:
        expected = receptive_field_sizes_oracle(layers)
        got = receptive_field_sizes(list(layers))
        call = f"receptive_field_sizes({list(layers)})"
        try:
            got = [int(v) for v in got]
        except (TypeError, ValueError):
            raise AssertionError(f"{call} must return a list of ints (one size per layer), got {got!r}") from None
        if len(got) != len(expected):
            raise AssertionError(f"{call} returned {len(got)} sizes; return one per layer ({len(expected)}).")
        if got != expected:
            hints = [
                (
                    _rf_variant(layers, use_dilation=False),
                    "Did you forget the dilation? A dilated kernel spans d * (k - 1) + 1 pixels.",
                ),
                (
                    _rf_variant(layers, use_jump=False),
                    "Did you forget the jump? Each layer adds (k_eff - 1) times "
                    "the product of the strides of the layers BEFORE it.",
                ),
                (
                    _rf_variant(layers, jump_after=True),
                    "Multiply the jump by a layer's stride after adding that "
                    "layer's growth: its own stride does not widen its own kernel.",
                ),
                (_rf_variant(layers, start=0), "Start from r = 1 (a single input pixel), not 0."),
            ]
            hint = next((text for sizes, text in hints if sizes == got and sizes != expected), "")
            raise AssertionError(f"{call} returned {got}, expected {expected}. {hint}".strip())
    return len(RECEPTIVE_FIELD_STACKS)


def dilated_output_size_oracle(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """The output width of ``nn.Conv2d(kernel_size, stride, padding, dilation)`` on ``size`` pixels, measured by
    running its convolution (``F.conv2d`` with a ``1 x kernel_size`` kernel on a ``1 x size`` row: the width
    arithmetic is the same)."""
    weight = torch.zeros(1, 1, 1, kernel_size)  # nn.Conv2d's forward is this F.conv2d call
    output = torch.nn.functional.conv2d(
        torch.zeros(1, 1, 1, size), weight, stride=(1, stride), padding=(0, padding), dilation=(1, dilation)
    )
    return output.shape[-1]


def _dilated_cases():
    # Dilated 3x3 kernels first: a mistake shows there, with the clearest hint.
    for kernel in (3, 5, 2, 1):
        for dilation in (2, 3, 6, 1):
            for size in (5, 13, 33, 65):
                for stride in (1, 2, 3):
                    for padding in (0, 1, 6):
                        if dilation * (kernel - 1) + 1 <= size + 2 * padding:
                            yield size, kernel, stride, padding, dilation


def check_dilated_output_size(dilated_output_size: Callable[..., int]) -> int:
    """Check ``dilated_output_size(size, kernel_size, stride, padding, dilation)`` against ``nn.Conv2d``.
    Returns the number of cases checked."""
    from vislib.runtime import single_thread  # thousands of tiny convolutions: one thread is fastest

    check_callable("dilated_output_size", dilated_output_size)
    checked = 0
    for size, k, s, p, d in _dilated_cases():
        with single_thread():
            expected = dilated_output_size_oracle(size, k, s, p, d)
        got = dilated_output_size(size, k, s, p, d)
        call = f"dilated_output_size({size}, kernel_size={k}, stride={s}, padding={p}, dilation={d})"
        if isinstance(got, float) and not got.is_integer():
            raise AssertionError(f"{call} returned {got}, a fraction: round down with integer division (//).")
        if isinstance(got, bool) or not isinstance(got, (int, float, np.integer)):
            raise AssertionError(f"{call} must return an int, got {got!r}")
        got = int(got)
        if got != expected:
            span = d * (k - 1) + 1
            hints = {  # later entries win where two mistakes give the same number
                -(-(size + 2 * p - span) // s) + 1: "Round down, not up: a window must fit inside the padded input.",
                (size + 2 * p - span) // s: "Did you forget the + 1 (the first window's position)?",
                (size + p - span) // s + 1: "Padding is added on both sides: use 2 * padding.",
                (size - span) // s + 1: "Did you forget the padding? It is added on both sides: 2 * padding.",
                (size + 2 * p - d * (k - 1)) // s + 1: "The dilated span is d * (k - 1) + 1: don't forget the + 1 "
                "(the taps themselves).",
                (size + 2 * p - d * k) // s + 1: "The dilated span is d * (k - 1) + 1, not d * k: there are k - 1 "
                "gaps between k taps.",
                (size + 2 * p - k) // s + 1: "Did you forget the dilation? Replace the kernel size by the dilated "
                "span d * (k - 1) + 1.",
            }
            hint = hints.get(got, "") if got != expected else ""
            raise AssertionError(f"{call} returned {got}, but nn.Conv2d gives {expected}. {hint}".strip())
        checked += 1
    return checked


# -- RoI Pool / RoI Align (notebook 08) ------------------------------------------------
def _roi_align_at_point(feature: torch.Tensor, y: float, x: float) -> float:
    """torchvision's bilinear read of ``feature [H, W]`` at ``(y, x)``: RoI Align of a 1 x 1-cell box centred on
    the point, one bin, one sample (which sits at the box's centre)."""
    import torchvision

    box = torch.tensor([[0.0, x - 0.5, y - 0.5, x + 0.5, y + 0.5]], dtype=torch.float64)
    return torchvision.ops.roi_align(feature.double()[None, None], box, 1, 1.0, 1, False).item()


def _bilinear_variant(feature: torch.Tensor, y: float, x: float, mistake: str) -> float:
    """Bilinear interpolation with one typical mistake, to recognise it in a student's numbers."""
    height, width = feature.shape
    f = feature.double()
    if mistake == "zero outside" and not (0 <= y <= height - 1 and 0 <= x <= width - 1):
        return 0.0  # every point off the grid reads 0 (no clamping band)
    if mistake != "no zero rule" and (y < -1 or y > height or x < -1 or x > width):
        return 0.0
    y, x = min(max(y, 0.0), height - 1.0), min(max(x, 0.0), width - 1.0)
    if mistake == "nearest":
        return f[int(round(y)), int(round(x))].item()
    y0, x0 = min(int(math.floor(y)), height - 1), min(int(math.floor(x)), width - 1)
    y1, x1 = min(y0 + 1, height - 1), min(x0 + 1, width - 1)
    ly, lx = y - y0, x - x0
    hy, hx = 1 - ly, 1 - lx
    if mistake == "near weights":  # each neighbour weighted by its own distance instead of the opposite area
        hy, ly, hx, lx = ly, hy, lx, hx
    return (hy * hx * f[y0, x0] + hy * lx * f[y0, x1] + ly * hx * f[y1, x0] + ly * lx * f[y1, x1]).item()


def _bilinear_cases():
    generator = torch.Generator().manual_seed(8)
    wide = torch.rand(5, 8, generator=generator, dtype=torch.float64)  # H != W: catches swapped x and y
    tall = torch.rand(9, 4, generator=generator, dtype=torch.float64)
    interior = [
        (wide, 1.25, 2.5),
        (wide, 3.7, 6.2),
        (tall, 6.4, 1.9),
        (wide, 2.0, 3.0),
        (tall, 0.5, 0.5),
        (wide, 0.1, 5.9),
    ]
    last_row_and_column = [(wide, 4.0, 2.3), (wide, 1.5, 7.0), (wide, 4.6, 7.4), (tall, 8.0, 3.0)]
    clamped_band = [(wide, -0.5, 3.3), (wide, 2.2, -0.8), (tall, -1.0, -1.0), (wide, 5.0, 8.0)]
    outside = [(wide, -1.5, 2.0), (wide, 2.0, 8.4), (tall, 9.2, 1.0), (tall, 3.0, -3.0)]
    return interior + last_row_and_column + clamped_band + outside


def _as_number(got, call: str) -> float:
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float, np.floating, np.integer)):
        raise AssertionError(f"{call} must return a number (a float), got {type(got).__name__}")
    return float(got)


def _likely_mistake(got: list, hypotheses, cases, failing_case, failing_value) -> str | None:
    """The hint of the mistake that reproduces the most of the student's numbers, among those that reproduce
    the first wrong one (``hypotheses``: ``(variant(*case), hint)`` pairs; ``got``: None where nothing ran)."""
    best, best_count = None, -1
    for variant, hint in hypotheses:
        if abs(failing_value - variant(*failing_case)) > 1e-6:
            continue
        count = sum(value is not None and abs(value - variant(*case)) <= 1e-6 for value, case in zip(got, cases))
        if count > best_count:
            best, best_count = hint, count
    return best


def check_bilinear_interpolate(bilinear: Callable) -> int:
    """Check ``bilinear(feature, y, x) -> float`` against ``torchvision.ops.roi_align`` read at single points.

    ``feature`` is a ``Tensor[H, W]``; the value ``feature[i, j]`` sits at the point ``(y=i, x=j)``; ``y`` and
    ``x`` are Python floats (row first, as in ``feature[y, x]``). A point between four grid points is the sum
    of their values, each weighted by the area of the rectangle opposite it. Border rules (torchvision's, those
    of :func:`vislib.ops.bilinear_interpolate`): a point with ``y < -1``, ``y > H``, ``x < -1`` or ``x > W``
    reads 0; otherwise coordinates below 0 are clamped to 0, and a point at or past the last row (column)
    reads that row (column) only. Returns the number of points checked.
    """
    check_callable("bilinear", bilinear)
    cases = _bilinear_cases()
    got, failure = [], None
    for feature, y, x in cases:
        call = f"bilinear(<feature {feature.shape[0]} x {feature.shape[1]}>, y={y}, x={x})"
        try:
            value = _as_number(bilinear(feature.clone(), y, x), call)
        except IndexError as error:
            if failure is not None:  # explain the first wrong number, from the answers so far
                break
            raise AssertionError(
                f"{call} raised IndexError ({error}). At or past the last row (y >= H - 1) both neighbours are "
                "the last row: y_low = y_high = H - 1 (the same for columns); points beyond y > H or x > W "
                "read 0 before any indexing."
            ) from None
        got.append(value)
        expected = _roi_align_at_point(feature, y, x)
        if failure is None and abs(value - expected) > 1e-6:
            failure = (call, value, expected, (feature, y, x))
    if failure is None:
        return len(cases)
    call, value, expected, case = failure
    _, y, x = case
    negative = y < 0 or x < 0
    hypotheses = [
        (
            lambda f, y_, x_: _roi_align_at_point(f, x_, y_),
            "x and y are swapped: y is the row (first index), x the column: feature[y, x].",
        ),
        (
            lambda f, y_, x_: _bilinear_variant(f, y_, x_, "near weights"),
            "Wrong weights: each neighbour is weighted by the area of the rectangle OPPOSITE it, "
            "(1 - dy) * (1 - dx) for the top-left one (dy = y - y_low, dx = x - x_low); "
            "you gave the nearest neighbour the smallest weight.",
        ),
        (
            lambda f, y_, x_: _bilinear_variant(f, y_, x_, "nearest"),
            "That is the nearest grid point's value: interpolate between the four neighbours instead of rounding "
            "the point (rounding is what RoI Align avoids).",
        ),
        (
            lambda f, y_, x_: _bilinear_variant(f, y_, x_, "zero outside"),
            "Points in [-1, 0) are not outside: clamp the coordinate to 0 (they read row / column 0); only points "
            "beyond -1 (or beyond H, W) read 0."
            if negative
            else "Points at or past the last row or column (y >= H - 1) read that row or column: set y_high = y_low = "
            "H - 1 (and y = y_low); only points beyond H (or W) read 0.",
        ),
        (
            lambda f, y_, x_: _bilinear_variant(f, y_, x_, "no zero rule"),
            "A point more than one cell outside the map (y < -1, y > H, x < -1 or x > W) reads 0; clamp only the "
            "points inside that band.",
        ),
    ]
    hint = _likely_mistake(got, hypotheses, cases, case, value) or (
        "The value is the weighted sum of the four neighbours feature[y_low, x_low], feature[y_low, x_high], "
        "feature[y_high, x_low] and feature[y_high, x_high]."
    )
    raise AssertionError(f"{call} returned {value:.6f}, but torchvision's roi_align reads {expected:.6f} there. {hint}")


def roi_align_bin_reference(
    feature: torch.Tensor,
    box,
    output_size: int,
    bin_row: int,
    bin_col: int,
    spatial_scale: float,
    sampling_ratio: int,
    aligned: bool,
    *,
    offset: float | None = None,
    minimum_size: bool | None = None,
    round_box: bool = False,
    round_bins: bool = False,
    nearest: bool = False,
    corner_samples: bool = False,
    reduce: str = "mean",
) -> float:
    """RoI Align for one RoI and one bin, written out (equal to ``torchvision.ops.roi_align``, see the tests);
    the keyword arguments switch on typical mistakes, to recognise them in a student's numbers."""
    from vislib.ops import bilinear_interpolate

    offset = (0.5 if aligned else 0.0) if offset is None else offset
    minimum_size = (not aligned) if minimum_size is None else minimum_size
    x1, y1, x2, y2 = (float(v) * spatial_scale for v in box)
    if round_box:  # RoI Pool's habit: snap the box to whole cells
        x1, y1, x2, y2 = (float(round(v)) for v in (x1, y1, x2, y2))
    x1, y1, x2, y2 = x1 - offset, y1 - offset, x2 - offset, y2 - offset
    width, height = x2 - x1, y2 - y1
    if minimum_size:
        width, height = max(width, 1.0), max(height, 1.0)
    bin_w, bin_h = width / output_size, height / output_size
    grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(height / output_size)
    grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(width / output_size)
    top, left = y1 + bin_row * bin_h, x1 + bin_col * bin_w
    bottom, right = top + bin_h, left + bin_w
    if round_bins:  # RoI Pool's habit: floor the bin's start, ceil its end
        top, left, bottom, right = math.floor(top), math.floor(left), math.ceil(bottom), math.ceil(right)
    step_h, step_w = (bottom - top) / max(grid_h, 1), (right - left) / max(grid_w, 1)
    shift = 0.0 if corner_samples else 0.5
    values = []
    for iy in range(grid_h):
        for ix in range(grid_w):
            y, x = top + (iy + shift) * step_h, left + (ix + shift) * step_w
            if nearest:
                y, x = float(round(y)), float(round(x))
            values.append(bilinear_interpolate(feature.double(), y, x).item())
    if not values:
        return 0.0
    return max(values) if reduce == "max" else sum(values) / max(grid_h * grid_w, 1)


def _roi_align_bin_cases():
    generator = torch.Generator().manual_seed(9)
    feature = torch.rand(10, 12, generator=generator, dtype=torch.float64)  # a stride-16 map of a 160 x 192 image
    cases = []
    for box, output_size, bin_row, bin_col, scale, ratio, aligned in [
        ((37.0, 21.0, 141.0, 118.0), 2, 0, 1, 1 / 16, 2, False),  # the slide's 2 x 2 split, two points a side
        ((37.0, 21.0, 141.0, 118.0), 2, 1, 0, 1 / 16, 2, True),
        ((10.5, 40.2, 99.9, 77.7), 3, 2, 1, 1 / 16, 1, True),
        ((50.0, 5.0, 170.0, 150.0), 7, 3, 5, 1 / 16, 2, False),
        ((50.0, 5.0, 170.0, 150.0), 7, 6, 0, 1 / 16, 3, True),
        ((3.0, 4.5, 9.0, 7.25), 2, 1, 1, 1.0, 2, True),  # spatial_scale 1: feature cells are pixels
        ((24.0, 40.0, 88.0, 120.0), 4, 1, 2, 1 / 8, 2, True),
        ((37.0, 21.0, 141.0, 118.0), 3, 1, 2, 1 / 16, -1, True),  # adaptive: ceil(bin size) points a side
        ((12.0, 30.0, 180.0, 100.0), 2, 0, 0, 1 / 16, -1, False),
        ((60.0, 60.0, 70.0, 68.0), 2, 1, 0, 1 / 16, 2, False),  # smaller than a cell: made 1 cell wide and high
        ((150.0, 120.0, 200.0, 170.0), 2, 1, 1, 1 / 16, 2, True),  # across the map's border
    ]:
        cases.append((feature, box, output_size, bin_row, bin_col, scale, ratio, aligned))
    return cases


def check_roi_align_bin(roi_align_bin: Callable) -> int:
    """Check ``roi_align_bin(feature, box, output_size, bin_row, bin_col, spatial_scale, sampling_ratio,
    aligned) -> float`` against ``torchvision.ops.roi_align``.

    ``feature`` is one feature map ``Tensor[H, W]``; ``box`` is ``(x1, y1, x2, y2)`` in image pixels (floats);
    ``output_size`` the number of bins per side (an int); the function returns the output of bin
    ``(bin_row, bin_col)``: the mean of ``sampling_ratio x sampling_ratio`` bilinear reads at evenly spaced
    points ``(i + 1/2) / sampling_ratio`` of the bin (``sampling_ratio <= 0``: ``ceil(bin height)`` x
    ``ceil(bin width)`` points, the bin sizes in cells). The box is scaled by ``spatial_scale`` and, when
    ``aligned``, shifted by -0.5 cell; when not ``aligned`` it is made at least one cell wide and high.
    Returns the number of cases checked.
    """
    import torchvision

    check_callable("roi_align_bin", roi_align_bin)
    cases = _roi_align_bin_cases()
    got, failure = [], None
    for case in cases:
        feature, box, output_size, bin_row, bin_col, scale, ratio, aligned = case
        rois = torch.tensor([[0.0, *box]], dtype=torch.float64)
        output = torchvision.ops.roi_align(feature[None, None], rois, output_size, scale, ratio, aligned)
        expected = output[0, 0, bin_row, bin_col].item()
        call = (
            f"roi_align_bin(<feature {feature.shape[0]} x {feature.shape[1]}>, box={box}, output_size="
            f"{output_size}, bin_row={bin_row}, bin_col={bin_col}, spatial_scale={scale:g}, "
            f"sampling_ratio={ratio}, aligned={aligned})"
        )
        value = _as_number(
            roi_align_bin(feature.clone(), tuple(box), output_size, bin_row, bin_col, scale, ratio, aligned), call
        )
        got.append(value)
        if failure is None and abs(value - expected) > 1e-6:
            failure = (call, value, expected, case)
    if failure is None:
        return len(cases)
    call, value, expected, case = failure
    ratio = case[6]

    def mistake(**changes):
        def variant(feature, box, output_size, bin_row, bin_col, scale, ratio, aligned):
            arguments = dict(
                feature=feature,
                box=box,
                output_size=output_size,
                bin_row=bin_row,
                bin_col=bin_col,
                spatial_scale=scale,
                sampling_ratio=ratio,
                aligned=aligned,
            )
            if changes.get("swap"):
                arguments.update(bin_row=bin_col, bin_col=bin_row)
            if changes.get("unscaled"):
                arguments.update(spatial_scale=1.0)
            options = {k: v for k, v in changes.items() if k not in ("swap", "unscaled")}
            return roi_align_bin_reference(**arguments, **options)

        return variant

    hypotheses = [
        (
            mistake(offset=0.0, minimum_size=False),
            "With aligned=True, shift the scaled box by half a cell: x1 * spatial_scale - 0.5 (every coordinate). "
            "Feature value [i, j] stands for the pixels of cell (i, j), whose centre is at feature coordinate "
            "(j + 0.5, i + 0.5) before the shift.",
        ),
        (
            mistake(offset=0.0),
            "With aligned=True, shift the scaled box by half a cell: x1 * spatial_scale - 0.5 (every coordinate).",
        ),
        (
            mistake(offset=0.5, minimum_size=False),
            "The half-cell shift belongs to aligned=True only; with aligned=False use x1 * spatial_scale.",
        ),
        (
            mistake(minimum_size=False),
            "With aligned=False (the original Mask R-CNN code) the RoI is made at least one cell wide and high: "
            "roi_width = max(x2 - x1, 1) after scaling.",
        ),
        (
            mistake(round_box=True),
            "Do not round the box to whole cells: that is RoI Pool's habit and the misalignment RoI Align removes. "
            "Keep x1 * spatial_scale as a float.",
        ),
        (
            mistake(round_box=True, round_bins=True),
            "Do not round the box to whole cells, nor the bins' edges: those are RoI Pool's habits and the "
            "misalignment RoI Align removes.",
        ),
        (
            mistake(round_bins=True),
            "Do not round the bins' edges (floor / ceil is RoI Pool's): every bin is exactly roi_width / output_size "
            "cells wide, a float.",
        ),
        (
            mistake(nearest=True),
            "Do not round the sample points: read them with bilinear interpolation at their exact position.",
        ),
        (
            mistake(unscaled=True),
            "Multiply the box by spatial_scale first: the box is in image pixels, the feature map in cells.",
        ),
        (
            mistake(corner_samples=True),
            "Sample points sit at (i + 1/2) / sampling_ratio of the bin (centred), not at i / sampling_ratio (the "
            "bin's corner).",
        ),
        (mistake(reduce="max"), "RoI Align averages a bin's samples (torchvision); the maximum is RoI Pool's rule."),
        (mistake(swap=True), "bin_row and bin_col are swapped: bin_row counts down (y), bin_col across (x)."),
    ]
    hint = _likely_mistake(got, hypotheses, cases, case, value)
    if hint is None and ratio <= 0:
        hint = (
            "sampling_ratio <= 0 is adaptive: ceil(roi_height / output_size) points vertically and "
            "ceil(roi_width / output_size) horizontally (bin sizes in cells)."
        )
    hint = hint or "Scale the box, split it into equal bins and average the bilinear reads at each bin's sample points."
    raise AssertionError(f"{call} returned {value:.6f}, but torchvision.ops.roi_align gives {expected:.6f}. {hint}")
