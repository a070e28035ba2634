"""Figure styles: a readable default and a projector style for the lecture hall.

``projector_style()`` is the one call a lecturer makes: large fonts, thick
lines and the Okabe-Ito palette, which stays distinguishable for the common
forms of colour blindness and on washed-out projectors. The canvas grows with
the fonts (:func:`figure_scale`), so nothing is clipped, and widgets' controls
grow with them too (:func:`controls_css`).

Every notebook's set-up cell calls :func:`default_style`, which honours the
environment variable ``VISLIB_STYLE``: ``VISLIB_STYLE=projector make lab``
turns every notebook into its projector version without editing one.
"""

from __future__ import annotations

import os

import matplotlib as mpl
from cycler import cycler

__all__ = [
    "controls_css",
    "default_style",
    "figure_scale",
    "is_projector_style",
    "OKABE_ITO",
    "PIXEL_RATIO",
    "PROJECTOR_SCALE",
    "projector_style",
    "ROLE_COLORS",
    "STYLE_VARIABLE",
]

#: Okabe & Ito (2008), "Color Universal Design": safe for colour-blind viewers.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Colours with a fixed meaning across all notebooks.
ROLE_COLORS = {
    "ground_truth": OKABE_ITO[2],
    "prediction": OKABE_ITO[0],
    "true_positive": OKABE_ITO[2],
    "false_positive": OKABE_ITO[3],
    "false_negative": OKABE_ITO[1],
    "with_batchnorm": OKABE_ITO[0],
    "without_batchnorm": OKABE_ITO[3],
}

_COMMON = {
    "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.cmap": "viridis",
    "figure.constrained_layout.use": True,
    # Opaque white pictures: legible in JupyterLab's dark theme too.
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
}

#: Widgets and ``show`` render at this many pixels per CSS pixel: crisp on HiDPI screens and projectors.
PIXEL_RATIO = 2

#: How much larger the projector style's canvas is than the default's (about its font-size ratio).
PROJECTOR_SCALE = 1.6

#: The environment variable that picks the style of :func:`default_style`.
STYLE_VARIABLE = "VISLIB_STYLE"

_DEFAULT = {
    **_COMMON,
    "figure.figsize": (8.0, 4.0),
    "figure.dpi": 80,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "lines.linewidth": 1.8,
    "lines.markersize": 6,
}

_PROJECTOR = {
    **_COMMON,
    "figure.figsize": (8.0 * PROJECTOR_SCALE, 4.0 * PROJECTOR_SCALE),
    "figure.dpi": 80,
    "font.size": 18,
    "axes.titlesize": 20,
    "axes.labelsize": 18,
    "xtick.labelsize": 16,
    "ytick.labelsize": 16,
    "legend.fontsize": 16,
    "lines.linewidth": 3.5,
    "lines.markersize": 10,
    "axes.linewidth": 1.8,
    "patch.linewidth": 2.0,
    "grid.linewidth": 1.2,
}


def default_style() -> None:
    """The notebooks' everyday style (readable on a laptop screen), or the projector style when the
    environment says ``VISLIB_STYLE=projector`` (``default`` or unset: the everyday style)."""
    chosen = os.environ.get(STYLE_VARIABLE, "default").strip().lower() or "default"
    if chosen not in ("default", "projector"):
        raise ValueError(f"{STYLE_VARIABLE} must be 'default' or 'projector', got {chosen!r}")
    mpl.rcParams.update(_PROJECTOR if chosen == "projector" else _DEFAULT)


def projector_style(on: bool = True) -> None:
    """Switch to (or, with ``on=False``, back from) the projector style.

    Figures drawn from then on, including every widget's next redraw, use it.
    """
    if not isinstance(on, bool):
        raise TypeError(f"on must be True or False, got {on!r}")
    mpl.rcParams.update(_PROJECTOR if on else _DEFAULT)


def is_projector_style() -> bool:
    """Whether the projector style is on."""
    return mpl.rcParams["font.size"] == _PROJECTOR["font.size"]


def figure_scale() -> float:
    """How much an explicit figure size grows in the current style (1 by default): the canvas grows with the
    fonts, so a projector figure holds the same text as the default one without clipping."""
    return PROJECTOR_SCALE if is_projector_style() else 1.0


def controls_css(class_name: str) -> str:
    """A ``<style>`` block that sizes ipywidgets controls inside elements of ``class_name`` for the current
    style: the projector style enlarges their fonts and heights like the figures' (empty by default)."""
    if not is_projector_style():
        return ""
    font = round(13 * PROJECTOR_SCALE)
    return (
        f"<style>.{class_name} {{ --jp-widgets-font-size: {font}px; --jp-ui-font-size1: {font}px;"
        f" --jp-widgets-inline-height: {round(28 * PROJECTOR_SCALE)}px;"
        f" --jp-widgets-inline-width: {round(300 * PROJECTOR_SCALE)}px;"
        f" --jp-widgets-inline-width-short: {round(148 * PROJECTOR_SCALE)}px;"
        f" --jp-widgets-slider-handle-size: {round(16 * PROJECTOR_SCALE)}px;"
        f" font-size: {font}px; }}</style>"
    )


# Notebooks that never call default_style() get the environment's style too: VISLIB_STYLE=projector applies it
# as soon as vislib's plotting is imported.
if os.environ.get(STYLE_VARIABLE, "").strip().lower() == "projector":
    projector_style()
