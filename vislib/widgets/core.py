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
the area is narrower or the window too short to show it with its controls), and
the controls' labels get the room they need.
"""

from __future__ import annotations

import html
import inspect
import logging
import math
import numbers
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

__all__ = ["Interactive", "make_control", "PROJECTOR_CLASS"]

#: The CSS class of widgets made in the projector style (a page-wide ``<style>`` enlarges their controls only).
PROJECTOR_CLASS = "vislib-projector"
#: CSS px of the window a widget leaves free (JupyterLab's menu, tab, tool and status bars: 121 px, and a margin).
WINDOW_MARGIN = 130
#: A picture shrinks to fit the window's height down to this many CSS px (or its own height), no further.
MIN_PICTURE_HEIGHT = 240
logger = logging.getLogger(__name__)


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
        _check_control_names(state, controls)
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
        """Set several controls at once, redraw once, and return the timing.

        Every value is checked first (nothing is clamped and nothing changes unless all are valid): a number
        outside a slider's range raises ``ValueError`` naming the control and its range, a value that is not
        among a selection's options raises ``ValueError`` naming the control and the allowed options.
        """
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"unknown control(s) {unknown}; this widget has {sorted(self.controls)}")
        values = {name: _check_control_value(name, self.controls[name], value) for name, value in values.items()}
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

        Any error from the state function or from the drawing leaves the picture
        as it was, shows its type and message in the widget's message line and
        is logged (``logging.getLogger("vislib.widgets.core")``); the next move
        redraws normally. The timing is then ``{}``.
        """
        start = time.perf_counter()
        try:
            state = self.state_function(**self.values())
        except Exception as error:  # noqa: BLE001 - shown in the widget, never lost in an observer
            self._show_error("state", error)
            return {}
        computed = time.perf_counter()
        try:
            if isinstance(self.draw_function, View):
                self._draw_view(state)
            else:
                self._clear()
                self.draw_function(self.axes, state)
                self._render_all()
            image = canvas_to_image(self.figure, self.image_format)
        except Exception as error:  # noqa: BLE001
            self._dynamic_artists = None  # a View starts again from setup() on the next move
            self._backgrounds.clear()
            self._show_error("drawing", error)
            return {}
        self._set_message("")
        self.image.value = image
        done = time.perf_counter()
        self.last_state = state
        self.redraws += 1
        self.last_timing = {"state_s": computed - start, "draw_s": done - computed, "total_s": done - start}
        return self.last_timing

    # -- the layout ------------------------------------------------------------
    def _layout(self, controls_per_row: int) -> ipywidgets.VBox:
        """Controls in rows, the message, and the picture at its natural CSS size (its pixels / PIXEL_RATIO),
        scaled down as a whole, never distorted, where the output area is narrower or the window too short to
        show it with its controls (the widget is at most ``WINDOW_MARGIN`` shorter than the window)."""
        width, height = css_size(self.figure, PIXEL_RATIO)
        self.image = ipywidgets.Image(
            format=self.image_format,
            width=width,
            height=height,
            layout=ipywidgets.Layout(
                # Both sizes auto: the browser keeps the picture's aspect ratio under both limits; the width
                # limit is the natural size, the height limit comes from the box (the picture's flex shrinks).
                width="auto",
                height="auto",
                max_width=f"min({width}px, 100%)",
                min_height=f"{min(height, MIN_PICTURE_HEIGHT)}px",
                object_fit="contain",
                flex="0 1 auto",
            ),
        )
        self.image.add_class("vislib-picture")
        # The message line takes no room while it is empty (an empty HTML widget is a 30-px gap).
        self.message = ipywidgets.HTML(layout=ipywidgets.Layout(display="none", flex="0 0 auto"))
        for control in self.controls.values():
            _fit_label(control)
        controls = list(self.controls.values())
        css = controls_css(PROJECTOR_CLASS)
        # Projector style: controls 1.6x as wide, so as many per line as the output area holds (2 at 1440 px,
        # 3 at 1920 px) in one wrapping row; rows of ``controls_per_row`` would wrap unevenly (2 + 1, 2 + 1).
        per_row = len(controls) if css else controls_per_row
        rows = [
            ipywidgets.HBox(controls[i : i + per_row], layout=ipywidgets.Layout(flex_flow="row wrap", flex="0 0 auto"))
            for i in range(0, len(controls), per_row)
        ]
        children = [*rows, self.message, self.image]
        if css:  # projector style: controls as large as the figures' text (only in widgets made in that style)
            children.insert(0, ipywidgets.HTML(css))
        # Never wider than the output area, so the picture's max-width shrinks it to fit; never taller than the
        # window less JupyterLab's bars, so that the controls and the picture are seen at once.
        widget = ipywidgets.VBox(
            children,
            layout=ipywidgets.Layout(
                align_items="flex-start", max_width="100%", max_height=f"calc(100vh - {WINDOW_MARGIN}px)"
            ),
        )
        widget.add_class("vislib-widget")
        if css:
            widget.add_class(PROJECTOR_CLASS)
        return widget

    def _show_error(self, where: str, error: Exception) -> None:
        logger.error("%s widget: the %s failed for %s", type(self).__name__, where, self.values(), exc_info=error)
        text = f"{type(error).__name__} in the {where}: {error}"
        self._set_message(f"<span style='color:#D55E00'>{html.escape(text)}</span>")

    def _set_message(self, value: str) -> None:
        """Show ``value`` in the message line, or hide the line when there is nothing to say."""
        display = "" if value else "none"
        if self.message.layout.display != display:
            self.message.layout.display = display
        self.message.value = value

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


