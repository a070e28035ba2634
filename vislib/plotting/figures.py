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
import struct
import zlib

import matplotlib as mpl
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vislib._validation import check_int, check_type
from vislib.plotting.style import PIXEL_RATIO, figure_scale

try:  # ISA-L's deflate: the same zlib stream, several times faster than zlib's fastest level
    from isal import isal_zlib as _deflate
except ImportError:  # pragma: no cover - isal is a dependency; zlib is the slower fallback
    _deflate = zlib

__all__ = [
    "axes_list",
    "canvas_to_image",
    "canvas_to_png",
    "css_size",
    "display_image",
    "figure_to_png",
    "new_figure",
    "rgba_to_png",
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
    """The canvas as PNG (exact; best for plots) or JPEG (for figures that show photos or noise).

    The PNG is written by :func:`rgba_to_png`: no per-row filters and ISA-L's fast deflate, several times
    faster than Pillow's encoder on a widget's canvas (about 10 ms instead of 50-100 ms for 2 megapixels)."""
    check_type("figure", figure, Figure, "a matplotlib Figure")
    width, height = figure.canvas.get_width_height(physical=True)
    if image_format == "png":
        return rgba_to_png(np.asarray(figure.canvas.buffer_rgba()))
    if image_format != "jpeg":
        raise ValueError(f"image_format must be 'png' or 'jpeg', got {image_format!r}")
    # frombuffer reads the canvas's memory in place (a numpy slice would be copied twice, ~3x slower).
    rgba = PIL.Image.frombuffer("RGBA", (width, height), figure.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    rgba.convert("RGB").save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def rgba_to_png(rgba: np.ndarray) -> bytes:
    """A ``[H, W, 4]`` ``uint8`` RGBA array as PNG bytes, exactly (lossless), written for speed.

    Every row uses PNG's filter 0 (none): Pillow chooses a filter per row by trying them all, which costs
    more than the compression itself, while a figure's flat backgrounds compress well unfiltered. The
    rows go through a fast deflate (ISA-L's, when the ``isal`` package is there; else zlib's level 1)."""
    rgba = np.asarray(rgba)
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4 or 0 in rgba.shape:
        raise ValueError(f"rgba must be a non-empty [H, W, 4] uint8 array, got {rgba.dtype} {rgba.shape}")
    height, width, _ = rgba.shape
    rows = np.empty((height, 1 + 4 * width), np.uint8)
    rows[:, 0] = 0  # each row starts with its filter type: none
    rows[:, 1:] = rgba.reshape(height, 4 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits per channel, RGBA
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", _deflate.compress(rows, 1)),
            _png_chunk(b"IEND", b""),
        )
    )


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


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
