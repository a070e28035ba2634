"""ResNeXt (Xie et al., arXiv 1611.05431): the bottleneck block, its three equivalent forms, small nets.

* ``ResNeXtBottleneck`` has torchvision's ``Bottleneck`` signature and sub-module names (``conv1``,
  ``bn1``, ``conv2``, ``bn2``, ``conv3``, ``bn3``, ``relu``, ``downsample``), so the ``state_dict`` of
  ``torchvision.models.resnext50_32x4d().layer1[0]`` loads into it and the outputs are equal. Its
  grouped 3 x 3 convolution has ``width = int(planes * base_width / 64) * groups`` channels: for
  ResNeXt-50 (32 x 4d) and ``planes = 64``, 32 groups of 4 channels, 128 in all.
* ``AggregatedPaths``, ``EarlyConcatenation`` and ``GroupedConvBlock`` are the paper's Figure 3
  (a), (b) and (c): the same block written three ways; ``figure3_forms`` builds them with shared weights.
* ``SmallResNeXt`` is a two-block ResNeXt for 16 x 16 digits, and ``matched_base_width`` picks the
  width per group that keeps its parameters close to a budget for any number of groups (the paper's
  Table 2: more groups, narrower groups, same complexity).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from vislib._validation import check_int, check_type

__all__ = [
    "AggregatedPaths",
    "EarlyConcatenation",
    "GroupedConvBlock",
    "ResNeXtBottleneck",
    "SmallResNeXt",
    "bottleneck_width",
    "figure3_forms",
    "matched_base_width",
]


def bottleneck_width(planes: int, base_width: int, groups: int) -> int:
    """torchvision's width of a ResNeXt bottleneck: ``int(planes * base_width / 64) * groups``."""
    planes = check_int("planes", planes, min_value=1)
    base_width = check_int("base_width", base_width, min_value=1)
    groups = check_int("groups", groups, min_value=1)
    return int(planes * (base_width / 64.0)) * groups


class ResNeXtBottleneck(nn.Module):
    """1 x 1 conv (reduce) -> grouped 3 x 3 conv -> 1 x 1 conv (expand, ``planes * 4``), each with batch norm,
    plus the shortcut; torchvision's ``Bottleneck`` with ``groups`` and ``base_width``.

    ``x [N, inplanes, H, W]`` -> ``[N, planes * 4, H / stride, W / stride]``. ``downsample`` (a module
    or None) maps the shortcut when the shape changes, as in torchvision.
    """

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Callable[[int], nn.Module] | None = None,
    ):
        super().__init__()
        inplanes = check_int("inplanes", inplanes, min_value=1)
        planes = check_int("planes", planes, min_value=1)
        groups = check_int("groups", groups, min_value=1)
        base_width = check_int("base_width", base_width, min_value=1)
        stride = check_int("stride", stride, min_value=1)
        dilation = check_int("dilation", dilation, min_value=1)
        if downsample is not None:
            check_type("downsample", downsample, nn.Module, "a torch.nn.Module or None")
        norm_layer = norm_layer or nn.BatchNorm2d
        width = bottleneck_width(planes, base_width, groups)
        if width == 0:
            raise ValueError(f"planes={planes} * base_width={base_width} / 64 is below 1: the groups would be empty")
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)  # reduce
        self.bn1 = norm_layer(width)
        self.conv2 = nn.Conv2d(
            width, width, 3, stride=stride, padding=dilation, dilation=dilation, groups=groups, bias=False
        )  # the grouped 3 x 3
        self.bn2 = norm_layer(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)  # expand
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class GroupedConvBlock(nn.Module):
    """Figure 3 (c): 1 x 1 conv to ``cardinality * width`` channels, a 3 x 3 conv in ``cardinality`` groups,
    1 x 1 conv back to ``channels``; ReLU after the first two; the input added at the end, then ReLU.
    (Batch norm is left out of all three forms: it does not change the argument.)"""

    def __init__(self, channels: int = 256, cardinality: int = 32, width: int = 4):
        super().__init__()
        channels = check_int("channels", channels, min_value=1)
        cardinality = check_int("cardinality", cardinality, min_value=1)
        width = check_int("width", width, min_value=1)
        inner = cardinality * width
        self.conv1 = nn.Conv2d(channels, inner, 1, bias=False)
        self.conv2 = nn.Conv2d(inner, inner, 3, padding=1, groups=cardinality, bias=False)
        self.conv3 = nn.Conv2d(inner, channels, 1, bias=False)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.conv1(x))
        out = self.relu(self.conv2(out))
        return self.relu(x + self.conv3(out))


class _Path(nn.Module):
    """One of Figure 3 (a)'s paths: 1 x 1 (channels -> width), 3 x 3 (width -> width), optional 1 x 1 back."""

    def __init__(self, channels: int, width: int, expand: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, width, 1, bias=False)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.conv3 = nn.Conv2d(width, channels, 1, bias=False) if expand else None
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.conv2(self.relu(self.conv1(x))))
        return self.conv3(out) if self.conv3 is not None else out


class AggregatedPaths(nn.Module):
    """Figure 3 (a): ``cardinality`` separate paths (1 x 1, 3 x 3, 1 x 1), each back to ``channels``,
    **summed**: ``x + sum_i T_i(x)``, then ReLU."""

    def __init__(self, channels: int = 256, cardinality: int = 32, width: int = 4):
        super().__init__()
        channels = check_int("channels", channels, min_value=1)
        cardinality = check_int("cardinality", cardinality, min_value=1)
        width = check_int("width", width, min_value=1)
        self.paths = nn.ModuleList(_Path(channels, width, expand=True) for _ in range(cardinality))
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(x + sum(path(x) for path in self.paths))


