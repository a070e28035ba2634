"""Pictures for grouped convolutions: the channel-connectivity view, the measured effect, ImageNet's curve."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgb
from matplotlib.patches import Rectangle
from matplotlib.path import Path

from vislib.plotting.style import OKABE_ITO
from vislib.plotting.view import View, pixel_image
from vislib.states.grouped_conv import LAYOUTS, ConnectivityState

__all__ = [
    "ConnectivityView",
    "group_colors",
    "plot_accuracy_by_groups",
    "plot_connectivity",
    "plot_ilsvrc_top5",
    "plot_time_against_multiply_adds",
]

#: Where the wiring diagram draws each column of channels (x).
_INPUTS, _LAYER1, _SHUFFLED, _LAYER2 = 0.0, 1.0, 1.5, 2.5


def group_colors(groups: int) -> np.ndarray:
    """``[groups, 3]`` RGB colours, one per group: the Okabe-Ito palette up to 7 groups, else a colour wheel."""
    if groups <= 7:
        return np.array([to_rgb(c) for c in OKABE_ITO[:groups]])
    return mpl.colormaps["hsv"](np.arange(groups) / groups)[:, :3] * 0.85


def _wires(matrix: np.ndarray, x_from: float, x_to: float, groups: int) -> list[Path]:
    """One compound path per group: a wire from input channel i at x_from to filter o at x_to for every True
    [o, i] of the group's filters (one path per group draws much faster than one line per wire)."""
    per_group = matrix.shape[0] // groups
    paths = []
    for g in range(groups):
        outputs, inputs = np.nonzero(matrix[g * per_group : (g + 1) * per_group])
        vertices = np.empty((2 * len(inputs), 2))
        vertices[0::2, 0], vertices[0::2, 1] = x_from, inputs
        vertices[1::2, 0], vertices[1::2, 1] = x_to, outputs + g * per_group
        codes = np.tile([Path.MOVETO, Path.LINETO], len(inputs)).astype(Path.code_type)
        paths.append(Path(vertices, codes))
    return paths


