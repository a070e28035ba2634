"""Checkers for the dilated-convolution exercises (notebook 05): output sizes of a dilated convolution."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from vislib._validation import check_callable

__all__ = ["check_dilated_output_size", "dilated_output_size_oracle"]


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
