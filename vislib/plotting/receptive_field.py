"""Pictures for receptive fields (notebook 05): the receptive-field explorer's view (theoretical field, exact
pixel set, gradient map) and gradient maps."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize, to_rgba
from matplotlib.patches import Rectangle

from vislib.plotting.style import OKABE_ITO
from vislib.plotting.view import View, pixel_image

__all__ = ["FIELD_COLOR", "HOLE_COLOR", "plot_gradient_map", "ReceptiveFieldView", "SUPPORT_COLOR", "UNIT_COLOR"]

FIELD_COLOR = OKABE_ITO[1]  # the theoretical receptive field (rectangle)


SUPPORT_COLOR = OKABE_ITO[5]  # pixels that reach the unit


HOLE_COLOR = OKABE_ITO[3]  # pixels of the field that do not (gridding)


UNIT_COLOR = OKABE_ITO[6]


def _support_rgba(support: np.ndarray, field, size: int) -> np.ndarray:
    """Reached pixels tinted, field pixels that are not reached (holes) marked, the rest transparent
    (``uint8`` RGBA, for a :class:`~vislib.plotting.view.PixelImage`)."""
    rgba = np.zeros((*support.shape, 4), dtype=np.uint8)
    rgba[support] = _SUPPORT_RGBA
    (r0, r1), (c0, c1) = field
    inside = np.zeros_like(support)
    inside[max(r0, 0) : max(min(r1, size), 0), max(c0, 0) : max(min(c1, size), 0)] = True
    rgba[inside & ~support] = _HOLE_RGBA
    return rgba


def _gradient_rgba(gradient: np.ndarray) -> np.ndarray:
    """The gradient map normalized to its maximum and coloured with magma (``uint8`` RGBA, 256 levels)."""
    peak = gradient.max()
    levels = np.clip(gradient / peak if peak > 0 else gradient, 0.0, 1.0)
    return _MAGMA[(levels * 255).round().astype(np.intp)]


_SUPPORT_RGBA = (np.array(to_rgba(SUPPORT_COLOR, 0.55)) * 255).round().astype(np.uint8)
_HOLE_RGBA = (np.array(to_rgba(HOLE_COLOR, 0.55)) * 255).round().astype(np.uint8)
_MAGMA = (colormaps["magma"](np.linspace(0.0, 1.0, 256)) * 255).round().astype(np.uint8)


class ReceptiveFieldView(View):
    """Left: the input image with the theoretical field (rectangle), the pixels that reach the unit (tinted)
    and the holes (red); right: the gradient magnitude of the unit (effective receptive field).

    Static per preset (the background key): the image, axes, titles, colour bar and legend. Dynamic: two
    64 x 64 images, a few rectangles and markers, and one line of numbers.
    """

    def __init__(self, image: np.ndarray):
        self.image = image

    def setup(self, axes, state):
        self.image_ax, self.gradient_ax = axes
        size = self.image.shape[0]
        self.image_ax.imshow(self.image, cmap="gray", vmin=0, vmax=1)
        # PixelImages (coloured here, drawn by lookup): a move redraws them without imshow's resampling.
        self.support = pixel_image(self.image_ax, np.zeros((size, size, 4), dtype=np.uint8))
        self.gradient = pixel_image(self.gradient_ax, _gradient_rgba(np.zeros((size, size))))
        self.gradient_ax.figure.colorbar(
            ScalarMappable(Normalize(0, 1), "magma"),
            ax=self.gradient_ax,
            fraction=0.046,
            pad=0.03,
            label="|gradient| / maximum",
        )
        self.rectangles = [
            ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=FIELD_COLOR, linewidth=2)) for ax in axes
        ]
        self.effective = self.gradient_ax.add_patch(
            Rectangle((0, 0), 1, 1, fill=False, edgecolor="white", linewidth=1.2, linestyle="--")
        )
        self.units = [ax.plot([], [], "+", color=UNIT_COLOR, markersize=12, markeredgewidth=2)[0] for ax in axes]
        for ax in axes:
            ax.set(xlim=(-0.5, size - 0.5), ylim=(size - 0.5, -0.5), xlabel="column (input pixel)")
            ax.grid(False)
        self.image_ax.set_ylabel("row (input pixel)")
        self.image_title = self.image_ax.set_title(" ", fontsize="small")
        self.gradient_ax.set_title("effective field: |∂ unit / ∂ pixel|, ones weights", fontsize="small")
        handles = [
            Rectangle((0, 0), 1, 1, fill=False, edgecolor=FIELD_COLOR, linewidth=2, label="theoretical field"),
            Rectangle((0, 0), 1, 1, color=SUPPORT_COLOR, alpha=0.6, label="pixels that reach the unit"),
            Rectangle((0, 0), 1, 1, color=HOLE_COLOR, alpha=0.6, label="holes (never read)"),
            Rectangle((0, 0), 1, 1, fill=False, edgecolor="0.3", linestyle="--", label="90 % of the gradient"),
        ]
        figure = self.image_ax.figure
        figure.legend(handles=handles, loc="outside lower center", ncol=4, fontsize="small")
        self.numbers = figure.suptitle(" ", fontsize="small")
        return [self.support, self.gradient, *self.rectangles, self.effective, *self.units, self.numbers]

    def background_key(self, state):
        return state.preset

    def update(self, state) -> None:
        size = self.image.shape[0]
        (r0, r1), (c0, c1) = state.field
        self.image_title.set_text(f"{state.preset} on a {size} x {size} input")  # static: part of the background
        self.support.set_data(_support_rgba(state.support, state.field, size))
        self.gradient.set_data(_gradient_rgba(state.gradient))
        for rectangle in self.rectangles:
            rectangle.set_bounds(c0 - 0.5, r0 - 0.5, c1 - c0, r1 - r0)
        half = (state.effective_size - 1) / 2
        cr, cc = np.floor(state.center[0]), np.floor(state.center[1])
        self.effective.set_bounds(cc - half - 0.5, cr - half - 0.5, state.effective_size, state.effective_size)
        for unit in self.units:
            unit.set_data([state.center[1]], [state.center[0]])
        dilations = ",".join(str(d) for d in state.dilations)
        # One short line: text layout is the slowest thing this view draws.
        self.numbers.set_text(
            f"d=({dilations}) | unit {state.unit} | field {state.size}, jump {state.jump} | "
            f"{state.reached}/{state.field_pixels} reached, {state.holes} holes | "
            f"90 % in {state.effective_size}"
        )


def plot_gradient_map(ax, gradient: np.ndarray, field, title: str) -> None:
    """A gradient map (normalized to its maximum) with the theoretical field outlined."""
    peak = gradient.max()
    image = ax.imshow(gradient / peak if peak > 0 else gradient, cmap="magma", vmin=0, vmax=1, interpolation="nearest")
    (r0, r1), (c0, c1) = field
    ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False, edgecolor=FIELD_COLOR, linewidth=2))
    ax.set(title=title, xlabel="column (input pixel)", ylabel="row (input pixel)")
    ax.grid(False)
    return image
