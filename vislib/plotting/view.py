"""Views: plots that create their artists once and then only update them.

Redrawing a whole matplotlib figure (ticks, labels, text layout) costs tens
of milliseconds even for two small axes. A widget that must answer a slider
in under 50 ms therefore draws its static parts once and, on each change,
only updates the data of a few artists, which the widget then re-renders
over a cached background (blitting).

A view implements:

* ``setup(axes, state)``: create every artist for a first state and return
  the *dynamic* ones, those that change from state to state;
* ``update(state)``: bring all artists up to date with ``state`` (the
  dynamic ones, and the static ones that depend on ``background_key``);
* ``background_key(state)`` (optional): a hashable value; states with the
  same key share the same static picture (axis limits, labels, reference
  curves). The widget renders each key's background once, keeps it, and
  from then on only draws the dynamic artists over it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.image import AxesImage

__all__ = ["peak_normalized", "PixelImage", "pixel_image", "set_box", "View"]


class View:
    """Base class for plots that update in place (see the module docstring)."""

    def setup(self, axes, state: Any) -> Iterable[Artist]:
        raise NotImplementedError(f"{type(self).__name__} must implement setup(axes, state)")

    def update(self, state: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update(state)")

    def background_key(self, state: Any) -> Hashable:
        return None


class PixelImage(AxesImage):
    """An image of ``uint8`` RGBA pixels drawn by nearest-neighbour lookup, for a view's dynamic pictures.

    ``imshow`` resamples, normalizes and colour-maps every screen pixel on every draw (about 10 ms for a
    300 x 300-pixel picture at twice the pixel density); this image instead computes, once per placement
    on the screen, which data pixel each screen pixel shows, and then only indexes: ``A[rows][:, cols]``.
    Data must already be coloured (``[H, W, 4]`` ``uint8``); make one with :func:`pixel_image`.
    """

    def __init__(self, ax, **kwargs):
        super().__init__(ax, interpolation="nearest", **kwargs)
        self._lookup_key, self._lookup = None, None
        self._pixels = None

    def set_data(self, A) -> None:
        A = np.asarray(A)
        if A.dtype != np.uint8 or A.ndim != 3 or A.shape[2] != 4:
            raise ValueError(f"a PixelImage shows [H, W, 4] uint8 RGBA data, got {A.dtype} {A.shape}")
        super().set_data(A)
        # One uint32 per pixel, in a plain array: indexing matplotlib's masked uint8 copy costs 5-10x more.
        self._pixels = np.ascontiguousarray(A).view(np.uint32)[..., 0]

    def make_image(self, renderer, magnification=1.0, unsampled=False):
        transform = self.get_transform()
        if unsampled or magnification != 1.0 or not transform.is_affine:
            return super().make_image(renderer, magnification, unsampled)
        x1, x2, y1, y2 = self.get_extent()
        corners = transform.transform([[x1, y1], [x2, y2]])
        clip = (self.get_clip_box() or self.axes.bbox) if self.get_clip_on() else self.get_figure(root=True).bbox
        key = (self._A.shape[:2], self.origin, tuple(corners.ravel()), tuple(clip.extents))
        if key != self._lookup_key:
            self._lookup_key, self._lookup = key, _nearest_lookup(self._A.shape[:2], self.origin, corners, clip)
        if self._lookup is None:  # nothing of the image on the screen
            return None, 0, 0, None
        left, bottom, rows, cols = self._lookup
        pixels = np.take(np.take(self._pixels, rows, axis=0), cols, axis=1)
        return pixels.view(np.uint8).reshape(*pixels.shape, 4), left, bottom, None


def pixel_image(ax, rgba, **kwargs) -> PixelImage:
    """Add a :class:`PixelImage` of ``rgba`` (``[H, W, 4]`` ``uint8``) to ``ax``, as ``ax.imshow`` would place
    it (pixel centres at integer coordinates, row 0 at the top, equal aspect); returns the image."""
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    image = PixelImage(ax, **kwargs)
    image.set_data(rgba)
    height, width = image.get_size()
    image.set_extent((-0.5, width - 0.5, height - 0.5, -0.5))
    ax.add_image(image)
    ax.set_aspect("equal")
    return image


def set_box(patch, box) -> None:
    """Move a ``Rectangle`` patch onto an xyxy ``box`` (a view's update of a box it created in ``setup``)."""
    patch.set_bounds(box[0], box[1], box[2] - box[0], box[3] - box[1])


def peak_normalized(density: np.ndarray) -> np.ndarray:
    """A histogram scaled so its tallest bar is 1, so that every spread fits the same axes."""
    peak = float(np.max(density)) if density.size else 0.0
    return density / peak if peak > 0 else density


def _nearest_lookup(shape, origin: str, corners: np.ndarray, clip):
    """Which data row and column each screen pixel of an image shows: ``(left, bottom, rows, cols)`` with
    the screen rows from the bottom (placed and rounded as matplotlib places a resampled image), or ``None``
    when no pixel of the image is inside ``clip``."""
    height, width = shape
    (xa, ya), (xb, yb) = corners  # the screen positions of the extent's (x1, y1) and (x2, y2)
    left, right = max(min(xa, xb), clip.x0), min(max(xa, xb), clip.x1)
    bottom, top = max(min(ya, yb), clip.y0), min(max(ya, yb), clip.y1)
    if right <= left or top <= bottom or xa == xb or ya == yb:
        return None
    # Rounded to whole pixels as matplotlib rounds a resampled image (half up on the left, half down below).
    left, bottom = np.floor(left + 0.5), np.ceil(bottom - 0.5 - 1e-8)
    right, top = np.floor(right + 0.5 + 1e-8), np.ceil(top - 0.5)
    if right <= left or top <= bottom:
        return None
    columns, lines = int(right - left), int(top - bottom)
    x = left + np.arange(columns) + 0.5  # screen pixel centres, left to right
    y = bottom + np.arange(lines) + 0.5  # bottom to top (Agg's image rows)
    cols = np.floor((x - xa) / (xb - xa) * width)
    # Data row 0 sits at the extent's y2 with origin "upper", at its y1 with origin "lower".
    rows = np.floor((y - yb) / (ya - yb) * height) if origin == "upper" else np.floor((y - ya) / (yb - ya) * height)
    return (
        int(left),
        int(bottom),
        np.clip(rows, 0, height - 1).astype(np.intp),
        np.clip(cols, 0, width - 1).astype(np.intp),
    )
