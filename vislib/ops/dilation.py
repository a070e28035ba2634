"""Atrous (dilated) convolution: spaced inputs, zero-inserted kernels, output sizes.

A 3x3 convolution with dilation ``d`` reads its 9 inputs ``d`` pixels apart ("atrous": *à trous*, with
holes). Chen et al. use it in DeepLab to see more context without pooling away resolution (DeepLabv3+,
arXiv 1802.02611, section 3.1). This module holds the arithmetic the notebook teaches:

* :func:`sampling_offsets` / :func:`sampling_grid`: where a dilated kernel samples, around a pixel.
* :func:`dilate_kernel`: the same kernel with ``d - 1`` zeros inserted between its taps. A dilated
  convolution **is** a dense convolution with that larger, mostly-zero kernel (the tests prove
  ``F.conv2d(x, w, dilation=d) == F.conv2d(x, dilate_kernel(w, d))``); it just never multiplies the zeros.
* :func:`dilated_output_size`: ``floor((n + 2p - d (k - 1) - 1) / s) + 1``, torch's formula, in which the
  kernel size ``k`` is replaced by the dilated span ``d (k - 1) + 1``; :func:`same_padding` keeps the size.
* :func:`valid_tap_fraction`: on a small feature map, a large rate puts most taps in the zero padding
  (DeepLabv3's argument for the image-pooling branch of ASPP, arXiv 1706.05587, section 3.3).
* Stacks with edited rates and their measured receptive fields are in :mod:`vislib.analysis.receptive_field`;
  the receptive-field widget's state in :mod:`vislib.states.receptive_field`.

numpy / torch only.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor

from vislib._validation import check_int, check_tensor, check_type

__all__ = [
    "dilate_kernel",
    "dilated_output_size",
    "same_padding",
    "sampling_grid",
    "sampling_offsets",
    "valid_tap_fraction",
]


def sampling_offsets(kernel_size: int, dilation: int = 1) -> np.ndarray:
    """``int[kernel_size]``: the input offsets a dilated kernel reads, relative to the window's centre tap.

    ``i * dilation - dilation * (kernel_size - 1) // 2`` for ``i in range(kernel_size)``: for a 3x3 kernel
    ``(-d, 0, d)``. (For even kernels the "centre" is the tap left of the middle, as with ``same`` padding.)
    """
    kernel_size = check_int("kernel_size", kernel_size, min_value=1)
    dilation = check_int("dilation", dilation, min_value=1)
    return np.arange(kernel_size) * dilation - same_padding(kernel_size, dilation)


def sampling_grid(center: tuple[int, int], kernel_size: int = 3, dilation: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, cols)``, each ``int[kernel_size ** 2]``: the pixels a ``kernel_size x kernel_size`` kernel
    with ``dilation`` reads when its centre tap sits on ``center = (row, col)`` (not clipped to any image)."""
    check_type("center", center, (tuple, list), "a (row, col) pair")
    if len(center) != 2:
        raise ValueError(f"center must be a (row, col) pair, got {center!r}")
    row, col = check_int("center[0]", center[0]), check_int("center[1]", center[1])
    offsets = sampling_offsets(kernel_size, dilation)
    rows, cols = np.meshgrid(row + offsets, col + offsets, indexing="ij")
    return rows.ravel(), cols.ravel()


def dilate_kernel(weight: Tensor, dilation: int) -> Tensor:
    """Insert ``dilation - 1`` zeros between neighbouring taps of a conv weight ``[..., k_h, k_w]``.

    The result has shape ``[..., d (k_h - 1) + 1, d (k_w - 1) + 1]`` and holds ``weight`` at every
    ``d``-th position: ``out[..., d * i, d * j] = weight[..., i, j]``, zeros elsewhere. A dense convolution
    with it equals the dilated convolution with ``weight`` (same stride and padding).
    """
    check_tensor("weight", weight, ndim=(2, 3, 4))
    dilation = check_int("dilation", dilation, min_value=1)
    *lead, k_h, k_w = weight.shape
    out = weight.new_zeros(*lead, dilation * (k_h - 1) + 1, dilation * (k_w - 1) + 1)
    out[..., ::dilation, ::dilation] = weight
    return out


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """The padding that keeps the size at stride 1 for odd kernels: ``dilation * (kernel_size - 1) // 2``."""
    kernel_size = check_int("kernel_size", kernel_size, min_value=1)
    dilation = check_int("dilation", dilation, min_value=1)
    return dilation * (kernel_size - 1) // 2


def dilated_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """The output length of ``nn.Conv2d(kernel_size, stride, padding, dilation)`` on ``size`` input pixels:

        floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1

    Raises ValueError when the dilated kernel does not fit the padded input.
    """
    size = check_int("size", size, min_value=1)
    kernel_size = check_int("kernel_size", kernel_size, min_value=1)
    stride = check_int("stride", stride, min_value=1)
    padding = check_int("padding", padding, min_value=0)
    dilation = check_int("dilation", dilation, min_value=1)
    span = dilation * (kernel_size - 1) + 1
    if size + 2 * padding < span:
        raise ValueError(
            f"dilation: a {kernel_size}x{kernel_size} kernel with dilation {dilation} spans {span} pixels, more "
            f"than the padded input ({size} + 2 * {padding})"
        )
    return (size + 2 * padding - span) // stride + 1


def valid_tap_fraction(size: int, kernel_size: int = 3, dilation: int = 1) -> float:
    """The share of a ``kernel_size x kernel_size`` kernel's taps that land inside a ``size x size`` map,
    averaged over all output positions, for a stride-1 ``same``-padded dilated convolution.

    With ``dilation >= size`` only the centre tap is ever inside: the 3x3 filter degenerates to 1x1
    (DeepLabv3, arXiv 1706.05587, figure 4; hence ASPP's image-pooling branch).
    """
    size = check_int("size", size, min_value=1)
    offsets = sampling_offsets(kernel_size, dilation)
    positions = np.arange(size)[:, None] + offsets[None, :]
    inside_1d = ((positions >= 0) & (positions < size)).mean()  # per axis; 2-D is the product
    return float(inside_1d**2)
