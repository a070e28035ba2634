"""The channel-connectivity widget's state: which filter sees which input channel.

A convolution in ``G`` groups connects output channel ``o`` to input channel ``i`` only when both are in
the same group: its connectivity matrix ``[C_out, C_in]`` is block diagonal, with ``G`` blocks of
``C_out / G x C_in / G``. Two stacked grouped layers keep the groups apart (the product of two block
diagonal matrices is block diagonal): no information crosses between groups. ShuffleNet's channel shuffle
(arXiv 1707.01083) between them hands every group of the second layer channels from every group of the
first, and the composite connects (almost) everything to everything. All matrices are small NumPy
arrays, computed in well under a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vislib._validation import check_choice, check_int
from vislib.analysis.grouped_conv import ConvCounts, conv_counts

__all__ = [
    "LAYOUTS",
    "ConnectivityState",
    "GroupRow",
    "connectivity_matrix",
    "connectivity_state",
    "divisors",
    "group_table",
    "shuffle_permutation",
]

#: What the widget shows: one grouped layer, two stacked, or two with a channel shuffle between them.
LAYOUTS = ("one layer", "two layers", "two layers + shuffle")


def divisors(channels: int) -> list[int]:
    """The numbers of groups a layer with ``channels`` input and output channels can have."""
    channels = check_int("channels", channels, min_value=1)
    return [g for g in range(1, channels + 1) if channels % g == 0]


def connectivity_matrix(in_channels: int, out_channels: int, groups: int) -> np.ndarray:
    """``[out_channels, in_channels]`` booleans: True where the filter ``o`` reads the input channel ``i``."""
    in_channels = check_int("in_channels", in_channels, min_value=1)
    out_channels = check_int("out_channels", out_channels, min_value=1)
    groups = check_int("groups", groups, min_value=1)
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"groups={groups} must divide both the {in_channels} input channels and the {out_channels} filters"
        )
    in_group = np.arange(in_channels) // (in_channels // groups)
    out_group = np.arange(out_channels) // (out_channels // groups)
    return out_group[:, None] == in_group[None, :]


def shuffle_permutation(channels: int, groups: int) -> np.ndarray:
    """``source`` with ``shuffled[k] = x[source[k]]``: the channel shuffle of ``vislib.ops.grouped_conv``."""
    channels = check_int("channels", channels, min_value=1)
    groups = check_int("groups", groups, min_value=1)
    if channels % groups:
        raise ValueError(f"groups={groups} must divide the {channels} channels")
    return np.arange(channels).reshape(groups, channels // groups).T.reshape(-1)


@dataclass(frozen=True)
class ConnectivityState:
    channels: int
    groups: int
    layout: str
    first: np.ndarray  # [C, C] bool: layer 1's filters (rows) x input channels (columns)
    source: np.ndarray  # [C] int: layer 2's input k is layer 1's output source[k] (identity without shuffle)
    second: np.ndarray | None  # [C, C] bool: layer 2's filters x its input channels (after any shuffle)
    reach: np.ndarray  # [C, C] bool: final output channels x original input channels that reach them
    input_group: np.ndarray  # [C] int: the group of each original input channel
    counts: ConvCounts  # one grouped 3 x 3 layer on the slide's 32 x 32 map
    dense_counts: ConvCounts  # the same layer without groups
    table: tuple[GroupRow, ...]  # every possible number of groups for these channels and layout

    @property
    def layers(self) -> int:
        return 1 if self.second is None else 2

    @property
    def reached_fraction(self) -> float:
        """Mean share of the input channels that an output channel depends on."""
        return float(self.reach.mean())

    @property
    def groups_seen(self) -> int:
        """The most input groups any output channel depends on (1 means no information crosses groups)."""
        return int(max(len(np.unique(self.input_group[row])) for row in self.reach))

    @property
    def crosses_groups(self) -> bool:
        return self.groups > 1 and self.groups_seen > 1

    @property
    def saving(self) -> float:
        """How many times fewer parameters (and multiply-adds) than the dense layer."""
        return self.dense_counts.parameters / self.counts.parameters


def connectivity_state(
    channels: int = 16, groups: int = 4, layout: str = "one layer", size: int = 32, kernel_size: int = 3
) -> ConnectivityState:
    """The connectivity of ``channels -> channels`` grouped convolutions for the widget.

    ``layout`` is one of ``LAYOUTS``. ``counts`` are those of one ``kernel_size`` x ``kernel_size`` layer
    without bias on a ``size`` x ``size`` map (the slide's 32 x 32), per image.
    """
    channels = check_int("channels", channels, min_value=1, max_value=512)
    groups = check_int("groups", groups, min_value=1)
    if channels % groups:
        raise ValueError(f"groups={groups} must divide the {channels} channels; choose one of {divisors(channels)}")
    check_choice("layout", layout, LAYOUTS)
    first = connectivity_matrix(channels, channels, groups)
    input_group = np.arange(channels) // (channels // groups)
    source = shuffle_permutation(channels, groups) if layout == LAYOUTS[2] else np.arange(channels)
    second = None if layout == LAYOUTS[0] else first.copy()  # the second layer has the same groups
    reach, _ = _reach(channels, groups, layout)
    counts = conv_counts(channels, channels, kernel_size, groups, size, bias=False)
    dense = conv_counts(channels, channels, kernel_size, 1, size, bias=False)
    return ConnectivityState(
        channels,
        groups,
        layout,
        first,
        source,
        second,
        reach,
        input_group,
        counts,
        dense,
        group_table(channels, layout, size, kernel_size),
    )


@dataclass(frozen=True)
class GroupRow:
    """One line of the widget's table: a number of groups, its counts, and how far information spreads."""

    groups: int
    counts: ConvCounts
    reached_fraction: float
    groups_seen: int


@lru_cache(maxsize=64)
def group_table(channels: int, layout: str, size: int = 32, kernel_size: int = 3) -> tuple[GroupRow, ...]:
    """A ``GroupRow`` for every number of groups that divides ``channels``, from dense to depthwise."""
    rows = []
    for groups in divisors(channels):
        state = _reach(channels, groups, layout)
        rows.append(
            GroupRow(
                groups,
                conv_counts(channels, channels, kernel_size, groups, size, bias=False),
                float(state[0].mean()),
                state[1],
            )
        )
    return tuple(rows)


def _reach(channels: int, groups: int, layout: str) -> tuple[np.ndarray, int]:
    first = connectivity_matrix(channels, channels, groups)
    if layout == LAYOUTS[0]:
        reach = first
    else:
        # Layer 2's filter o reads its input k, which is layer 1's output source[k] (the shuffle), which reads
        # layer 1's inputs: reach = second @ first[source], both with the same groups.
        source = shuffle_permutation(channels, groups) if layout == LAYOUTS[2] else np.arange(channels)
        reach = (first.astype(np.int32) @ first[source].astype(np.int32)) > 0
    input_group = np.arange(channels) // (channels // groups)
    return reach, int(max(len(np.unique(input_group[row])) for row in reach))
