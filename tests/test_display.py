"""How pictures are displayed: natural size at 2x pixel density, the projector switch from the environment,
opaque backgrounds, controls' CSS and labels that fit."""

import io
import os
import subprocess
import sys

import ipywidgets
import matplotlib as mpl
import numpy as np
import pytest
from PIL import Image

from vislib.plotting import default_style, new_figure, projector_style
from vislib.plotting.figures import css_size, display_image
from vislib.plotting.style import PIXEL_RATIO, PROJECTOR_SCALE, controls_css, figure_scale, is_projector_style
from vislib.widgets import Interactive


def _line_widget(**kwargs):
    def draw(ax, state):
        ax.plot(np.arange(5) * state["slope"])
        ax.set_title("a line")

    controls = {"slope": ipywidgets.FloatSlider(value=1.0, min=0, max=10, description="slope of the line")}
    return Interactive(lambda slope: {"slope": slope}, draw, controls, **kwargs)


@pytest.fixture(autouse=True)
def _default_style(monkeypatch):
    monkeypatch.delenv("VISLIB_STYLE", raising=False)
    default_style()
    yield
    default_style()


def _png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_widget_pictures_are_rendered_at_twice_their_css_size_and_never_stretched():
    widget = _line_widget(figsize=(6, 3))
    pixels = _png_size(widget.image.value)
    dpi = round(mpl.rcParams["figure.dpi"])
    assert pixels == (6 * dpi * PIXEL_RATIO, 3 * dpi * PIXEL_RATIO)
    layout = widget.image.layout
    assert layout.width == "auto" and layout.height == "auto" and layout.max_width == f"min({6 * dpi}px, 100%)"
    assert (int(widget.image.width), int(widget.image.height)) == (6 * dpi, 3 * dpi)
    # The box does not stretch its children to the output area's width.
    assert widget.widget.layout.align_items == "flex-start" and widget.widget.layout.max_width == "100%"
    # Nor taller than the window less JupyterLab's bars: the picture shrinks (flex) so that its controls stay seen.
    assert widget.widget.layout.max_height.startswith("calc(100vh - ") and layout.flex == "0 1 auto"
    assert css_size(widget.figure, PIXEL_RATIO) == (6 * dpi, 3 * dpi)


def test_static_figures_are_shown_crisp_at_their_natural_size():
    figure, ax = new_figure(figsize=(5, 2.5))
    ax.plot([0, 1])
    image = display_image(figure)
    dpi = round(mpl.rcParams["figure.dpi"])
    assert image.width == 5 * dpi
    assert _png_size(image.data) == (5 * dpi * PIXEL_RATIO, 2.5 * dpi * PIXEL_RATIO)


def test_pictures_are_opaque_for_dark_themes():
    widget = _line_widget(image_format="png")
    rgba = np.asarray(Image.open(io.BytesIO(widget.image.value)).convert("RGBA"))
    assert rgba[..., 3].min() == 255
    figure, ax = new_figure()
    ax.plot([0, 1])
    rgba = np.asarray(Image.open(io.BytesIO(display_image(figure).data)).convert("RGBA"))
    assert rgba[..., 3].min() == 255


def test_vislib_style_projector_in_the_environment_makes_default_style_the_projector_style(monkeypatch):
    monkeypatch.setenv("VISLIB_STYLE", "projector")
    default_style()
    assert is_projector_style() and figure_scale() == PROJECTOR_SCALE
    monkeypatch.setenv("VISLIB_STYLE", "default")
    default_style()
    assert not is_projector_style() and figure_scale() == 1.0
    monkeypatch.setenv("VISLIB_STYLE", "beamer")
    with pytest.raises(ValueError, match="VISLIB_STYLE must be 'default' or 'projector'"):
        default_style()
    monkeypatch.delenv("VISLIB_STYLE")


def test_projector_canvas_grows_with_the_fonts_and_so_do_the_controls():
    normal = _line_widget(figsize=(6, 3))
    assert controls_css("vislib-projector") == ""
    assert "vislib-projector" not in normal.widget._dom_classes
    assert not any(isinstance(child, ipywidgets.HTML) and "<style>" in child.value for child in normal.widget.children)
    projector_style()  # the in-notebook call
    big = _line_widget(figsize=(6, 3))
    assert big.figure.get_size_inches() == pytest.approx(np.array([6, 3]) * PROJECTOR_SCALE)
    styles = [child.value for child in big.widget.children if isinstance(child, ipywidgets.HTML)]
    assert any(".vislib-projector " in css and "--jp-widgets-font-size: 21px" in css for css in styles)
    assert {"vislib-widget", "vislib-projector"} <= set(big.widget._dom_classes)
    figure, _ = new_figure()
    assert tuple(figure.get_size_inches()) == pytest.approx((8 * PROJECTOR_SCALE, 4 * PROJECTOR_SCALE))


def test_control_labels_get_the_width_they_need_unless_set():
    widget = _line_widget()
    assert widget.controls["slope"].style.description_width == "initial"
    narrow = ipywidgets.IntSlider(description="n", style={"description_width": "30px"})
    Interactive(lambda n: n, lambda ax, s: ax.plot([s]), {"n": narrow})
    assert narrow.style.description_width == "30px"


def test_toggle_buttons_show_their_whole_labels_on_one_row():
    toggle = ipywidgets.ToggleButtons(options=["before normalization", "after normalization"], description="stage")
    Interactive(lambda stage: stage, lambda ax, s: ax.set_title(s), {"stage": toggle})
    assert toggle.style.button_width == "auto" and toggle.layout.width == "auto"
    assert toggle.style.description_width == "initial"


def test_vislib_style_projector_applies_on_import_without_any_call():
    code = "import vislib.widgets; from vislib.plotting.style import is_projector_style; print(is_projector_style())"
    env = {**os.environ, "VISLIB_STYLE": "projector"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.strip() == "True", result.stderr
