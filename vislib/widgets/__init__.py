"""Widgets: ipywidgets controls wired to a pure state function and a plot.

A widget module only builds controls and an :class:`Interactive`; what it
shows is computed elsewhere (computation modules) and drawn elsewhere
(``vislib.plotting``).
"""

from vislib.widgets.core import Interactive

__all__ = ["Interactive"]
