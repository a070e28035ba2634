"""Figure styles: a readable default and a projector style for the lecture hall.

``projector_style()`` is the one call a lecturer makes: large fonts, thick
lines and the Okabe-Ito palette, which stays distinguishable for the common
forms of colour blindness and on washed-out projectors.
"""

from __future__ import annotations

import matplotlib as mpl
from cycler import cycler

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
}

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
    "figure.figsize": (11.0, 5.5),
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
    """The notebooks' everyday style: readable on a laptop screen."""
    mpl.rcParams.update(_DEFAULT)


def projector_style(on: bool = True) -> None:
    """Switch to (or, with ``on=False``, back from) the projector style.

    Figures drawn from then on, including every widget's next redraw, use it.
    """
    if not isinstance(on, bool):
        raise TypeError(f"on must be True or False, got {on!r}")
    mpl.rcParams.update(_PROJECTOR if on else _DEFAULT)


def is_projector_style() -> bool:
    return mpl.rcParams["font.size"] == _PROJECTOR["font.size"]
