"""Grouped convolution written the way the lecture says: split, convolve each group, concatenate.

``grouped_conv2d`` has the signature and the numbers of ``torch.nn.functional.conv2d``
(``tests/test_grouped_conv.py`` proves values and gradients equal on many shapes). It is a teaching
implementation: one ordinary convolution per group, so it is slower than ``F.conv2d(groups=...)``.

Shapes, with ``G = groups``::

    input   [N, C_in, H, W]                 C_in  divisible by G
    weight  [C_out, C_in / G, kH, kW]       C_out divisible by G; filter j belongs to group j // (C_out / G)
    bias    [C_out] or None
    output  [N, C_out, H_out, W_out]

Group ``g`` convolves input channels ``g * C_in/G ... (g+1) * C_in/G - 1`` with filters
``g * C_out/G ... (g+1) * C_out/G - 1`` only. Xie et al., ResNeXt, arXiv 1611.05431; Krizhevsky et al.
(AlexNet, 2012) first split a network's convolutions in two groups, one per GPU.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from vislib._validation import check_int, check_type

__all__ = ["channel_shuffle", "check_grouped_conv_arguments", "grouped_conv2d"]


def grouped_conv2d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1, groups: int = 1
) -> Tensor:
    """``F.conv2d(input, weight, bias, stride, padding, dilation, groups)``, as split, convolve, concatenate.

    ``input [N, C_in, H, W]``, ``weight [C_out, C_in / groups, kH, kW]``, ``bias [C_out]`` or None;
    ``stride``, ``padding`` and ``dilation`` are an int or a pair, as for ``F.conv2d``. Returns
    ``[N, C_out, H_out, W_out]``. Gradients flow to ``input``, ``weight`` and ``bias`` as through ``F.conv2d``.
    """
    groups = check_grouped_conv_arguments(input, weight, bias, groups)
    for name, value, least in (("stride", stride, 1), ("padding", padding, 0), ("dilation", dilation, 1)):
        pair = value if isinstance(value, (tuple, list)) else (value,)
        if len(pair) not in (1, 2):
            raise ValueError(f"{name} must be an int or a pair (height, width), got {value!r}")
        for i, v in enumerate(pair):
            check_int(name if len(pair) == 1 else f"{name}[{i}]", v, min_value=least)
    inputs = input.chunk(groups, dim=1)  # G pieces of [N, C_in / G, H, W]: split the CHANNELS
    filters = weight.chunk(groups, dim=0)  # G pieces of [C_out / G, C_in / G, kH, kW]: split the FILTERS
    biases = bias.chunk(groups) if bias is not None else [None] * groups
    outputs = [
        F.conv2d(x, w, b, stride, padding, dilation)  # an ordinary convolution per group
        for x, w, b in zip(inputs, filters, biases)
    ]
    return torch.cat(outputs, dim=1)  # the groups' outputs, side by side along the channels


def check_grouped_conv_arguments(input, weight, bias, groups) -> int:
    """Validate ``grouped_conv2d``'s tensors and ``groups`` with messages a student understands; return ``groups``."""
    check_type("input", input, Tensor, "a torch.Tensor of shape [N, C_in, H, W]")
    check_type("weight", weight, Tensor, "a torch.Tensor of shape [C_out, C_in / groups, kH, kW]")
    groups = check_int("groups", groups, min_value=1)
    if input.ndim != 4:
        raise ValueError(
            f"input must be a 4-D tensor [N, C_in, H, W] (a batch of images with channels), "
            f"got shape {list(input.shape)}; for one image use input[None]"
        )
    if weight.ndim != 4:
        raise ValueError(f"weight must be a 4-D tensor [C_out, C_in / groups, kH, kW], got shape {list(weight.shape)}")
    in_channels, out_channels = input.shape[1], weight.shape[0]
    if in_channels % groups:
        raise ValueError(
            f"groups={groups} must divide the input's {in_channels} channels (input.shape[1]): "
            f"each group takes the same number of channels"
        )
    if out_channels % groups:
        raise ValueError(
            f"groups={groups} must divide the {out_channels} filters (weight.shape[0]): "
            f"each group has the same number of filters"
        )
    if weight.shape[1] != in_channels // groups:
        raise ValueError(
            f"weight must have shape [C_out, C_in / groups, kH, kW] = [{out_channels}, "
            f"{in_channels // groups}, kH, kW] for {in_channels} input channels in {groups} group(s): "
            f"each filter sees only its group's channels; got weight.shape[1] = {weight.shape[1]}"
        )
    if bias is not None:
        check_type("bias", bias, Tensor, "a torch.Tensor of shape [C_out] or None")
        if bias.shape != (out_channels,):
            raise ValueError(
                f"bias must have shape [C_out] = [{out_channels}] (one per filter), got {list(bias.shape)}"
            )
    return groups


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """ShuffleNet's channel shuffle (Zhang et al., arXiv 1707.01083), as ``torchvision.models.shufflenetv2``.

    ``x [N, C, H, W]`` with ``C = groups * n`` is viewed as ``[N, groups, n, H, W]``, the two channel axes
    are swapped and flattened again: output channel ``j * groups + g`` is input channel ``g * n + j``, so
    the next grouped convolution's every group receives channels from every previous group.
    """
    check_type("x", x, Tensor, "a torch.Tensor of shape [N, C, H, W]")
    groups = check_int("groups", groups, min_value=1)
    if x.ndim != 4:
        raise ValueError(f"x must be a 4-D tensor [N, C, H, W], got shape {list(x.shape)}")
    batch, channels, height, width = x.shape
    if channels % groups:
        raise ValueError(f"groups={groups} must divide x's {channels} channels (x.shape[1])")
    x = x.view(batch, groups, channels // groups, height, width)
    return x.transpose(1, 2).contiguous().view(batch, channels, height, width)
