"""Pictures for atrous (dilated) convolution (notebook 05): where a dilated kernel samples on an image, and
how many of its taps fall inside a small feature map."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from vislib.plotting.receptive_field import FIELD_COLOR, HOLE_COLOR, UNIT_COLOR

__all__ = ["plot_sampling_positions", "plot_valid_taps"]


def plot_sampling_positions(
    ax, image: np.ndarray, rows: np.ndarray, cols: np.ndarray, dilation: int, kernel_size: int = 3
) -> None:
    """An image with the pixels one dilated kernel reads marked, and the span of the kernel outlined."""
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
    span = dilation * (kernel_size - 1) + 1
    ax.add_patch(
        Rectangle(
            (cols.min() - 0.5, rows.min() - 0.5),
            span,
            span,
            fill=False,
            edgecolor=FIELD_COLOR,
            linewidth=1.5,
            linestyle="--",
        )
    )
    ax.plot(cols, rows, "s", markersize=5, markerfacecolor=UNIT_COLOR, markeredgecolor="black", markeredgewidth=0.8)
    center = len(rows) // 2
    ax.plot(cols[center], rows[center], "s", markersize=7, markerfacecolor=HOLE_COLOR, markeredgecolor="black")
    ax.set_title(f"dilation {dilation}: {kernel_size}x{kernel_size} taps over {span}x{span} pixels")
    ax.set(xlabel="column (pixel)", ylabel="row (pixel)")
    ax.grid(False)


def plot_valid_taps(ax, sizes, rates, fractions: np.ndarray) -> None:
    """Share of a 3x3 kernel's taps inside the feature map, against the rate, one line per map size."""
    for size, row in zip(sizes, fractions):
        ax.plot(rates, row, "o-", label=f"{size} x {size} feature map")
    ax.axhline(1 / 9, color="0.5", linestyle=":", label="1 of 9 taps: the filter is 1x1")
    ax.set(
        xlabel="dilation rate",
        ylabel="valid taps / 9 (average over positions)",
        ylim=(0, 1.05),
        title="Large rates on small maps read mostly padding",
    )
    ax.legend(fontsize="small")
