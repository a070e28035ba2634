"""A figure that updates in place while a loop runs.

The figure is shown once, with a display id, and every later refresh
replaces that same output: no flicker and no pile of images under the cell.
This works in JupyterLab, in VS Code, and in headless runs such as nbval.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from IPython.display import display

from vislib._validation import check_callable
from vislib.plotting.figures import axes_list, display_image, new_figure

__all__ = ["LiveFigure"]


class LiveFigure:
    """One figure, displayed once, redrawn in place by :meth:`update`.

    >>> live = LiveFigure(ncols=2)
    >>> for epoch in range(epochs):
    ...     history.append(train_one_epoch())
    ...     live.update(plot_history, history)   # plot_history(axes, history)
    """

    def __init__(self, nrows: int = 1, ncols: int = 1, *, figsize=None, **subplot_kw):
        self.figure, self.axes = new_figure(nrows, ncols, figsize=figsize, **subplot_kw)
        self._baseline_axes = list(self.figure.axes)
        self._handle = None
        self.refreshes = 0

    def update(self, draw: Callable[[Any, Any], None], state: Any) -> None:
        """Clear the axes, call ``draw(axes, state)``, and refresh the display."""
        check_callable("draw", draw)
        for extra in [ax for ax in self.figure.axes if ax not in self._baseline_axes]:
            extra.remove()  # colorbars from the previous draw (before their images go)
        for ax in axes_list(self.axes):
            ax.clear()
        draw(self.axes, state)
        self.refresh()

    def refresh(self) -> None:
        """Show the figure as it is now, replacing the previous picture."""
        image = display_image(self.figure)
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)
        self.refreshes += 1