class EarlyConcatenation(nn.Module):
    """Figure 3 (b): the paths' 1 x 1 and 3 x 3 convolutions, their outputs **concatenated**, then one
    1 x 1 convolution back to ``channels``."""

    def __init__(self, channels: int = 256, cardinality: int = 32, width: int = 4):
        super().__init__()
        channels = check_int("channels", channels, min_value=1)
        cardinality = check_int("cardinality", cardinality, min_value=1)
        width = check_int("width", width, min_value=1)
        self.paths = nn.ModuleList(_Path(channels, width, expand=False) for _ in range(cardinality))
        self.conv3 = nn.Conv2d(cardinality * width, channels, 1, bias=False)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(x + self.conv3(torch.cat([path(x) for path in self.paths], dim=1)))


@torch.no_grad()
def figure3_forms(channels: int = 256, cardinality: int = 32, width: int = 4, seed: int = 0):
    """The three forms of Figure 3 with **the same weights**: ``(AggregatedPaths, EarlyConcatenation,
    GroupedConvBlock)``. The grouped block is initialized at random (``seed``); path ``i`` of the other
    two takes filters ``i * width ... (i + 1) * width - 1`` of its first two convolutions, and the
    matching input columns of its last one."""
    channels = check_int("channels", channels, min_value=1)
    cardinality = check_int("cardinality", cardinality, min_value=1)
    width = check_int("width", width, min_value=1)
    seed = check_int("seed", seed, min_value=0)
    with torch.random.fork_rng():  # leave the caller's random state alone
        torch.manual_seed(seed)
        grouped = GroupedConvBlock(channels, cardinality, width)
        paths = AggregatedPaths(channels, cardinality, width)
        concatenated = EarlyConcatenation(channels, cardinality, width)
    for i in range(cardinality):
        rows = slice(i * width, (i + 1) * width)
        for form in (paths, concatenated):
            form.paths[i].conv1.weight.copy_(grouped.conv1.weight[rows])
            form.paths[i].conv2.weight.copy_(grouped.conv2.weight[rows])
        paths.paths[i].conv3.weight.copy_(grouped.conv3.weight[:, rows])
    concatenated.conv3.weight.copy_(grouped.conv3.weight)
    return paths, concatenated, grouped


class SmallResNeXt(nn.Module):
    """A small ResNeXt for ``[N, 1, 16, 16]`` digits: a 3 x 3 stem to ``stem`` channels, two
    ``ResNeXtBottleneck`` blocks (``planes`` 16 then 32, the second with stride 2), global average
    pooling and a linear classifier. ``groups`` is the cardinality C, ``base_width`` torchvision's width
    per group (the block's grouped convolution has ``bottleneck_width(planes, base_width, groups)``
    channels)."""

    def __init__(
        self,
        groups: int = 1,
        base_width: int = 64,
        stem: int = 64,
        in_channels: int = 1,
        classes: int = 10,
        planes: Sequence[int] = (16, 32),
    ):
        super().__init__()
        self.groups = check_int("groups", groups, min_value=1)
        self.base_width = check_int("base_width", base_width, min_value=1)
        stem = check_int("stem", stem, min_value=1)
        self.stem = nn.Sequential(
            nn.Conv2d(check_int("in_channels", in_channels, min_value=1), stem, 3, padding=1, bias=False),
            nn.BatchNorm2d(stem),
            nn.ReLU(inplace=True),
        )
        check_type("planes", planes, (list, tuple), "a sequence of block widths such as (16, 32)")
        if not planes:
            raise ValueError("planes must hold at least one block width, got ()")
        blocks, inplanes = [], stem
        for index, block_planes in enumerate(planes):
            stride = 1 if index == 0 else 2
            out = block_planes * ResNeXtBottleneck.expansion
            downsample = None
            if stride != 1 or inplanes != out:
                downsample = nn.Sequential(nn.Conv2d(inplanes, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))
            blocks.append(ResNeXtBottleneck(inplanes, block_planes, stride, downsample, groups, base_width))
            inplanes = out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(inplanes, check_int("classes", classes, min_value=2))
        )

    def forward(self, x: Tensor) -> Tensor:
        check_type("x", x, Tensor, "a torch.Tensor [N, C, H, W]")
        if x.ndim != 4 or x.shape[1] != self.stem[0].in_channels:
            raise ValueError(f"x must have shape [N, {self.stem[0].in_channels}, H, W], got {list(x.shape)}")
        return self.head(self.blocks(self.stem(x)))


def matched_base_width(groups: int, budget: int, **options) -> int:
    """The ``base_width`` (width per group) whose ``SmallResNeXt(groups, base_width, **options)`` has the
    parameter count closest to ``budget``."""
    groups = check_int("groups", groups, min_value=1)
    budget = check_int("budget", budget, min_value=1)
    best, best_gap = None, None
    for base_width in range(1, 257):
        if bottleneck_width(min(options.get("planes", (16,))), base_width, groups) == 0:
            continue
        parameters = sum(p.numel() for p in SmallResNeXt(groups, base_width, **options).parameters())
        gap = abs(parameters - budget)
        if best_gap is None or gap < best_gap:
            best, best_gap = base_width, gap
        if parameters > budget:
            break
    return best
