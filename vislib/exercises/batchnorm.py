"""Checkers for the batch-normalization exercises (notebook 01): batch norm itself and folding it into a
convolution.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from vislib._validation import check_callable

__all__ = ["BATCH_NORM_SHAPES", "check_batch_norm", "check_fold_batchnorm"]

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
