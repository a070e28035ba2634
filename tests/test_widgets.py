"""The widget plumbing: state + draw bound to controls, fast path, no leaks."""

import io
import tracemalloc

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from vislib.plotting.view import View
from vislib.widgets import Interactive
from vislib.widgets.nonlinearities import saturation_widget


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def _line_widget(calls):
    def state(slope, label):
        if slope > 9:
            raise ValueError("slope must be at most 9 here")
        calls.append((slope, label))
        return {"x": np.arange(5), "y": slope * np.arange(5), "label": label}

    def draw(ax, s):
        ax.plot(s["x"], s["y"], label=s["label"])
        ax.legend()

    controls = {
        "slope": ipywidgets.FloatSlider(value=1.0, min=0, max=10, step=0.5),
        "label": ipywidgets.Dropdown(options=["a", "b"], value="a"),
    }
    return Interactive(state, draw, controls)


def test_each_control_change_recomputes_the_state_once_and_redraws():
    calls = []
    widget = _line_widget(calls)
    assert calls == [(1.0, "a")] and widget.redraws == 1
    widget.controls["slope"].value = 2.0  # as a slider move in the browser does
    assert calls[-1] == (2.0, "a") and widget.redraws == 2
    timing = widget.set(slope=3.0, label="b")  # two controls, one redraw
    assert calls[-1] == (3.0, "b") and widget.redraws == 3
    assert set(timing) == {"state_s", "draw_s", "total_s"} and timing["total_s"] > 0
    assert widget.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert widget.values() == {"slope": 3.0, "label": "b"}


def test_rejected_values_show_the_message_and_keep_the_picture():
    widget = _line_widget([])
    before = widget.image.value
    assert widget.set(slope=9.5) == {}
    assert "slope must be at most 9" in widget.message.value and widget.message.layout.display == ""
    assert widget.image.value == before
    widget.set(slope=2.0)
    assert widget.message.value == "" and widget.message.layout.display == "none"  # no empty gap


def test_bad_construction_is_explained():
    slider = ipywidgets.IntSlider()
    with pytest.raises(TypeError, match="state must be callable"):
        Interactive(42, lambda ax, s: None, {"n": slider})
    with pytest.raises(ValueError, match="at least one control"):
        Interactive(lambda: 0, lambda ax, s: None, {})
    with pytest.raises(TypeError, match=r"controls\['n'\] must be an ipywidgets control"):
        Interactive(lambda n: 0, lambda ax, s: None, {"n": 3})
    widget = Interactive(lambda n: n, lambda ax, s: None, {"n": slider})
    with pytest.raises(ValueError, match=r"unknown control\(s\) \['m'\]"):
        widget.set(m=1)


def test_the_fast_path_draws_the_same_picture_as_a_fresh_widget():
    rng = np.random.default_rng(0)
    widget = saturation_widget()
    for _ in range(25):
        widget.set(
            mean=float(rng.uniform(-5, 5)),
            std=float(rng.uniform(0.2, 5)),
            nonlinearity=str(rng.choice(["sigmoid", "tanh", "relu"])),
        )
    fresh = saturation_widget()  # same first state, so the same (frozen) layout
    fresh.set(**widget.values())  # one full render for this background, no blitting history
    difference = np.abs(_pixels(widget.image.value) - _pixels(fresh.image.value))
    assert difference.shape[2] == 3
    assert np.mean(difference > 8) < 0.001, "the blitted picture differs from a full redraw"


def test_views_must_implement_setup_and_update():
    widget = Interactive(lambda n: n, View(), {"n": ipywidgets.IntSlider()})
    assert "NotImplementedError in the drawing" in widget.message.value and "setup" in widget.message.value


