"""Residual blocks that mirror torchvision's, and a CIFAR-style ResNet with its plain twin.

He et al., *Deep Residual Learning for Image Recognition*, 2015, arXiv 1512.03385.

A block computes ``F(x)`` (two or three conv-BN layers) and adds its input back:
``relu(F(x) + x)``. :class:`BasicBlock` and :class:`Bottleneck` carry the
sub-module names of ``torchvision.models.resnet`` (``conv1``, ``bn1``,
``conv2``, ``bn2``, ``conv3``, ``bn3``, ``downsample``), so a torchvision
block's ``state_dict`` loads into them and gives the same outputs. Their one
addition is ``residual``: with ``residual=False`` the block computes
``relu(F(x))``, the same layers without the ``+ x``.

:class:`CifarResNet` is the paper's network for small images (section 4.2):
a 3x3 stem with 16 filters, three stages of ``n`` blocks on maps of 16, 32 and
64 filters (the 2nd and 3rd stage halve the resolution), global average
pooling and a linear classifier: ``6n + 2`` weighted layers with basic blocks
(20, 32, 44, 56, 110). ``CifarResNet(depth, residual=False)`` is its plain
twin: the identical modules, and under the same seed the identical weights;
only the ``+ x`` is missing.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vislib._validation import check_choice, check_int, check_type

__all__ = [
    "BasicBlock",
    "BLOCKS",
    "blocks_per_stage",
    "Bottleneck",
    "CifarResNet",
    "conv1x1",
    "conv3x3",
    "PaddingShortcut",
    "SHORTCUTS",
]

BLOCKS = ("basic", "bottleneck")
SHORTCUTS = ("A", "B")


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1, dilation: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding, no bias (BN follows): torchvision's helper."""
    in_planes = check_int("in_planes", in_planes, min_value=1)
    out_planes = check_int("out_planes", out_planes, min_value=1)
    stride = check_int("stride", stride, min_value=1)
    groups = check_int("groups", groups, min_value=1)
    dilation = check_int("dilation", dilation, min_value=1)
    return nn.Conv2d(
        in_planes,
        out_planes,
        kernel_size=3,
        stride=stride,
        padding=dilation,
        groups=groups,
        bias=False,
        dilation=dilation,
    )


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias: torchvision's helper."""
    in_planes = check_int("in_planes", in_planes, min_value=1)
    out_planes = check_int("out_planes", out_planes, min_value=1)
    stride = check_int("stride", stride, min_value=1)
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``: torchvision's ``BasicBlock``.

    ``x``: ``[N, inplanes, H, W]`` -> ``[N, planes, H / stride, W / stride]``. ``downsample``
    maps ``x`` to the output's shape when they differ (a 1x1 conv + BN, the paper's
    option B, or a :class:`PaddingShortcut`, option A). ``residual=False`` drops the
    ``+ shortcut(x)`` (a plain block).
    """

    expansion: int = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Callable[..., nn.Module] | None = None,
        *,
        residual: bool = True,
    ):
        super().__init__()
        inplanes = check_int("inplanes", inplanes, min_value=1)
        planes = check_int("planes", planes, min_value=1)
        stride = check_int("stride", stride, min_value=1)
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation != 1:
            raise ValueError(f"dilation must be 1 in a BasicBlock, got {dilation!r}")
        if downsample is not None:
            check_type("downsample", downsample, nn.Module, "an nn.Module or None")
        check_type("residual", residual, bool, "True or False")
        norm_layer = norm_layer or nn.BatchNorm2d
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride
        self.residual = residual

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.conv1.in_channels)
        identity = x

        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)

        out = self.conv2(out)
        out = self.bn2(out)

        if self.residual:
            if self.downsample is not None:
                identity = self.downsample(x)
            out = out + identity  # the shortcut: the only difference from the plain block
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 (reduce) -> 3x3 (stride here, as torchvision's "ResNet v1.5") -> 1x1 (expand x4), plus the shortcut.

    ``x``: ``[N, inplanes, H, W]`` -> ``[N, 4 * planes, H / stride, W / stride]``.
    """

    expansion: int = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Callable[..., nn.Module] | None = None,
        *,
        residual: bool = True,
    ):
        super().__init__()
        inplanes = check_int("inplanes", inplanes, min_value=1)
        planes = check_int("planes", planes, min_value=1)
        stride = check_int("stride", stride, min_value=1)
        groups = check_int("groups", groups, min_value=1)
        base_width = check_int("base_width", base_width, min_value=1)
        dilation = check_int("dilation", dilation, min_value=1)
        if downsample is not None:
            check_type("downsample", downsample, nn.Module, "an nn.Module or None")
        check_type("residual", residual, bool, "True or False")
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride
        self.residual = residual

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.conv1.in_channels)
        identity = x

        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))

        if self.residual:
            if self.downsample is not None:
                identity = self.downsample(x)
            out = out + identity
        return self.relu(out)


