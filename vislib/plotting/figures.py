"""Creating figures that never leak, and turning them into PNG bytes.

Figures here are ``matplotlib.figure.Figure`` objects, not pyplot figures:
pyplot keeps every figure it makes alive until it is closed, so a widget
that made one per slider move would leak. A ``Figure`` is freed as soon as
nothing refers to it, and widgets reuse one figure for all their redraws.

Pictures are shown at their natural size: rendered at ``PIXEL_RATIO`` (2)
pixels per CSS pixel, so they stay crisp on HiDPI screens and projectors, and
displayed ``figure width x dpi`` CSS pixels wide, never stretched; a narrower
output area scales them down as a whole (``max-width: 100%; height: auto``).
"""

from __future__ import annotations

import io

import matplotlib as mpl
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vislib._validation import check_int, check_type
from vislib.plotting.style import PIXEL_RATIO, figure_scale

__all__ = [
    "axes_list",
    "canvas_to_image",
    "canvas_to_png",
    "css_size",
    "display_image",
    "figure_to_png",
    "new_figure",
    "show",
]


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize=None, squeeze: bool = True, **subplot_kw):
    """A fresh ``(figure, axes)`` pair drawn by the Agg renderer.

    ``axes`` is one ``Axes`` for a 1x1 grid, else a NumPy array of them (as
    with ``plt.subplots``; ``squeeze=False`` always gives a 2-D array). An
    explicit ``figsize`` grows with the style's fonts (:func:`~vislib.plotting.style.figure_scale`:
    1.6x in the projector style), so its text still fits.
    """
    nrows = check_int("nrows", nrows, min_value=1, max_value=8)
    ncols = check_int("ncols", ncols, min_value=1, max_value=8)
    if figsize is None:
        figsize = mpl.rcParams["figure.figsize"]
    else:
        scale = figure_scale()
        figsize = (figsize[0] * scale, figsize[1] * scale)
    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, squeeze=squeeze, subplot_kw=subplot_kw or None)
    return figure, axes


def axes_list(axes) -> list:
    """The axes of a figure as a flat list, whatever shape they were made in."""
    return list(np.ravel(np.asarray(axes, dtype=object)))


def css_size(figure: Figure, pixel_ratio: float = 1) -> tuple[int, int]:
    """The figure's natural display size in CSS pixels, ``(width, height)``, when its canvas is rendered
    at ``pixel_ratio`` pixels per CSS pixel."""
    width, height = figure.canvas.get_width_height(physical=True)
    return round(width / pixel_ratio), round(height / pixel_ratio)


def figure_to_png(figure: Figure, dpi: float | None = None) -> bytes:
    """Render ``figure`` with Agg and return the PNG bytes."""
    check_type("figure", figure, Figure, "a matplotlib Figure")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi or figure.dpi)
    return buffer.getvalue()


def canvas_to_png(figure: Figure) -> bytes:
    """The PNG bytes of what the figure's Agg canvas holds now, without drawing it again.

    Light compression: a widget's image is sent once and thrown away, so
    encoding speed matters more than a few kilobytes.
    """
    return canvas_to_image(figure, "png")


def canvas_to_image(figure: Figure, image_format: str = "png") -> bytes:
    """The canvas as PNG (exact; best for plots) or JPEG (several times faster for photos and noise)."""
    check_type("figure", figure, Figure, "a matplotlib Figure")
    width, height = figure.canvas.get_width_height(physical=True)
    # frombuffer reads the canvas's memory in place (a numpy slice would be copied twice, ~3x slower).
    rgba = PIL.Image.frombuffer("RGBA", (width, height), figure.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    if image_format == "png":
        rgba.save(buffer, format="PNG", compress_level=1)
    elif image_format == "jpeg":
        rgba.convert("RGB").save(buffer, format="JPEG", quality=92)
    else:
        raise ValueError(f"image_format must be 'png' or 'jpeg', got {image_format!r}")
    return buffer.getvalue()


def display_image(figure: Figure):
    """The figure as an ``IPython.display.Image`` rendered at ``PIXEL_RATIO`` and shown at its natural size."""
    from IPython.display import Image

    check_type("figure", figure, Figure, "a matplotlib Figure")
    width = round(figure.get_figwidth() * figure.dpi)
    return Image(data=figure_to_png(figure, dpi=figure.dpi * PIXEL_RATIO), width=width)


def show(figure: Figure) -> None:
    """Display a figure as a PNG under the current cell (the same in every frontend), crisp at its natural
    size."""
    from IPython.display import display

    display(display_image(figure))
