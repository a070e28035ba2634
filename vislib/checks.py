"""Checks for the notebooks' exercises.

Each ``check_*`` function calls a student's implementation on many inputs,
compares with an established oracle (``torch.nn``, ``torchvision.ops``,
``pycocotools``) and raises ``AssertionError`` with a message that names the
first failing input and, where it can tell, the likely mistake.
"""

from __future__ import annotations

import math
from collections.abc import Callable

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