class PaddingShortcut(nn.Module):
    """The paper's option A: a parameter-free shortcut that subsamples by ``stride`` and zero-pads channels.

    ``[N, C_in, H, W]`` -> ``[N, C_out, ceil(H / stride), ceil(W / stride)]``; the new channels are zeros.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 2):
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, min_value=1)
        self.out_channels = check_int("out_channels", out_channels, min_value=self.in_channels)
        self.stride = check_int("stride", stride, min_value=1)

    def forward(self, x: Tensor) -> Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.out_channels - self.in_channels))

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


class CifarResNet(nn.Module):
    """The CIFAR-style ResNet of depth ``6n + 2`` (basic blocks) or ``9n + 2`` (bottlenecks), or its plain twin.

    ``CifarResNet(20)`` maps ``[N, in_channels, H, W]`` images (H, W >= 4) to ``[N, classes]`` logits.

    Parameters
    ----------
    depth: weighted layers: 20, 32, 44, 56, 110 for basic blocks; 29, 47, 56, ... for bottlenecks.
    residual: ``False`` gives the plain network (no ``+ x`` anywhere; every module and weight the same).
    block: ``"basic"`` or ``"bottleneck"``.
    shortcut: ``"A"`` (zero-padding, no parameters: the paper's CIFAR choice) or ``"B"`` (1x1 conv + BN
        projection where the shape changes).
    width: filters of the first stage (16 in the paper); the stages have ``width``, ``2 width``, ``4 width``.
    """

    def __init__(
        self,
        depth: int = 20,
        residual: bool = True,
        *,
        block: str = "basic",
        shortcut: str = "A",
        width: int = 16,
        in_channels: int = 1,
        classes: int = 10,
    ):
        super().__init__()
        check_choice("block", block, BLOCKS)
        check_choice("shortcut", shortcut, SHORTCUTS)
        check_type("residual", residual, bool, "True or False")
        self.depth = check_int("depth", depth, min_value=2)
        self.blocks_per_stage = blocks_per_stage(depth, block)
        width = check_int("width", width, min_value=1, max_value=1024)
        in_channels = check_int("in_channels", in_channels, min_value=1)
        classes = check_int("classes", classes, min_value=2)
        self.residual, self.block_kind, self.shortcut = residual, block, shortcut
        self.block_type = BasicBlock if block == "basic" else Bottleneck
        self.conv1 = conv3x3(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.inplanes = width
        self.layer1 = self._make_layer(width, 1)
        self.layer2 = self._make_layer(2 * width, 2)
        self.layer3 = self._make_layer(4 * width, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.inplanes, classes)
        for module in self.modules():  # torchvision's initialization
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def _make_layer(self, planes: int, stride: int) -> nn.Sequential:
        out_planes = planes * self.block_type.expansion
        downsample = None
        if stride != 1 or self.inplanes != out_planes:
            if self.shortcut == "A":
                downsample = PaddingShortcut(self.inplanes, out_planes, stride)
            else:
                downsample = nn.Sequential(conv1x1(self.inplanes, out_planes, stride), nn.BatchNorm2d(out_planes))
        layers = [self.block_type(self.inplanes, planes, stride, downsample, residual=self.residual)]
        self.inplanes = out_planes
        layers += [
            self.block_type(self.inplanes, planes, residual=self.residual) for _ in range(1, self.blocks_per_stage)
        ]
        return nn.Sequential(*layers)

    @property
    def blocks(self) -> list[nn.Module]:
        """The residual (or plain) blocks in order: ``3 n`` of them."""
        return [*self.layer1, *self.layer2, *self.layer3]

    def block_names(self) -> list[str]:
        """``["layer1.0", "layer1.1", ...]``: the blocks' names in ``named_modules()``."""
        return [f"layer{stage}.{i}" for stage in (1, 2, 3) for i in range(self.blocks_per_stage)]

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.conv1.in_channels, min_size=4)
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def blocks_per_stage(depth: int, block: str = "basic") -> int:
    """``n`` for a CIFAR ResNet of ``depth`` layers: ``(depth - 2) / 6`` (basic) or ``/ 9`` (bottleneck)."""
    depth = check_int("depth", depth, min_value=2)
    check_choice("block", block, BLOCKS)
    layers_per_block = 2 if block == "basic" else 3
    n, remainder = divmod(depth - 2, 3 * layers_per_block)
    if remainder or n < 1:
        form = "6n + 2 (8, 14, 20, 32, 44, 56, 110)" if block == "basic" else "9n + 2 (11, 20, 29, 47, 56, 101)"
        raise ValueError(f"depth must be {form} with n >= 1 for {block} blocks, got {depth}")
    return n


def _check_input(x, channels: int, min_size: int = 1) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4 or x.shape[1] != channels or min(x.shape[2:]) < min_size:
        raise ValueError(f"x must have shape [N, {channels}, H, W] with H, W >= {min_size}, got {list(x.shape)}")
