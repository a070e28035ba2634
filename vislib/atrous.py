"""Atrous (dilated) convolution: spaced inputs, zero-inserted kernels, output sizes, and the state of the
receptive-field explorer.

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
* :class:`ReceptiveFieldExplorer`: the state of the notebook's receptive-field widget: a stack (a preset of
  :data:`vislib.receptive_field.PRESETS` with per-layer dilations edited), one output unit, its theoretical
  field, the exact pixels that reach it (:func:`~vislib.receptive_field.input_support_2d`: gridding holes)
  and its effective field measured by back-propagation (:func:`~vislib.receptive_field.gradient_map`),
  which is cached per (stack, unit) in an ``lru_cache``.

numpy / torch only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from vislib import receptive_field as rf
from vislib._checks import check_choice, check_int, check_tensor, check_type
from vislib.receptive_field import Layer
from vislib.runtime import single_thread

# --------------------------------------------------------------------------------------------------------
# Spaced inputs
# --------------------------------------------------------------------------------------------------------


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
            f"a {kernel_size}x{kernel_size} kernel with dilation {dilation} spans {span} pixels, more "
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


# --------------------------------------------------------------------------------------------------------
# Stacks with edited dilations
# --------------------------------------------------------------------------------------------------------


def with_dilations(layers: Sequence[Layer], dilations: Sequence[int | None]) -> list[Layer]:
    """A copy of ``layers`` in which conv layer ``i`` (counting convolutions only) gets ``dilations[i]``.

    ``None`` (or 0) keeps the layer's own dilation; extra entries beyond the stack's conv layers are ignored.
    A layer that was ``same``-padded (``padding == dilation * (k - 1) // 2``) stays ``same``-padded; other
    layers keep their padding.
    """
    layers = rf._check_layers(layers)
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


# --------------------------------------------------------------------------------------------------------
# The effective receptive field, cached
# --------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _ones_stack(layers: tuple[Layer, ...]) -> torch.nn.Sequential:
    return rf.build_stack(list(layers), channels=1, weights="ones")


@functools.lru_cache(maxsize=1024)
def cached_gradient_map(layers: tuple[Layer, ...], input_size: int, unit: tuple[int, int]) -> np.ndarray:
    """:func:`~vislib.receptive_field.gradient_map` of a 1-channel all-ones stack (read-only array), cached
    per ``(layers, input_size, unit)``: a few milliseconds the first time (one thread), a dictionary
    look-up afterwards."""
    with single_thread():
        gradient = rf.gradient_map(_ones_stack(tuple(layers)), input_size, tuple(unit), image="zeros")
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
    total = np.zeros(rf._check_size_2d(input_size))
    for seed in range(seeds):
        model = rf.build_stack(list(layers), channels=channels, seed=seed, weights="random", relu=relu)
        total += rf.gradient_map(model, input_size, unit, image="random", seed=seed)
    return total / seeds


def mass_radius(weights: np.ndarray, center: tuple[float, float], fraction: float = 0.9) -> int:
    """The smallest ``k`` such that the square of side ``2k + 1`` centred on ``center`` (rounded down to a
    pixel) holds ``fraction`` of ``weights``' total: a size for the effective receptive field."""
    weights = np.asarray(weights, dtype=np.float64)
    total = weights.sum()
    if total <= 0:
        return 0
    rows, cols = np.indices(weights.shape)
    distance = np.maximum(np.abs(rows - math.floor(center[0])), np.abs(cols - math.floor(center[1])))
    mass = np.cumsum(np.bincount(distance.ravel(), weights=weights.ravel()))
    return int(np.searchsorted(mass, fraction * total - 1e-9 * total))


# --------------------------------------------------------------------------------------------------------
# The receptive-field explorer (the widget's state)
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceptiveFieldState:
    """Everything the receptive-field widget draws for one stack and one output unit.

    Attributes:
        preset (str): the stack's name; ``layers``: the edited stack.
        unit (tuple): the output unit ``(row, col)`` of the last layer; ``output_size``: that layer's size.
        field (tuple): ``((row_start, row_stop), (col_start, col_stop))``, half-open, unclipped.
        size, jump (int): the theoretical receptive field and the stack's total stride, in input pixels.
        support (bool[H, W]): the input pixels that reach the unit.
        gradient (float64[H, W]): ``|d unit / d input|`` of the all-ones stack (number of paths).
        field_pixels (int): pixels of the field inside the image; ``reached``: how many of them reach the unit.
        effective_size (int): side of the centred square holding 90 % of the gradient.
        center (tuple): the field's centre ``(row, col)`` in input pixels.
    """

    preset: str
    layers: tuple[Layer, ...]
    unit: tuple[int, int]
    output_size: int
    field: tuple[tuple[int, int], tuple[int, int]]
    size: int
    jump: int
    support: np.ndarray
    gradient: np.ndarray
    field_pixels: int
    reached: int
    effective_size: int
    center: tuple[float, float]

    @property
    def holes(self) -> int:
        """Pixels inside the field (and the image) that never reach the unit: gridding."""
        return self.field_pixels - self.reached

    @property
    def dilations(self) -> tuple[int, ...]:
        return tuple(layer.dilation for layer in self.layers if layer.kind == "conv")


class ReceptiveFieldExplorer:
    """The state function of the receptive-field widget, on an ``input_size x input_size`` input.

    ``explorer.state(preset, d1, d2, d3, d4, row, col)`` takes a preset name (a key of ``presets``,
    :data:`vislib.receptive_field.PRESETS` by default), up to four dilation overrides for the stack's first
    conv layers (0 keeps the preset's), and a position in *input pixels*: the output unit whose field
    centre is nearest to ``(row, col)``. Everything is arithmetic (well under a millisecond) except the
    gradient map (a few milliseconds, then cached). ``warm_up`` pre-computes the presets' maps.
    """

    MAX_EDITS = 4

    def __init__(self, input_size: int = 64, presets: Mapping[str, Sequence[Layer]] | None = None):
        self.input_size = check_int("input_size", input_size, min_value=8, max_value=512)
        presets = rf.PRESETS if presets is None else presets
        check_type("presets", presets, Mapping, "a mapping {name: list of Layer}")
        self.presets = {name: tuple(rf._check_layers(list(layers))) for name, layers in presets.items()}
        if not self.presets:
            raise ValueError("presets must hold at least one stack")
        for name, layers in self.presets.items():
            needed = rf.minimum_input_size(list(layers))
            if needed > self.input_size:
                raise ValueError(
                    f"preset {name!r} needs an input of at least {needed} pixels, "
                    f"more than input_size {self.input_size}"
                )

    def stack(self, preset: str, dilations: Sequence[int] = ()) -> tuple[Layer, ...]:
        """The preset's layers with the dilation overrides applied (0 keeps a layer's own)."""
        check_choice("preset", preset, list(self.presets))
        return tuple(with_dilations(self.presets[preset], list(dilations)))

    def unit_at(self, layers: Sequence[Layer], row: int, col: int) -> tuple[tuple[int, int], int]:
        """The output unit whose field centre is nearest to input pixel ``(row, col)``, and the output size."""
        out = rf.output_sizes(self.input_size, list(layers))[-1]
        last = rf.receptive_field(list(layers))[-1]

        def nearest(position):
            return int(min(out - 1, max(0, round((position - last.center) / last.jump))))

        return (nearest(row), nearest(col)), out

    def state(
        self, preset: str, d1: int = 0, d2: int = 0, d3: int = 0, d4: int = 0, row: int = 32, col: int = 32
    ) -> ReceptiveFieldState:
        row = check_int("row", row, min_value=0, max_value=self.input_size - 1)
        col = check_int("col", col, min_value=0, max_value=self.input_size - 1)
        layers = self.stack(preset, (d1, d2, d3, d4))
        try:
            unit, out = self.unit_at(layers, row, col)
        except ValueError as error:
            raise ValueError(f"these dilations do not fit a {self.input_size}-pixel input: {error}") from None
        last = rf.receptive_field(list(layers))[-1]
        field = rf.field_of_unit_2d(list(layers), unit)
        support = rf.input_support_2d(list(layers), self.input_size, unit)
        gradient = cached_gradient_map(layers, self.input_size, unit)
        (r0, r1), (c0, c1) = field
        clip = lambda a: min(max(a, 0), self.input_size)  # noqa: E731
        rows, cols = slice(clip(r0), clip(r1)), slice(clip(c0), clip(c1))
        field_pixels = (rows.stop - rows.start) * (cols.stop - cols.start)
        center = (r0 + (last.size - 1) / 2, c0 + (last.size - 1) / 2)
        return ReceptiveFieldState(
            preset=preset,
            layers=layers,
            unit=unit,
            output_size=out,
            field=field,
            size=last.size,
            jump=last.jump,
            support=support,
            gradient=gradient,
            field_pixels=field_pixels,
            reached=int(support[rows, cols].sum()),
            effective_size=2 * mass_radius(gradient, center) + 1,
            center=center,
        )

    def warm_up(self, row: int | None = None, col: int | None = None) -> None:
        """Compute and cache the gradient map of every preset for the unit at ``(row, col)`` (default: the
        image centre)."""
        middle = self.input_size // 2
        for preset in self.presets:
            self.state(preset, row=middle if row is None else row, col=middle if col is None else col)


def astronaut_image(size: int = 64, crop: tuple[int, int, int] | None = (20, 110, 288)) -> np.ndarray:
    """``float64[size, size]`` in [0, 1]: scikit-image's bundled astronaut photo (Eileen Collins, NASA; no
    download), grey, cropped to ``crop = (top, left, side)`` (her head by default) and resized."""
    from skimage import data
    from skimage.color import rgb2gray
    from skimage.transform import resize

    size = check_int("size", size, min_value=4, max_value=512)
    image = rgb2gray(data.astronaut())
    if crop is not None:
        top, left, side = crop
        image = image[top : top + side, left : left + side]
    return resize(image, (size, size), anti_aliasing=True)