def test_many_slider_moves_do_not_leak():
    plt.close("all")
    widget = saturation_widget()
    axes_before = len(widget.figure.axes)
    artists_before = sum(len(ax.get_children()) for ax in widget.figure.axes)
    for i in range(20):  # warm up caches (backgrounds, fonts)
        widget.set(mean=(i % 12) - 6.0, nonlinearity=["sigmoid", "tanh", "relu"][i % 3])
    tracemalloc.start()
    snapshot = tracemalloc.take_snapshot()
    for i in range(200):
        widget.set(mean=(i % 12) - 6.0, std=0.5 + (i % 6), nonlinearity=["sigmoid", "tanh", "relu"][i % 3])
    grown = sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(snapshot, "filename"))
    tracemalloc.stop()
    assert plt.get_fignums() == []
    assert len(widget.figure.axes) == axes_before
    assert sum(len(ax.get_children()) for ax in widget.figure.axes) == artists_before
    assert grown < 2_000_000, f"{grown} bytes kept after 200 slider moves"


def test_function_draws_remove_colorbars_between_redraws():
    def draw(ax, s):
        image = ax.imshow(np.full((3, 3), s))
        ax.figure.colorbar(image, ax=ax)

    widget = Interactive(lambda v: v, draw, {"v": ipywidgets.IntSlider(value=1, max=5)})
    for value in range(5):
        widget.set(v=value)
    assert len(widget.figure.axes) == 2  # the image's axes and one colorbar


# -- issue 20: controls checked at construction, set() validates, errors shown and logged ----------------------


def test_a_control_named_unlike_any_state_argument_fails_at_construction():
    with pytest.raises(ValueError, match=r"controls \['slop'\] are not parameters of the state function"):
        Interactive(lambda slope: slope, lambda ax, s: None, {"slop": ipywidgets.FloatSlider()})
    with pytest.raises(ValueError, match=r"required parameters \['label'\]"):
        Interactive(lambda slope, label: slope, lambda ax, s: None, {"slope": ipywidgets.FloatSlider()})


def test_set_rejects_out_of_range_and_invalid_choices_without_changing_anything():
    widget = _line_widget([])
    with pytest.raises(ValueError, match=r"control 'slope' must be in \[0.0, 10.0\], got 11"):
        widget.set(slope=11)
    with pytest.raises(ValueError, match=r"control 'label' must be one of 'a', 'b'; got 'c'"):
        widget.set(slope=2.0, label="c")
    with pytest.raises(TypeError, match="control 'slope' must be a number"):
        widget.set(slope="steep")
    with pytest.raises(ValueError, match="control 'slope' must be in"):
        widget.set(slope=float("nan"))
    assert widget.values() == {"slope": 1.0, "label": "a"}  # nothing was clamped or half-applied


@pytest.mark.parametrize("where", ["state", "drawing"])
def test_any_error_is_shown_with_its_type_and_logged_and_later_moves_still_redraw(where, caplog):
    def state(n):
        if where == "state" and n == 3:
            raise IndexError("no row 3")
        return n

    def draw(ax, n):
        if where == "drawing" and n == 3:
            raise KeyError("colour 3")
        ax.plot([0, n])

    widget = Interactive(state, draw, {"n": ipywidgets.IntSlider(value=1, min=0, max=5)})
    before = widget.image.value
    with caplog.at_level("ERROR", logger="vislib.widgets.core"):
        widget.controls["n"].value = 3  # a move in the browser: the observer must not raise
    error = "IndexError in the state: no row 3" if where == "state" else "KeyError in the drawing: &#x27;colour 3&#x27;"
    assert error in widget.message.value
    assert widget.image.value == before
    assert any(record.exc_info for record in caplog.records)
    widget.controls["n"].value = 4
    assert widget.message.value == "" and widget.image.value != before and widget.last_state == 4


def test_widget_factories_reject_values_outside_their_controls():
    with pytest.raises(ValueError, match=r"'mean' must be in \[-6.0, 6.0\], got 100"):
        saturation_widget(mean=100)
    with pytest.raises(ValueError, match="'nonlinearity' must be one of"):
        saturation_widget(nonlinearity="swish")