class ConnectivityView(View):
    """Left: the wiring diagram (input channels, layer 1's filters, the shuffle, layer 2's filters), each wire
    coloured by the group of the filter it feeds. Middle: which original input channels each final output
    depends on, coloured by the input channel's group. Right: a table of every possible number of groups
    (weights, multiply-adds, how much of the input each output sees), the current one highlighted.

    Everything that depends only on the channels and the layout (nodes, ticks, the table) is the cached
    background; a redraw draws the wires, the matrix and the highlight."""

    def setup(self, axes, state: ConnectivityState):
        self.wiring_ax, self.matrix_ax, self.table_ax = axes
        self.layer1 = PathCollection([], facecolors="none", linewidths=0.8, alpha=0.6)
        self.shuffle = LineCollection([], linewidths=0.8, colors="0.45")
        self.layer2 = PathCollection([], facecolors="none", linewidths=0.8, alpha=0.6)
        for collection in (self.layer1, self.shuffle, self.layer2):
            self.wiring_ax.add_collection(collection)
        self.nodes = self.wiring_ax.scatter([], [], s=12, color="black", zorder=3)
        self.wiring_ax.set_ylabel("channel index")
        self.wiring_ax.grid(False)
        self.image = pixel_image(self.matrix_ax, np.full((2, 2, 4), 255, np.uint8))
        self.matrix_ax.set(
            xlabel="input channel of the first layer",
            ylabel="output channel of the last layer",
            title="which inputs each output depends on\n(colour: the input's group)",
        )
        self.matrix_ax.grid(False)
        self.table_ax.set_axis_off()
        self.table_lines = [
            self.table_ax.text(
                0.0, 1.0, "", transform=self.table_ax.transAxes, va="top", family="monospace", fontsize="small"
            )
            for _ in range(2)
        ]
        self.highlight = Rectangle(
            (0, 0), 1, 1, transform=self.table_ax.transAxes, facecolor=OKABE_ITO[1], alpha=0.35, edgecolor="none"
        )
        self.table_ax.add_patch(self.highlight)
        self._key = None
        return [self.layer1, self.shuffle, self.layer2, self.image, self.highlight]

    def background_key(self, state: ConnectivityState):
        return state.channels, state.layout

    def update(self, state: ConnectivityState) -> None:
        if self.background_key(state) != self._key:  # the static parts: nodes, limits, ticks, the table
            self._key = self.background_key(state)
            self._draw_static(state)
        colors = group_colors(state.groups)
        self.layer1.set_paths(_wires(state.first, _INPUTS, _LAYER1, state.groups))
        self.layer1.set_edgecolor(colors)
        shuffled = state.layout == LAYOUTS[2]
        self.shuffle.set_segments(
            [((_LAYER1, s), (_SHUFFLED, k)) for k, s in enumerate(state.source)] if shuffled else []
        )
        if state.second is None:
            self.layer2.set_paths([])
        else:
            self.layer2.set_paths(_wires(state.second, _SHUFFLED if shuffled else _LAYER1, _LAYER2, state.groups))
            self.layer2.set_edgecolor(colors)
        picture = np.full((state.channels, state.channels, 4), 255, np.uint8)  # white: not reached
        reached = colors[np.broadcast_to(state.input_group, state.reach.shape)[state.reach]]
        picture[state.reach, :3] = np.round(np.asarray(reached)[:, :3] * 255)
        self.image.set_data(picture)
        self.image.set_extent((-0.5, state.channels - 0.5, state.channels - 0.5, -0.5))
        row = [r.groups for r in state.table].index(state.groups)
        top, height = self._row_geometry
        self.highlight.set_bounds(-0.02, top - (row + 1) * height, 1.04, height)

    def _draw_static(self, state: ConnectivityState) -> None:
        c = state.channels
        shuffled = state.layout == LAYOUTS[2]
        columns = [_INPUTS, _LAYER1] + ([_SHUFFLED] if shuffled else []) + ([] if state.second is None else [_LAYER2])
        labels = (
            ["input", "layer 1"] + (["shuffle"] if shuffled else []) + ([] if state.second is None else ["layer 2"])
        )
        self.nodes.set_offsets(np.array([(x, y) for x in columns for y in range(c)]))
        self.wiring_ax.set_xticks(columns, labels)
        self.wiring_ax.set(
            xlim=(-0.15, max(columns) + 0.15), ylim=(c - 0.5, -0.5), title=f"{state.layout}, {c} channels"
        )
        step = max(1, c // 8)
        self.wiring_ax.set_yticks(range(0, c, step))
        self.matrix_ax.set(xlim=(-0.5, c - 0.5), ylim=(c - 0.5, -0.5))
        self.matrix_ax.set_xticks(range(0, c, step))
        self.matrix_ax.set_yticks(range(0, c, step))
        header = (
            f"one 3x3 conv, {c} -> {c} channels,\n32 x 32 map, per image:\n\n"
            f"{'groups':>6} {'weights':>7} {'mult-adds':>10} {'sees':>5}"
        )
        rows = [
            f"{r.groups:>6} {r.counts.weights:>7,} {r.counts.multiply_adds:>10,} {r.reached_fraction:>5.0%}"
            for r in state.table
        ]
        self.table_lines[0].set_text(header)
        self.table_lines[1].set_text("\n".join(rows))
        # Rows are laid out by the text engine: one line is (line spacing x font size) points high.
        line = 1.2 * self.table_lines[1].get_fontsize() / 72 * self.table_ax.figure.dpi
        height = line / max(self.table_ax.bbox.height, 1.0)
        header_lines = header.count("\n") + 1
        top = 1.0 - header_lines * height - 0.02
        self.table_lines[1].set_position((0.0, top))
        self.table_ax.text(0.0, 0.0, "", transform=self.table_ax.transAxes)
        self._row_geometry = (top, height)
        note = "sees: share of the input channels\neach output depends on" + (
            "" if state.layout == LAYOUTS[0] else "\nafter both layers"
        )
        if not hasattr(self, "note"):
            self.note = self.table_ax.text(
                0.0, 0.02, "", transform=self.table_ax.transAxes, va="bottom", fontsize="small", color="0.35"
            )
        self.note.set_text(note)


def plot_connectivity(axes, state: ConnectivityState) -> None:
    """The widget's picture as a static figure (two axes)."""
    view = ConnectivityView()
    view.setup(axes, state)
    view.update(state)


def plot_accuracy_by_groups(ax, summaries: Sequence) -> None:
    """Test accuracy (mean and every seed) per number of groups, at matched parameters."""
    groups = [s.groups for s in summaries]
    positions = np.arange(len(groups))
    for x, s in zip(positions, summaries):
        ax.plot(
            np.full(len(s.accuracies), x),
            np.array(s.accuracies) * 100,
            "o",
            color=OKABE_ITO[5],
            alpha=0.7,
            label="one seed" if x == 0 else None,
        )
    ax.errorbar(
        positions,
        [s.mean * 100 for s in summaries],
        yerr=[s.spread * 100 for s in summaries],
        fmt="s",
        color=OKABE_ITO[0],
        capsize=5,
        markersize=8,
        label="mean ± std over seeds",
    )
    ax.set_xticks(positions, [f"{s.groups}\n({s.parameters / 1000:.1f}k params)" for s in summaries])
    ax.set(
        xlabel="groups in each 3×3 convolution (cardinality)",
        ylabel="test accuracy (%)",
        title="accuracy at about equal parameters",
    )
    ax.legend(loc="lower left", fontsize="small")


def plot_time_against_multiply_adds(axes, timings: Sequence) -> None:
    """Two panels for one layer measured at many numbers of groups: multiply-adds and time relative to dense
    (log-log), and the arithmetic throughput (multiply-adds per second)."""
    ax, throughput_ax = axes
    groups = np.array([t.groups for t in timings])
    operations = np.array([t.multiply_adds for t in timings], dtype=float)
    seconds = np.array([t.seconds for t in timings])
    ax.loglog(groups, operations / operations[0], "o-", color=OKABE_ITO[0], label="multiply-adds (÷ groups)")
    ax.loglog(groups, seconds / seconds[0], "s-", color=OKABE_ITO[3], label="measured time")
    ax.set_xticks(groups, [str(g) for g in groups])
    ax.minorticks_off()
    ax.set(xlabel="groups", ylabel="relative to the dense layer (groups = 1)", title="cost per forward pass")
    ax.legend(loc="lower left", fontsize="small")
    throughput_ax.semilogx(groups, operations / seconds / 1e9, "o-", color=OKABE_ITO[2])
    throughput_ax.set_xticks(groups, [str(g) for g in groups])
    throughput_ax.minorticks_off()
    throughput_ax.set(
        xlabel="groups", ylabel="billion multiply-adds per second", ylim=(0, None), title="arithmetic throughput"
    )


def plot_ilsvrc_top5(ax, rows: Sequence[dict]) -> None:
    """ImageNet (ILSVRC) top-5 error by year: the landmark entries joined by a line, the best entry without a
    CNN as a grey cross, the reported human error as a dashed line (rows of ``load_ilsvrc_top5``)."""
    entries = sorted((r for r in rows if r["kind"] == "entry"), key=lambda r: r["year"])
    years = np.array([r["year"] for r in entries])
    errors = np.array([r["top5_error_percent"] for r in entries])
    ax.plot(years, errors, "o-", color=OKABE_ITO[0], label="landmark entries (CNNs)")
    human_error = min((r["top5_error_percent"] for r in rows if r["kind"] == "human"), default=0.0)
    for row in entries:
        below = row["top5_error_percent"] < human_error  # label under the point, clear of the human line
        ax.annotate(
            f"{row['model']}\n{row['top5_error_percent']:g}%",
            (row["year"], row["top5_error_percent"]),
            textcoords="offset points",
            xytext=(6, -26 if below else 6),
            fontsize="small",
        )
    for row in (r for r in rows if r["kind"] == "baseline"):
        ax.plot(
            row["year"],
            row["top5_error_percent"],
            "x",
            color="0.4",
            markersize=9,
            mew=2,
            label=f"{row['model']} ({row['year']}): {row['top5_error_percent']:g}%",
        )
    for row in (r for r in rows if r["kind"] == "human"):
        ax.axhline(
            row["top5_error_percent"],
            color=OKABE_ITO[3],
            linestyle="--",
            label=f"{row['model']}: {row['top5_error_percent']:g}%",
        )
    highest = max(r["top5_error_percent"] for r in rows)
    ax.set(
        xlabel="year",
        ylabel="top-5 error (%)",
        ylim=(0, highest * 1.15),
        xlim=(years.min() - 0.5, years.max() + 1.2),
        title="ImageNet (ILSVRC) classification: top-5 test error",
    )
    ax.set_xticks(range(int(years.min()), int(years.max()) + 1))
    ax.legend(loc="upper right", fontsize="small")
