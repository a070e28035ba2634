"""Checkers for the convolution-arithmetic exercises: output sizes of a convolution (notebook 00) and of a
transposed convolution (notebook 04).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from vislib._validation import check_callable

__all__ = [
    "check_conv_output_size",
    "check_transposed_conv_output_size",
    "conv_output_size_oracle",
    "transposed_conv_output_size_oracle",
]


def _conv_cases():
    for size in (1, 5, 7, 8, 28, 32, 33, 224):
        for kernel in (1, 2, 3, 5, 7):
            for stride in (1, 2, 3, 4):
                for padding in (0, 1, 2, 3):
                    if kernel <= size + 2 * padding and padding <= kernel // 2 + 1:
                        yield size, kernel, stride, padding


#: The usual wrong formulas for a convolution's output size, each with the hint that explains it.
_CONV_MISTAKES = (
    (lambda n, k, s, p: (n - k) // s + 1, "Did you forget the padding? It is added on both sides: 2 * padding."),
    (
        lambda n, k, s, p: (n + p - k) // s + 1,
        "Padding is added on both sides, so the padded input is size + 2 * padding: use 2 * padding.",
    ),
    (lambda n, k, s, p: (n + 2 * p - k) // s, "Did you forget the +1 (the first window's position)?"),
    (
        lambda n, k, s, p: math.ceil((n + 2 * p - k) / s) + 1,
        "Round down, not up: a window must fit entirely inside the padded input.",
    ),
    (lambda n, k, s, p: n + 2 * p - k + 1, "Did you forget to divide by the stride?"),
)


def _diagnose_conv_mistake(conv_output_size, size, kernel, stride, padding, got) -> str:
    """The hint of the one usual mistake that explains the student's answers, or "" if none or several do.

    Several mistakes can give the same wrong number in one case (with stride 2 and padding 1, forgetting the
    factor 2 on the padding and forgetting the +1 both give one too few), so a single case cannot tell them
    apart. The diagnosis therefore asks which mistake reproduces the student's function on every case.
    """
    candidates = [hint for formula, hint in _CONV_MISTAKES if formula(size, kernel, stride, padding) == got]
    if len(candidates) <= 1:
        return candidates[0] if candidates else ""
    answers = {}
    for case in _conv_cases():
        try:
            answers[case] = conv_output_size(*case)
        except Exception:  # a student's function may fail elsewhere; judge it on the cases it answers
            continue
    explaining = [
        hint
        for formula, hint in _CONV_MISTAKES
        if hint in candidates and answers and all(formula(*case) == answer for case, answer in answers.items())
    ]
    return explaining[0] if len(explaining) == 1 else ""


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
            hint = _diagnose_conv_mistake(conv_output_size, size, kernel, stride, padding, got)
            raise AssertionError(f"{call} returned {got}, but nn.Conv2d gives {expected}. {hint}".strip())
        checked += 1
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
