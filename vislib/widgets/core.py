"""Binding ipywidgets controls to a pure state function and a draw function.

Every widget in the course is an :class:`Interactive`:

* ``state(**control_values)`` computes everything the picture needs. It is
  pure and cheap (it reads precomputed results; it never trains), so it can
  be tested and timed without a browser;
* ``draw(axes, state)`` draws that state onto the axes of one figure that
  the widget keeps for its whole life (no figure is created per redraw);
* the controls are plain ipywidgets, keyed by the state function's argument
  names.

A redraw renders the figure to PNG and swaps it into an ``ipywidgets.Image``,
which works the same in JupyterLab, VS Code and headless test runs. The image
is rendered at ``PIXEL_RATIO`` (2) pixels per CSS pixel and shown at its
natural size (never stretched to the output area; scaled down as a whole when
the area is narrower), and the controls' labels get the room they need.
"""

from __future__ import annotations

import html
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import ipywidgets
from matplotlib.layout_engine import PlaceHolderLayoutEngine

from vislib._validation import check_callable, check_choice, check_int, check_type
from vislib.plotting.figures import axes_list, canvas_to_image, css_size, new_figure
from vislib.plotting.style import PIXEL_RATIO, controls_css
from vislib.plotting.view import View

#: The CSS class of widgets made in the projector style (a page-wide ``<style>`` enlarges their controls only).
PROJECTOR_CLASS = "vislib-projector"