def make_control(name: str, factory: Callable[..., Any], value: Any, **options: Any) -> Any:
    """``factory(**options)`` (an ipywidgets control) set to ``value``, which is checked first.

    ipywidgets clamps an initial value outside a slider's range and names nothing for an invalid
    selection; widget factories build their controls with this instead, so ``saturation_widget(mean=100)``
    raises a ``ValueError`` naming ``mean`` and the range rather than showing 6.
    """
    check_type("name", name, str, "the argument's name (a string)")
    check_callable("factory", factory)
    control = factory(**options)
    control.value = _check_control_value(name, control, value)
    return control


def _check_control_names(state: Callable[..., Any], controls: Mapping[str, Any]) -> None:
    """Every control must name a parameter of ``state``, and every parameter without a default needs a control."""
    try:
        parameters = inspect.signature(state).parameters
    except (TypeError, ValueError):  # a builtin without a signature: nothing to check
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = [n for n, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = [name for name in controls if name not in accepted]
    if unknown:
        raise ValueError(f"controls {unknown} are not parameters of the state function; it takes {accepted}")
    missing = [
        n
        for n, p in parameters.items()
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and n not in controls
    ]
    if missing:
        raise ValueError(f"controls must include the state function's required parameters {missing}")


def _options(control) -> list:
    """The values a selection control accepts (its options may be ``(label, value)`` pairs)."""
    values = getattr(control, "_options_values", None)
    if values is not None:
        return list(values)
    return [o[1] if isinstance(o, tuple) and len(o) == 2 else o for o in control.options]


def _check_control_value(name: str, control, value: Any) -> Any:
    """``value`` for ``control``, or a ValueError / TypeError naming the control and what it accepts."""
    if hasattr(control, "options"):
        allowed = _options(control)
        if not any(value is o or (isinstance(value, bool) == isinstance(o, bool) and value == o) for o in allowed):
            listed = ", ".join(repr(o) for o in allowed)
            raise ValueError(f"control {name!r} must be one of {listed}; got {value!r}")
        return value
    if isinstance(control, (ipywidgets.Checkbox, ipywidgets.ToggleButton)):
        if not isinstance(value, bool):
            raise TypeError(f"control {name!r} must be True or False, got {value!r}")
        return value
    if hasattr(control, "min") and hasattr(control, "max") and isinstance(control.value, numbers.Real):
        integer = isinstance(control.value, numbers.Integral) and not isinstance(control.value, bool)
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or (integer and not float(value).is_integer())
        ):
            kind = "an integer" if integer else "a number"
            raise TypeError(f"control {name!r} must be {kind} in [{control.min}, {control.max}], got {value!r}")
        if not math.isfinite(value) or not control.min <= value <= control.max:
            raise ValueError(f"control {name!r} must be in [{control.min}, {control.max}], got {value!r}")
        return int(value) if integer else value
    return value
