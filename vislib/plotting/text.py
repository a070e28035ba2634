"""Text that redraws fast: :func:`cached_text` adds a :class:`CachedText` artist, which blits the pixels of
strings it has drawn before (for widgets that redraw a dozen numbers per move)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.text import Text

__all__ = ["cached_text", "CachedText"]


class CachedText(Text):
    """A ``Text`` that keeps the pixels of the strings it has drawn with Agg and blits them when it meets a
    string again.

    Matplotlib lays out and renders a string glyph by glyph in Python (about 1 ms for a short number), which
    would be most of a widget update with a dozen numbers on screen. The numbers here come from small sets
    (weights with two decimals, edge shifts in whole pixels), so after a few moves nearly every string is a
    cache hit: one image copy. Other renderers (PDF, SVG) draw the text normally.
    """

    _offscreen: dict = {}  # (width, height, dpi) -> a RendererAgg to render missing strings into

    def __init__(self, *args, cache: OrderedDict | None = None, cache_size: int = 512, **kwargs):
        super().__init__(*args, **kwargs)
        self._pixels = OrderedDict() if cache is None else cache  # may be shared by texts with the same bbox
        self._cache_size = cache_size

    def _key(self, renderer) -> tuple:
        return (
            self.get_text(),
            self.get_horizontalalignment(),
            self.get_verticalalignment(),
            self.get_color(),
            self.get_fontsize(),
            self.get_fontweight(),
            renderer.dpi,
            renderer.width,
            renderer.height,
        )

    def _anchor(self):
        return self.get_transform().transform(self.get_unitless_position())

    def draw(self, renderer):
        if not self.get_visible() or not self.get_text():
            return
        if type(renderer) is not RendererAgg:
            return super().draw(renderer)
        anchor = self._anchor()
        key = self._key(renderer)
        entry = self._pixels.get(key)
        if entry is None:
            entry = self._pixels[key] = self._render(renderer, anchor)
            while len(self._pixels) > self._cache_size:
                self._pixels.popitem(last=False)
        else:
            self._pixels.move_to_end(key)
        pixels, dx, dy = entry
        if pixels.size:
            gc = renderer.new_gc()
            renderer.draw_image(gc, round(anchor[0] + dx), round(anchor[1] + dy), pixels)
            gc.restore()

    def prerender(self, renderer, strings) -> None:
        """Render ``strings`` into the cache now (a widget does this once, before the first slider move)."""
        shown = self.get_text()
        try:
            for text in strings:
                self.set_text(text)
                key = self._key(renderer)
                if key not in self._pixels and len(self._pixels) < self._cache_size:
                    self._pixels[key] = self._render(renderer, self._anchor())
        finally:
            self.set_text(shown)

    def _render(self, renderer, anchor):
        """Draw the text alone onto a transparent canvas the size of the figure; crop it (with its box)."""
        size = (int(renderer.width), int(renderer.height), renderer.dpi)
        offscreen = self._offscreen.get(size)
        if offscreen is None:
            self._offscreen.clear()  # one figure size at a time
            offscreen = self._offscreen[size] = RendererAgg(*size)
        offscreen.clear()
        super().draw(offscreen)
        extent = self.get_window_extent(offscreen)
        patch = self.get_bbox_patch()
        if patch is not None:
            extent = type(extent).union([extent, patch.get_window_extent(offscreen)])
        width, height = size[:2]
        left, right = max(int(np.floor(extent.x0)) - 2, 0), min(int(np.ceil(extent.x1)) + 2, width)
        bottom, top = max(int(np.floor(extent.y0)) - 2, 0), min(int(np.ceil(extent.y1)) + 2, height)
        rows = slice(height - top, height - bottom) if top > bottom else slice(0, 0)
        # Agg's buffer starts with the top row; draw_image wants the bottom row first.
        pixels = np.asarray(offscreen.buffer_rgba())[rows, left : max(right, left)][::-1].copy()
        return pixels, left - anchor[0], bottom - anchor[1]


def cached_text(ax, x, y, text="", transform=None, **kwargs) -> CachedText:
    artist = CachedText(x, y, text, clip_on=False, **kwargs)
    artist.set_transform(ax.transAxes if transform is None else transform)
    ax.add_artist(artist)
    return artist
