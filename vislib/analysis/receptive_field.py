"""Receptive fields of convolution stacks: the arithmetic, the exact pixel set, and the gradient picture.

A unit of a convolutional feature map depends on a region of the input image, its *receptive field*. For a
stack of convolution / pooling layers (one path from input to output, the same layer along both axes) this
module answers three questions, each along one image axis and, as an outer product, in 2-D:

1. **How large is it, and where?** :func:`receptive_field` runs the recurrences of Araujo, Norris & Sim,
   "Computing Receptive Fields of Convolutional Neural Networks" (Distill 2019, doi 10.23915/distill.00021).
   With ``k_eff = dilation * (kernel_size - 1) + 1`` (a dilated kernel's span) and, before any layer,
   ``r_0 = 1, j_0 = 1, start_0 = 0``, each layer ``l`` gives

       r_l     = r_{l-1} + (k_eff_l - 1) * j_{l-1}      receptive field size, in input pixels
       j_l     = j_{l-1} * stride_l                     jump: input pixels between neighbouring units
       start_l = start_{l-1} - padding_l * j_{l-1}      left edge of output unit 0's field

   **Conventions.** Input pixels are numbered ``0 .. input_size - 1``. ``start`` is the input coordinate of
   the *first (left-most / top-most) pixel* of the field of output unit 0; it is negative when padding puts
   part of that field outside the image (``-start`` is Araujo et al.'s "effective padding"). Output unit
   ``i``'s field is the **half-open** interval ``[start + i * j, start + i * j + r)``, like ``range``, so
   ``stop - start == r``; its centre is ``start + i * j + (r - 1) / 2``. These numbers ignore the image
   border: they say where the field *would* be, and :func:`field_of_unit` does not clip them.

2. **Which pixels exactly?** :func:`input_support` propagates index sets backwards: output position ``p``
   of a layer reads the inputs ``p * stride - padding + i * dilation`` for ``i in range(kernel_size)``,
   those inside ``[0, size)`` (the others are zero padding). A stack of dilated convolutions can leave
   holes, the *gridding* problem: three 3x3 convolutions with dilation 2 reach only every other pixel of
   their 13-pixel field, while dilations (1, 2, 5) cover all 17 pixels of theirs (Wang et al. 2018,
   "Understanding Convolution for Semantic Segmentation", arXiv 1702.08502: hybrid dilated convolution).
   :func:`path_counts` counts the paths instead, which is what a linear stack with all-ones weights sums.

3. **Which pixels matter, and how much?** :func:`gradient_map` measures the *effective* receptive field of
   Luo, Li, Urtasun & Zemel, "Understanding the Effective Receptive Field in Deep Convolutional Neural
   Networks" (NeurIPS 2016, arXiv 1701.04128): the magnitude of the gradient of one output unit with
   respect to every input pixel, in a network built by :func:`build_stack`. With all-ones weights and no
   nonlinearity it is exactly the number of paths, so its non-zero pixels are exactly :func:`input_support`
   (the tests prove it); the counts pile up in the middle, roughly like a Gaussian, which is why the
   effective field is much smaller than the theoretical one.

Dilated ("atrous") convolutions grow the field exponentially with depth without losing resolution (Yu &
Koltun 2016, "Multi-Scale Context Aggregation by Dilated Convolutions", arXiv 1511.07122); DeepLabv3 and
DeepLabv3+ use them in the encoder and in the parallel branches of ASPP (Chen et al. 2017, arXiv 1706.05587;
Chen et al. 2018, arXiv 1802.02611). :data:`PRESETS` holds stacks for the lecture.

Everything here is numpy / torch only. For ten layers on a 128-pixel input :func:`receptive_field` takes
about 20 microseconds and :func:`input_support_2d` about 0.3 ms (2-core CPU), so a widget can call them on
every slider move; :func:`gradient_map` takes about 0.1 s (one channel) and is worth caching.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vislib._validation import check_choice, check_int, check_number, check_type
from vislib.ops.dilation import same_padding
from vislib.runtime import single_thread

__all__ = [
    "average_gradient_map",
    "build_stack",
    "cached_gradient_map",
    "conv",
    "field_of_unit",
    "field_of_unit_2d",
    "gradient_map",
    "IMAGES",
    "input_support",
    "input_support_2d",
    "Layer",
    "LAYER_KINDS",
    "mass_radius",
    "minimum_input_size",
    "output_size",
    "output_sizes",
    "path_counts",
    "pool",
    "POOLINGS",
    "PRESETS",
    "receptive_field",
    "RFInfo",
    "WEIGHTS",
    "with_dilations",
    "MAX_MAP_SIZE",
    "MAX_STACK_CHANNELS",
]

LAYER_KINDS = ("conv", "pool")
WEIGHTS = ("ones", "random")
POOLINGS = ("avg", "max")
#: The largest input side of the functions that build a map of the input (``input_support``, ``path_counts``,
#: ``input_support_2d``, ``gradient_map``, ``average_gradient_map``): a 4096 x 4096 float64 map is 128 MiB.
MAX_MAP_SIZE = 4096
#: The most channels of :func:`build_stack` (its float64 weights grow with channels squared).
MAX_STACK_CHANNELS = 512
IMAGES = ("random", "zeros")


# --------------------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """One convolution or pooling layer, the same along both image axes (square kernel, stride, ...).

    ``kind`` is ``"conv"`` or ``"pool"``; ``kernel_size``, ``stride``, ``padding`` and ``dilation`` mean
    what they mean for ``torch.nn.Conv2d`` / ``torch.nn.MaxPool2d``. Like torch, a pooling layer's
    ``padding`` may be at most ``kernel_size // 2``. ``name`` only labels the layer in plots and messages.
    """

    kind: str
    kernel_size: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    name: str = ""

    def __post_init__(self):
        check_choice("Layer.kind", self.kind, LAYER_KINDS)
        # Frozen dataclass: store the checked values (numpy integers become Python ints).
        object.__setattr__(self, "kernel_size", check_int("Layer.kernel_size", self.kernel_size, min_value=1))
        object.__setattr__(self, "stride", check_int("Layer.stride", self.stride, min_value=1))
        object.__setattr__(self, "padding", check_int("Layer.padding", self.padding, min_value=0))
        object.__setattr__(self, "dilation", check_int("Layer.dilation", self.dilation, min_value=1))
        check_type("Layer.name", self.name, str, "a string")
        if self.kind == "pool" and self.padding > self.kernel_size // 2:
            raise ValueError(
                f"Layer.padding of a pool layer must be at most kernel_size // 2 = "
                f"{self.kernel_size // 2} (as in torch), got {self.padding}"
            )

    @property
    def effective_kernel(self) -> int:
        """The span of the dilated kernel in input pixels: ``dilation * (kernel_size - 1) + 1``."""
        return self.dilation * (self.kernel_size - 1) + 1

    def describe(self) -> str:
        """A short label such as ``"'conv3' (conv 3x3, stride 1, padding 2, dilation 2)"``."""
        k = self.kernel_size
        text = f"{self.kind} {k}x{k}, stride {self.stride}, padding {self.padding}, dilation {self.dilation}"
        return f"{self.name!r} ({text})" if self.name else f"({text})"


def conv(kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1, name: str = "") -> Layer:
    """Shorthand for ``Layer("conv", ...)``."""
    return Layer("conv", kernel_size, stride, padding, dilation, name)


def pool(kernel_size: int, stride: int | None = None, padding: int = 0, name: str = "") -> Layer:
    """Shorthand for ``Layer("pool", ...)``; the stride defaults to the kernel size, as in torch."""
    return Layer("pool", kernel_size, kernel_size if stride is None else stride, padding, 1, name)


def _check_layers(layers) -> list[Layer]:
    check_type("layers", layers, (list, tuple), "a list of Layer")
    if not layers:
        raise ValueError("layers must hold at least one Layer, got an empty list")
    for i, layer in enumerate(layers):
        check_type(f"layers[{i}]", layer, Layer, "a Layer")
    return list(layers)


def _label(index: int, layer: Layer) -> str:
    return f"layer {index} {layer.describe()}"


# --------------------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------------------


def _output_size(input_size: int, layer: Layer, label: str) -> int:
    reach = input_size + 2 * layer.padding - layer.effective_kernel
    if reach < 0:
        raise ValueError(
            f"{label} needs an input of at least {layer.effective_kernel - 2 * layer.padding} "
            f"pixels (effective kernel {layer.effective_kernel}, padding {layer.padding} on "
            f"each side), got {input_size}"
        )
    return reach // layer.stride + 1


def output_size(input_size: int, layer: Layer) -> int:
    """The output length of ``layer`` for an input of ``input_size`` pixels, as torch computes it:

    floor((input_size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1
    """
    input_size = check_int("input_size", input_size, min_value=1)
    check_type("layer", layer, Layer, "a Layer")
    return _output_size(input_size, layer, f"layer {layer.describe()}")


def output_sizes(input_size: int, layers: Sequence[Layer]) -> list[int]:
    """The feature-map length after each layer (``len(layers)`` numbers) for an input of ``input_size``.

    Raises a ValueError naming the first layer whose input is too small, and the smallest input that works.
    """
    input_size = check_int("input_size", input_size, min_value=1)
    layers = _check_layers(layers)
    sizes, size = [], input_size
    for index, layer in enumerate(layers):
        try:
            size = _output_size(size, layer, _label(index, layer))
        except ValueError as error:
            raise ValueError(
                f"input_size {input_size} is too small for this stack (it needs at least "
                f"{minimum_input_size(layers)}): {error}"
            ) from None
        sizes.append(size)
    return sizes


def minimum_input_size(layers: Sequence[Layer]) -> int:
    """The smallest input length for which every layer of the stack has at least one output unit.

    Worked backwards: a layer needs ``(m - 1) * stride + k_eff - 2 * padding`` inputs for ``m`` outputs.
    """
    layers = _check_layers(layers)
    needed = 1
    for layer in reversed(layers):
        needed = max(1, (needed - 1) * layer.stride + layer.effective_kernel - 2 * layer.padding)
    return needed


# --------------------------------------------------------------------------------------------------------
# Receptive-field arithmetic (Araujo et al. 2019)
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RFInfo:
    """The receptive field after one layer, in input pixels along one axis (see the module docstring).

    ``size`` is Araujo et al.'s ``r``, ``jump`` their effective stride ``S`` (the product of the strides so
    far), ``start`` the first input pixel of output unit 0's field (``-start`` is their effective padding).
    """

    layer: Layer
    size: int
    jump: int
    start: int

    @property
    def stop(self) -> int:
        """One past the last pixel of output unit 0's field: ``[start, stop)`` holds ``size`` pixels."""
        return self.start + self.size

    @property
    def center(self) -> float:
        """The centre of output unit 0's field, ``start + (size - 1) / 2`` (a half-integer for even sizes)."""
        return self.start + (self.size - 1) / 2


def receptive_field(layers: Sequence[Layer]) -> list[RFInfo]:
    """Receptive field size, jump and start after each layer of ``layers`` (one :class:`RFInfo` per layer).

    Implements the recurrences of Araujo, Norris & Sim (Distill 2019) from ``r = 1, j = 1, start = 0``:
    ``r += (k_eff - 1) * j``, ``start -= padding * j``, then ``j *= stride``. The input size plays no part.
    """
    layers = _check_layers(layers)
    size, jump, start = 1, 1, 0
    infos = []
    for layer in layers:
        size += (layer.effective_kernel - 1) * jump
        start -= layer.padding * jump
        jump *= layer.stride
        infos.append(RFInfo(layer, size, jump, start))
    return infos


def field_of_unit(layers: Sequence[Layer], index: int, input_size: int | None = None) -> tuple[int, int]:
    """The half-open input interval ``(start, stop)`` of output unit ``index`` of the last layer, one axis.

    ``start = start_L + index * j_L`` and ``stop = start + r_L``; it is not clipped to the image, so it can
    begin below 0 or end past ``input_size`` (those pixels are padding). Give ``input_size`` to check that
    ``index`` is a unit the stack actually produces.
    """
    layers = _check_layers(layers)
    if input_size is None:
        index = check_int("index", index, min_value=0)
    else:
        index = check_int("index", index, min_value=0, max_value=output_sizes(input_size, layers)[-1] - 1)
    last = receptive_field(layers)[-1]
    start = last.start + index * last.jump
    return start, start + last.size


def field_of_unit_2d(
    layers: Sequence[Layer], unit: tuple[int, int], input_size: int | tuple[int, int] | None = None
) -> tuple[tuple[int, int], tuple[int, int]]:
    """``((row_start, row_stop), (col_start, col_stop))``: :func:`field_of_unit` for ``unit = (row, col)``."""
    row, col = _check_pair("unit", unit)
    height, width = (None, None) if input_size is None else _check_size_2d(input_size)
    if input_size is not None:
        for axis, (position, size) in enumerate(((row, height), (col, width))):
            units = output_sizes(size, layers)[-1]
            check_int(f"unit[{axis}]", position, max_value=units - 1)
    return field_of_unit(layers, row, height), field_of_unit(layers, col, width)


# --------------------------------------------------------------------------------------------------------
# The exact set of input pixels (gridding)
# --------------------------------------------------------------------------------------------------------


def _taps(positions: np.ndarray, layer: Layer) -> np.ndarray:
    """``[len(positions), kernel_size]`` input indices read by the given output positions (may be < 0)."""
    return positions[:, None] * layer.stride - layer.padding + np.arange(layer.kernel_size) * layer.dilation


def _check_unit(unit: int, size: int) -> int:
    unit = check_int("unit", unit, min_value=0)
    if unit >= size:
        raise ValueError(f"unit must be between 0 and {size - 1} (the last layer has {size} units), got {unit}")
    return unit


def input_support(layers: Sequence[Layer], input_size: int, unit: int) -> np.ndarray:
    """``bool[input_size]``: which input pixels reach output unit ``unit`` of the last layer, one axis.

    Starts from ``{unit}`` at the output and walks the layers backwards, replacing each position ``p`` by
    the inputs it reads, ``p * stride - padding + i * dilation`` for ``i in range(kernel_size)``, keeping
    those inside ``[0, size)``. Holes inside the field come from dilation (gridding) or from a stride
    larger than the kernel; pixels of the field outside the image were padding. The result can be all False
    (a unit that reads only padding).
    """
    layers = _check_layers(layers)
    check_int("input_size", input_size, min_value=1, max_value=MAX_MAP_SIZE)
    sizes = [check_int("input_size", input_size, min_value=1), *output_sizes(input_size, layers)]
    reached = np.zeros(sizes[-1], dtype=bool)
    reached[_check_unit(unit, sizes[-1])] = True
    for layer, size in zip(reversed(layers), reversed(sizes[:-1])):
        taps = _taps(np.flatnonzero(reached), layer).ravel()
        reached = np.zeros(size, dtype=bool)
        reached[taps[(taps >= 0) & (taps < size)]] = True
    return reached


def path_counts(layers: Sequence[Layer], input_size: int, unit: int) -> np.ndarray:
    """``float64[input_size]``: the number of paths from each input pixel to output unit ``unit``, one axis.

    The same backward walk as :func:`input_support`, but each tap adds its count instead of marking it.
    A linear stack of all-ones 1-D convolutions sums each pixel exactly this many times, so for ones-weight
    conv stacks :func:`gradient_map` equals ``np.outer(path_counts(rows), path_counts(cols))`` (Luo et al.
    2016: the counts pile up in the middle of the field). Exact while counts stay below 2**53.
    """
    layers = _check_layers(layers)
    check_int("input_size", input_size, min_value=1, max_value=MAX_MAP_SIZE)
    sizes = [check_int("input_size", input_size, min_value=1), *output_sizes(input_size, layers)]
    counts = np.zeros(sizes[-1])
    counts[_check_unit(unit, sizes[-1])] = 1.0
    for layer, size in zip(reversed(layers), reversed(sizes[:-1])):
        taps = _taps(np.arange(counts.size), layer)
        weights = np.broadcast_to(counts[:, None], taps.shape)
        inside = (taps >= 0) & (taps < size)
        counts = np.bincount(taps[inside], weights=weights[inside], minlength=size).astype(np.float64)
    return counts


def input_support_2d(layers: Sequence[Layer], input_size: int | tuple[int, int], unit: tuple[int, int]) -> np.ndarray:
    """``bool[H, W]``: the input pixels that reach output unit ``unit = (row, col)``.

    The layers act on rows and columns independently, so the 2-D set is the outer product of the 1-D sets.
    ``input_size`` is ``H`` for a square image or ``(H, W)``.
    """
    height, width = _check_size_2d(input_size, limit=MAX_MAP_SIZE)
    row, col = _check_pair("unit", unit)
    return np.outer(input_support(layers, height, row), input_support(layers, width, col))


def _check_pair(name: str, value) -> tuple[int, int]:
    check_type(name, value, (tuple, list), "a (row, col) pair")
    if len(value) != 2:
        raise ValueError(f"{name} must be a (row, col) pair, got {value!r}")
    return check_int(f"{name}[0]", value[0], min_value=0), check_int(f"{name}[1]", value[1], min_value=0)


def _check_size_2d(input_size, limit: int | None = None) -> tuple[int, int]:
    if isinstance(input_size, (tuple, list)):
        if len(input_size) != 2:
            raise ValueError(f"input_size must be an int or a (height, width) pair, got {input_size!r}")
        return (
            check_int("input_size[0]", input_size[0], min_value=1, max_value=limit),
            check_int("input_size[1]", input_size[1], min_value=1, max_value=limit),
        )
    size = check_int("input_size", input_size, min_value=1, max_value=limit)
    return size, size


# --------------------------------------------------------------------------------------------------------
# The effective receptive field, by back-propagation (Luo et al. 2016)
# --------------------------------------------------------------------------------------------------------


def build_stack(
    layers: Sequence[Layer],
    channels: int = 1,
    seed: int = 0,
    *,
    weights: str = "ones",
    relu: bool = False,
    pooling: str = "avg",
) -> nn.Sequential:
    """A ``torch.nn.Sequential`` of ``Conv2d`` / pooling layers matching ``layers``, in float64.

    Every convolution maps ``channels`` to ``channels`` channels, without bias (a bias does not change the
    gradient with respect to the input). ``weights="ones"`` sets every weight to 1, so a linear stack sums
    each input pixel once per path (:func:`path_counts`; float64 keeps those counts exact);
    ``weights="random"`` draws ``N(0, 2 / fan_in)`` weights (He initialization) from ``seed``.
    ``relu=True`` puts a ReLU after every convolution but the last.

    Pooling layers are ``nn.AvgPool2d`` by default: averaging is linear, so every pixel of the window gets
    gradient and the gradient support equals :func:`input_support`. ``pooling="max"`` uses ``nn.MaxPool2d``,
    which sends the gradient only to the largest input of each window (a sparser map). AvgPool2d has no
    dilation, so a dilated pool layer needs ``pooling="max"``.
    """
    layers = _check_layers(layers)
    channels = check_int("channels", channels, min_value=1, max_value=MAX_STACK_CHANNELS)
    generator = torch.Generator().manual_seed(check_int("seed", seed, min_value=0))
    check_choice("weights", weights, WEIGHTS)
    check_type("relu", relu, bool, "True or False")
    check_choice("pooling", pooling, POOLINGS)
    last_conv = max((i for i, layer in enumerate(layers) if layer.kind == "conv"), default=-1)
    modules: list[nn.Module] = []
    for index, layer in enumerate(layers):
        k, s, p, d = layer.kernel_size, layer.stride, layer.padding, layer.dilation
        if layer.kind == "conv":
            module = nn.Conv2d(channels, channels, k, stride=s, padding=p, dilation=d, bias=False, dtype=torch.float64)
            with torch.no_grad():
                if weights == "ones":
                    module.weight.fill_(1.0)
                else:
                    std = math.sqrt(2.0 / (channels * k * k))
                    module.weight.copy_(
                        torch.randn(module.weight.shape, generator=generator, dtype=torch.float64) * std
                    )
            modules.append(module)
            if relu and index < last_conv:
                modules.append(nn.ReLU())
        elif pooling == "max":
            modules.append(nn.MaxPool2d(k, stride=s, padding=p, dilation=d))
        else:
            if d != 1:
                raise ValueError(
                    f"{_label(index, layer)}: nn.AvgPool2d has no dilation; use pooling='max' or dilation 1"
                )
            modules.append(nn.AvgPool2d(k, stride=s, padding=p))
    return nn.Sequential(*modules)


def _input_channels(model: nn.Module) -> int:
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module.in_channels
    return 1


def gradient_map(
    model: nn.Module,
    input_size: int | tuple[int, int],
    unit: tuple[int, int],
    *,
    image: str = "random",
    seed: int = 0,
) -> np.ndarray:
    """``float64[H, W]``: how strongly each input pixel affects output unit ``unit = (row, col)``.

    The effective receptive field of Luo et al. (2016, arXiv 1701.04128): feed one image ``x`` of shape
    ``[1, C, H, W]`` (C = the first convolution's input channels), take the output at ``(row, col)`` summed
    over output channels, back-propagate, and return ``|d output / d x|`` summed over the input channels.

    ``image="random"`` (the default) feeds standard-normal pixels drawn from ``seed``; ``image="zeros"``
    feeds a black image. For a linear stack (no ReLU, average pooling) the gradient does not depend on the
    input at all; with ReLUs it does, and a zero input gives an all-zero map (torch's ReLU has gradient 0
    at 0), which is why the default is random. The model's parameters and their ``.grad`` are untouched.
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    height, width = _check_size_2d(input_size, limit=MAX_MAP_SIZE)
    row, col = _check_pair("unit", unit)
    check_choice("image", image, IMAGES)
    generator = torch.Generator().manual_seed(check_int("seed", seed, min_value=0))
    parameter = next(model.parameters(), None)
    dtype = torch.float64 if parameter is None else parameter.dtype
    device = torch.device("cpu") if parameter is None else parameter.device
    shape = (1, _input_channels(model), height, width)
    if image == "random":
        x = torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype=dtype, device=device)
    else:
        x = torch.zeros(shape, dtype=dtype, device=device)
    x.requires_grad_(True)
    with torch.enable_grad():
        try:
            output = model(x)
        except RuntimeError as error:
            raise ValueError(f"model cannot process an input of {height} x {width} pixels: {error}") from None
        out_height, out_width = output.shape[-2:]
        if row >= out_height or col >= out_width:
            raise ValueError(
                f"unit {(row, col)} is outside the model's output of {out_height} x {out_width} "
                f"units for an input of {height} x {width}"
            )
        (gradient,) = torch.autograd.grad(output[0, :, row, col].sum(), x)
    return gradient.detach().abs().sum(dim=1)[0].cpu().numpy().astype(np.float64)


# --------------------------------------------------------------------------------------------------------
# Stacks for the lecture
# --------------------------------------------------------------------------------------------------------


def _dilated(rates: Sequence[int], prefix: str = "conv") -> list[Layer]:
    """3x3 convolutions with the given dilation rates, padded (padding = rate) to keep the size."""
    return [conv(3, padding=rate, dilation=rate, name=f"{prefix}{i + 1} (d={rate})") for i, rate in enumerate(rates)]


def _vgg16_to_pool5() -> list[Layer]:
    layers = []
    for block, convs in enumerate((2, 2, 3, 3, 3), start=1):
        layers += [conv(3, padding=1, name=f"conv{block}_{i + 1}") for i in range(convs)]
        layers.append(pool(2, name=f"pool{block}"))
    return layers


#: Named stacks for the notebook and its widget (fresh lists: copy before editing them in place).
PRESETS: dict[str, list[Layer]] = {
    # Linear growth: every 3x3 layer adds 2 pixels.
    "plain 3x3 x4": [conv(3, padding=1, name=f"conv{i + 1}") for i in range(4)],
    # Strided 3x3 convolutions (output stride 8): each stride doubles how much later layers add.
    "strided encoder": [
        conv(3, stride=2, padding=1, name="conv1 (s=2)"),
        conv(3, padding=1, name="conv2"),
        conv(3, stride=2, padding=1, name="conv3 (s=2)"),
        conv(3, padding=1, name="conv4"),
        conv(3, stride=2, padding=1, name="conv5 (s=2)"),
        conv(3, padding=1, name="conv6"),
    ],
    # Doubling rates as in DeepLabv3's cascaded atrous blocks (arXiv 1706.05587, section 3.2):
    # exponential growth, full resolution, no holes.
    "DeepLab-style dilated tail": _dilated((1, 2, 4, 8)),
    # The gridding problem: only every other pixel of the 13-pixel field is ever read.
    "gridding (2, 2, 2)": _dilated((2, 2, 2)),
    # Hybrid dilated convolution (Wang et al. 2018): rates without a common factor fill the field.
    "hybrid (1, 2, 5)": _dilated((1, 2, 5)),
    # Yu & Koltun's context module (arXiv 1511.07122, table 1): fields 3, 5, 9, 17, 33, 65, 67, 67.
    "Yu-Koltun context module": [*_dilated((1, 1, 2, 4, 8, 16, 1)), conv(1, name="conv8 (1x1)")],
    # VGG-16's convolutional part: receptive field 212 pixels, stride 32 at pool5.
    "VGG-16 to pool5": _vgg16_to_pool5(),
}


# --------------------------------------------------------------------------- dilated stacks, measured


def with_dilations(layers: Sequence[Layer], dilations: Sequence[int | None]) -> list[Layer]:
    """A copy of ``layers`` in which conv layer ``i`` (counting convolutions only) gets ``dilations[i]``.

    ``None`` (or 0) keeps the layer's own dilation; extra entries beyond the stack's conv layers are ignored.
    A layer that was ``same``-padded (``padding == dilation * (k - 1) // 2``) stays ``same``-padded; other
    layers keep their padding.
    """
    layers = _check_layers(layers)
    check_type("dilations", dilations, (list, tuple), "a list of dilation rates (None keeps a layer's own)")
    edited, conv_index = [], 0
    for layer in layers:
        if layer.kind == "conv" and conv_index < len(dilations):
            wanted = dilations[conv_index]
            if wanted not in (None, 0):
                wanted = check_int(f"dilations[{conv_index}]", wanted, min_value=1)
                padding = layer.padding
                if layer.padding == same_padding(layer.kernel_size, layer.dilation):
                    padding = same_padding(layer.kernel_size, wanted)
                name = layer.name.split(" (d=")[0]
                layer = Layer(
                    "conv", layer.kernel_size, layer.stride, padding, wanted, f"{name} (d={wanted})" if name else ""
                )
        if layer.kind == "conv":
            conv_index += 1
        edited.append(layer)
    return edited


@functools.lru_cache(maxsize=64)
def _ones_stack(layers: tuple[Layer, ...]) -> torch.nn.Sequential:
    return build_stack(list(layers), channels=1, weights="ones")


@functools.lru_cache(maxsize=1024)
def cached_gradient_map(layers: tuple[Layer, ...], input_size: int, unit: tuple[int, int]) -> np.ndarray:
    """:func:`~vislib.analysis.receptive_field.gradient_map` of a 1-channel all-ones stack (read-only array), cached
    per ``(layers, input_size, unit)``: a few milliseconds the first time (one thread), a dictionary
    look-up afterwards."""
    with single_thread():
        gradient = gradient_map(_ones_stack(tuple(layers)), input_size, tuple(unit), image="zeros")
    gradient.setflags(write=False)
    return gradient


def average_gradient_map(
    layers: Sequence[Layer],
    input_size: int,
    unit: tuple[int, int],
    *,
    seeds: int = 8,
    channels: int = 4,
    relu: bool = True,
) -> np.ndarray:
    """``float64[H, W]``: Luo et al.'s effective receptive field of a randomly initialised network: the
    gradient magnitude of ``gradient_map`` averaged over ``seeds`` random (He-initialised) stacks with
    ``channels`` channels (ReLU between convolutions if ``relu``) and random input images."""
    seeds = check_int("seeds", seeds, min_value=1)
    total = np.zeros(_check_size_2d(input_size, limit=MAX_MAP_SIZE))
    for seed in range(seeds):
        model = build_stack(list(layers), channels=channels, seed=seed, weights="random", relu=relu)
        total += gradient_map(model, input_size, unit, image="random", seed=seed)
    return total / seeds


def mass_radius(weights: np.ndarray, center: tuple[float, float], fraction: float = 0.9) -> int:
    """The smallest ``k`` such that the square of side ``2k + 1`` centred on ``center`` (rounded down to a
    pixel) holds ``fraction`` of ``weights``' total: a size for the effective receptive field."""
    fraction = check_number("fraction", fraction, min_value=0.0, max_value=1.0)
    try:
        weights = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"weights must be a 2-D array of numbers, got {type(weights).__name__}") from error
    if weights.ndim != 2 or not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError(f"weights must be a 2-D map of finite, non-negative numbers, got shape {list(weights.shape)}")
    check_type("center", center, (tuple, list), "a (row, column) pair")
    if len(center) != 2:
        raise ValueError(f"center must be a (row, column) pair, got {center!r}")
    center = tuple(check_number(f"center[{i}]", c) for i, c in enumerate(center))
    total = weights.sum()
    if total <= 0:
        return 0
    rows, cols = np.indices(weights.shape)
    distance = np.maximum(np.abs(rows - math.floor(center[0])), np.abs(cols - math.floor(center[1])))
    mass = np.cumsum(np.bincount(distance.ravel(), weights=weights.ravel()))
    return int(np.searchsorted(mass, fraction * total - 1e-9 * total))
