"""The receptive-field widget's state (notebook 05): a stack (a preset of
:data:`vislib.analysis.receptive_field.PRESETS` with per-layer dilations edited), one output unit, its theoretical
field, the exact pixels that reach it (:func:`~vislib.analysis.receptive_field.input_support_2d`: gridding holes)
and its effective field measured by back-propagation (:func:`~vislib.analysis.receptive_field.gradient_map`),
which is cached per (stack, unit) in an ``lru_cache``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from vislib._validation import check_choice, check_int, check_type
from vislib.analysis import receptive_field as rf
from vislib.analysis.receptive_field import Layer, cached_gradient_map, mass_radius, with_dilations

__all__ = ["ReceptiveFieldExplorer", "ReceptiveFieldState"]


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
    :data:`vislib.analysis.receptive_field.PRESETS` by default), up to four dilation overrides for the stack's first
    conv layers (0 keeps the preset's), and a position in *input pixels*: the output unit whose field
    centre is nearest to ``(row, col)``. Everything is arithmetic (well under a millisecond) except the
    gradient map (a few milliseconds, then cached). ``warm_up`` pre-computes the presets' maps.
    """

    MAX_EDITS = 4
    #: A dilation override of 0 keeps the preset's own rate for that layer (the widget's "stack" choice).
    KEEP_PRESET_RATE = 0

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
        """The preset's layers with the dilation overrides applied (``KEEP_PRESET_RATE``, 0, keeps a layer's own)."""
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
        self,
        preset: str,
        d1: int = KEEP_PRESET_RATE,
        d2: int = KEEP_PRESET_RATE,
        d3: int = KEEP_PRESET_RATE,
        d4: int = KEEP_PRESET_RATE,
        row: int = 32,
        col: int = 32,
    ) -> ReceptiveFieldState:
        """The stack ``preset`` with the dilation of its conv layers 1..4 set to ``d1``..``d4``
        (``KEEP_PRESET_RATE``, 0, keeps the preset's own rate for that layer), and the output unit whose
        field centre is nearest to input pixel ``(row, col)``."""
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
