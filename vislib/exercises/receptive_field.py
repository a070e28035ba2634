"""Checkers for the receptive-field exercises (notebook 05)."""

from __future__ import annotations

from collections.abc import Callable

from vislib._validation import check_callable

__all__ = ["check_receptive_field_sizes", "receptive_field_sizes_oracle", "RECEPTIVE_FIELD_STACKS"]

# -- atrous convolution and receptive fields (notebook 05) ----------------------
RECEPTIVE_FIELD_STACKS = (
    [(3, 1, 1)],
    [(3, 1, 1)] * 4,
    [(3, 1, 2)] * 3,
    [(3, 1, 1), (3, 1, 2), (3, 1, 5)],
    [(3, 1, 1), (3, 1, 2), (3, 1, 4), (3, 1, 8)],
    [(3, 2, 1), (3, 1, 1), (3, 2, 1), (3, 1, 1)],
    [(7, 2, 1), (3, 2, 1), (3, 1, 1), (3, 1, 2), (3, 1, 4)],
    [(5, 1, 3), (2, 2, 1), (3, 3, 2), (1, 1, 1)],
    [(1, 1, 7), (3, 2, 1)],
)


def receptive_field_sizes_oracle(layers) -> list[int]:
    """Receptive-field size after each ``(kernel_size, stride, dilation)`` conv layer, from
    vislib.analysis.receptive_field."""
    from vislib.analysis.receptive_field import Layer, receptive_field

    return [info.size for info in receptive_field([Layer("conv", k, s, 0, d) for k, s, d in layers])]


def _rf_variant(layers, *, use_dilation=True, use_jump=True, jump_after=False, start=1):
    sizes, r, j = [], start, 1
    for k, s, d in layers:
        span = d * (k - 1) + 1 if use_dilation else k
        if jump_after:
            j *= s
        r += (span - 1) * (j if use_jump else 1)
        if not jump_after:
            j *= s
        sizes.append(r)
    return sizes


def check_receptive_field_sizes(receptive_field_sizes: Callable) -> int:
    """Check ``receptive_field_sizes(layers) -> list[int]`` (``layers``: ``(kernel_size, stride, dilation)``
    tuples) against :func:`vislib.analysis.receptive_field.receptive_field`. Returns the number of stacks checked."""
    check_callable("receptive_field_sizes", receptive_field_sizes)
    for layers in RECEPTIVE_FIELD_STACKS:
        expected = receptive_field_sizes_oracle(layers)
        got = receptive_field_sizes(list(layers))
        call = f"receptive_field_sizes({list(layers)})"
        try:
            got = [int(v) for v in got]
        except (TypeError, ValueError):
            raise AssertionError(f"{call} must return a list of ints (one size per layer), got {got!r}") from None
        if len(got) != len(expected):
            raise AssertionError(f"{call} returned {len(got)} sizes; return one per layer ({len(expected)}).")
        if got != expected:
            hints = [
                (
                    _rf_variant(layers, use_dilation=False),
                    "Did you forget the dilation? A dilated kernel spans d * (k - 1) + 1 pixels.",
                ),
                (
                    _rf_variant(layers, use_jump=False),
                    "Did you forget the jump? Each layer adds (k_eff - 1) times "
                    "the product of the strides of the layers BEFORE it.",
                ),
                (
                    _rf_variant(layers, jump_after=True),
                    "Multiply the jump by a layer's stride after adding that "
                    "layer's growth: its own stride does not widen its own kernel.",
                ),
                (_rf_variant(layers, start=0), "Start from r = 1 (a single input pixel), not 0."),
            ]
            hint = next((text for sizes, text in hints if sizes == got and sizes != expected), "")
            raise AssertionError(f"{call} returned {got}, expected {expected}. {hint}".strip())
    return len(RECEPTIVE_FIELD_STACKS)
