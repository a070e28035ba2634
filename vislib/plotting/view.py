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

__all__ = ["peak_normalized", "set_box", "View"]


class View:
    """Base class for plots that update in place (see the module docstring)."""

    def setup(self, axes, state: Any) -> Iterable[Artist]:
        raise NotImplementedError(f"{type(self).__name__} must implement setup(axes, state)")

    def update(self, state: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update(state)")

    def background_key(self, state: Any) -> Hashable:
        return None


def set_box(patch, box) -> None:
    """Move a ``Rectangle`` patch onto an xyxy ``box`` (a view's update of a box it created in ``setup``)."""
    patch.set_bounds(box[0], box[1], box[2] - box[0], box[3] - box[1])


def peak_normalized(density: np.ndarray) -> np.ndarray:
    """A histogram scaled so its tallest bar is 1, so that every spread fits the same axes."""
    peak = float(np.max(density)) if density.size else 0.0
    return density / peak if peak > 0 else density
