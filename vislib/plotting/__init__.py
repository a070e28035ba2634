"""Plotting: functions that draw onto a given matplotlib ``Axes``.

Nothing here computes what it shows; it takes results from the computation
modules and draws them.
"""

from vislib.plotting.figures import axes_list, figure_to_png, new_figure, show
from vislib.plotting.live import LiveFigure
from vislib.plotting.style import OKABE_ITO, ROLE_COLORS, default_style, projector_style

__all__ = [
    "LiveFigure",
    "OKABE_ITO",
    "ROLE_COLORS",
    "axes_list",
    "default_style",
    "figure_to_png",
    "new_figure",
    "projector_style",
    "show",
]
