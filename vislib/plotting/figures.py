"""Creating figures that never leak, and turning them into PNG bytes.

Figures here are ``matplotlib.figure.Figure`` objects, not pyplot figures:
pyplot keeps every figure it makes alive until it is closed, so a widget
that made one per slider move would leak. A ``Figure`` is freed as soon as
nothing refers to it, and widgets reuse one figure for all their redraws.
"""

from __future__ import annotations

import io

import matplotlib as mpl
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vislib._validation import check_int, check_type


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize=None, squeeze: bool = True, **subplot_kw):
    """A fresh ``(figure, axes)`` pair drawn by the Agg renderer.

    ``axes`` is one ``Axes`` for a 1x1 grid, else a NumPy array of them (as
    with ``plt.subplots``; ``squeeze=False`` always gives a 2-D array).
    """
    nrows = check_int("nrows", nrows, min_value=1, max_value=8)
    ncols = check_int("ncols", ncols, min_value=1, max_value=8)
    figure = Figure(figsize=figsize or mpl.rcParams["figure.figsize"], layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, squeeze=squeeze, subplot_kw=subplot_kw or None)
    return figure, axes


def axes_list(axes) -> list:
    """The axes of a figure as a flat list, whatever shape they were made in."""
    return list(np.ravel(np.asarray(axes, dtype=object)))


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


def show(figure: Figure) -> None:
    """Display a figure as a PNG under the current cell (the same in every frontend)."""
    from IPython.display import Image, display

    display(Image(data=figure_to_png(figure)))