class Interactive:
    """Controls + ``state(**values)`` + ``draw(axes, state)``, redrawn on every change.

    Parameters
    ----------
    state:
        Pure function of the control values (keyword arguments named like
        the controls) returning whatever ``draw`` needs.
    draw:
        Either a function ``draw(axes, state)`` that draws from scratch
        (``axes`` is one ``Axes`` for a 1x1 layout, else a NumPy array of
        them; extra axes it adds, such as colorbars, are removed before the
        next redraw), or a :class:`~vislib.plotting.view.View`, which draws
        once and then updates a few artists: the fast path, for widgets
        that must answer in well under 50 ms.
    controls:
        ``{argument name: ipywidgets control}``.
    nrows, ncols, figsize, subplot_kw, controls_per_row:
        The layout of the widget's one figure and of its controls.
    max_backgrounds:
        How many View backgrounds to keep (each is one RGBA bitmap of the figure).
    image_format:
        ``"png"`` (exact, the default) or ``"jpeg"`` (much faster to encode
        for figures that show photos or noisy images).
    warm_up:
        Control values to render once at construction, so that a View's
        backgrounds for them are ready before the first slider move (the
        widget then returns to its initial values).
    """

    def __init__(
        self,
        state: Callable[..., Any],
        draw: Callable[[Any, Any], None],
        controls: Mapping[str, ipywidgets.ValueWidget],
        *,
        nrows: int = 1,
        ncols: int = 1,
        figsize=None,
        subplot_kw: Mapping[str, Any] | None = None,
        controls_per_row: int = 3,
        warm_up: Iterable[Mapping[str, Any]] = (),
        image_format: str = "png",
        max_backgrounds: int = 16,
    ):
        self.state_function = check_callable("state", state)
        if not isinstance(draw, View):
            check_callable("draw", draw)
        self.draw_function = draw
        check_type("controls", controls, Mapping, "a mapping {name: ipywidgets control}")
        if not controls:
            raise ValueError("controls must hold at least one control")
        for name, control in controls.items():
            check_type(f"controls[{name!r}]", control, ipywidgets.ValueWidget, "an ipywidgets control")
        self.controls = dict(controls)
        self.max_backgrounds = check_int("max_backgrounds", max_backgrounds, min_value=1, max_value=256)
        self.figure, self.axes = new_figure(nrows, ncols, figsize=figsize, **(subplot_kw or {}))
        self.figure.set_dpi(self.figure.dpi * PIXEL_RATIO)
        self._baseline_axes = list(self.figure.axes)
        self.image_format = check_choice("image_format", image_format, ("png", "jpeg"))
        self.widget = self._layout(controls_per_row)
        self.last_state: Any = None
        self.last_timing: dict[str, float] = {}
        self.redraws = 0
        self._holding = False
        self._dynamic_artists: list | None = None
        self._backgrounds: OrderedDict = OrderedDict()
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()
        initial = self.values()
        warmed = False
        for values in warm_up:
            self.set(**values)
            warmed = True
        if warmed:
            self.set(**initial)

    # -- reading and setting controls ------------------------------------
    def values(self) -> dict[str, Any]:
        """The current control values, keyed like the state function's arguments."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values: Any) -> dict[str, float]:
        """Set several controls at once, redraw once, and return the timing."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"unknown control(s) {unknown}; this widget has {sorted(self.controls)}")
        self._holding = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._holding = False
        return self.refresh()

    # -- the update path ----------------------------------------------------
    def refresh(self) -> dict[str, float]:
        """Recompute the state for the current values, redraw, and return the timing.

        A state function that rejects the values (``ValueError``/``TypeError``)
        leaves the picture as it was and shows its message above it.
        """
        start = time.perf_counter()
        try:
            state = self.state_function(**self.values())
        except (ValueError, TypeError) as error:
            self.message.value = f"<span style='color:#D55E00'>{html.escape(str(error))}</span>"
            return {}
        computed = time.perf_counter()
        self.message.value = ""
        if isinstance(self.draw_function, View):
            self._draw_view(state)
        else:
            self._clear()
            self.draw_function(self.axes, state)
            self._render_all()
        self.image.value = canvas_to_image(self.figure, self.image_format)
        done = time.perf_counter()
        self.last_state = state
        self.redraws += 1
        self.last_timing = {"state_s": computed - start, "draw_s": done - computed, "total_s": done - start}
        return self.last_timing

    # -- the layout ------------------------------------------------------------
    def _layout(self, controls_per_row: int) -> ipywidgets.VBox:
        """Controls in rows, the message, and the picture at its natural CSS size (its pixels / PIXEL_RATIO);
        ``max-width: 100%`` with ``height: auto`` scales it down as a whole in a narrower output area."""
        width, height = css_size(self.figure, PIXEL_RATIO)
        self.image = ipywidgets.Image(
            format=self.image_format,
            width=width,
            height=height,
            layout=ipywidgets.Layout(
                width=f"{width}px", max_width="100%", height="auto", object_fit="contain", flex="0 0 auto"
            ),
        )
        self.image.add_class("vislib-picture")
        self.message = ipywidgets.HTML()
        for control in self.controls.values():
            _fit_label(control)
        controls = list(self.controls.values())
        rows = [
            ipywidgets.HBox(controls[i : i + controls_per_row], layout=ipywidgets.Layout(flex_flow="row wrap"))
            for i in range(0, len(controls), controls_per_row)
        ]
        children = [*rows, self.message, self.image]
        css = controls_css(PROJECTOR_CLASS)
        if css:  # projector style: controls as large as the figures' text (only in widgets made in that style)
            children.insert(0, ipywidgets.HTML(css))
        # Never wider than the output area, so the picture's max-width: 100% shrinks it to fit.
        widget = ipywidgets.VBox(children, layout=ipywidgets.Layout(align_items="flex-start", max_width="100%"))
        widget.add_class("vislib-widget")
        if css:
            widget.add_class(PROJECTOR_CLASS)
        return widget

    def _clear(self) -> None:
        for extra in [ax for ax in self.figure.axes if ax not in self._baseline_axes]:
            extra.remove()  # colorbars added by the previous draw (before their images go)
        for ax in axes_list(self.axes):
            ax.clear()

    def _draw_view(self, state: Any) -> None:
        view = self.draw_function
        canvas = self.figure.canvas
        if self._dynamic_artists is None:
            self._clear()
            self._dynamic_artists = list(view.setup(self.axes, state) or [])
            for artist in self._dynamic_artists:
                artist.set_animated(True)
        view.update(state)
        key = view.background_key(state)
        if key in self._backgrounds:
            self._backgrounds.move_to_end(key)
            canvas.restore_region(self._backgrounds[key])
        else:
            self._render_all()
            self._backgrounds[key] = canvas.copy_from_bbox(self.figure.bbox)
            while len(self._backgrounds) > self.max_backgrounds:
                self._backgrounds.popitem(last=False)
        self._draw_dynamic()

    def _render_all(self) -> None:
        """Draw the whole figure (a View's dynamic artists are skipped: they are animated)."""
        self.figure.canvas.draw()
        engine = self.figure.get_layout_engine()
        if engine is not None and not isinstance(engine, PlaceHolderLayoutEngine):
            # The layout is computed once; later redraws keep the axes where they are.
            self.figure.set_layout_engine("none")

    def _draw_dynamic(self) -> None:
        for artist in self._dynamic_artists:
            self.figure.draw_artist(artist)

    def _on_change(self, change: dict) -> None:
        if not self._holding:
            self.refresh()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def _fit_label(control: ipywidgets.Widget) -> None:
    """Give a control's description (and toggle buttons' labels) the width they need: ipywidgets cuts
    descriptions at about 80 px and toggle-button labels at about 150 px otherwise."""
    style = getattr(control, "style", None)
    if getattr(control, "description", "") and style is not None and hasattr(style, "description_width"):
        if not style.description_width:
            style.description_width = "initial"
    if isinstance(control, ipywidgets.ToggleButtons):
        if not style.button_width:
            style.button_width = "auto"  # buttons as wide as their labels ("before normalization")
        if not control.layout.width:
            control.layout.width = "auto"  # all buttons on one row
