"""The atrous-convolution notebook's headline widget: receptive fields of (dilated) conv stacks."""

from __future__ import annotations

import ipywidgets

from vislib._validation import check_choice, check_type
from vislib.data.photos import ASTRONAUT_HEAD, load_grey_photo
from vislib.plotting.receptive_field import ReceptiveFieldView
from vislib.states.receptive_field import ReceptiveFieldExplorer
from vislib.widgets.core import Interactive, make_control

__all__ = ["conv_layer_count", "DILATION_OPTIONS", "receptive_field_widget"]

#: Dilation choices of the per-layer sliders; "stack" keeps the preset's own rate.
DILATION_OPTIONS = [("stack", ReceptiveFieldExplorer.KEEP_PRESET_RATE)] + [(str(d), d) for d in (1, 2, 3, 4, 5, 6, 8)]


def receptive_field_widget(
    input_size: int = 64, preset: str = "gridding (2, 2, 2)", explorer: ReceptiveFieldExplorer | None = None
) -> Interactive:
    """Pick a stack, override the dilation of its first four conv layers, move the output unit (in input
    pixels); see the theoretical field, the pixels that reach the unit (holes in red) and the gradient map.

    The presets' gradient maps for the centre unit and every preset's static picture are computed at
    construction; any other configuration costs one small back-propagation (a few ms) the first time and is
    cached afterwards.
    """
    explorer = explorer or ReceptiveFieldExplorer(input_size)
    explorer.warm_up()
    size = explorer.input_size
    controls = {
        "preset": make_control(
            "preset",
            ipywidgets.Dropdown,
            preset,
            options=list(explorer.presets),
            description="stack",
            layout=ipywidgets.Layout(width="330px"),
        ),
        **{
            f"d{i}": ipywidgets.SelectionSlider(
                options=DILATION_OPTIONS,
                value=ReceptiveFieldExplorer.KEEP_PRESET_RATE,
                description=f"conv{i} dilation",
                style={"description_width": "initial"},
            )
            for i in range(1, explorer.MAX_EDITS + 1)
        },
        "row": ipywidgets.IntSlider(value=size // 2, min=0, max=size - 1, description="unit row"),
        "col": ipywidgets.IntSlider(value=size // 2, min=0, max=size - 1, description="unit col"),
    }
    every_background = [{"preset": name} for name in explorer.presets]  # one static picture per stack
    widget = Interactive(
        explorer.state,
        ReceptiveFieldView(load_grey_photo("astronaut", size, crop=ASTRONAUT_HEAD)),
        controls,
        ncols=2,
        figsize=(9, 4.7),
        controls_per_row=3,
        image_format="jpeg",
        warm_up=every_background,
    )
    _disable_missing_layers(widget, explorer)
    return widget


def conv_layer_count(explorer: ReceptiveFieldExplorer, preset: str) -> int:
    """How many conv layers the preset's stack has (its dilation sliders beyond that act on nothing)."""
    check_type("explorer", explorer, ReceptiveFieldExplorer, "a ReceptiveFieldExplorer (vislib.states.receptive_field)")
    check_choice("preset", preset, explorer.presets)
    return sum(layer.kind == "conv" for layer in explorer.presets[preset])


def _disable_missing_layers(widget: Interactive, explorer: ReceptiveFieldExplorer) -> None:
    """Disable the dilation sliders of conv layers the chosen stack lacks, and say so under the controls."""
    note = ipywidgets.HTML()
    children = list(widget.widget.children)
    children.insert(children.index(widget.message), note)
    widget.widget.children = children

    def update(_change=None) -> None:
        preset = widget.controls["preset"].value
        count = conv_layer_count(explorer, preset)
        missing = []
        for i in range(1, explorer.MAX_EDITS + 1):
            slider = widget.controls[f"d{i}"]
            slider.disabled = i > count
            slider.tooltip = f"this stack has {count} conv layers" if i > count else ""
            if i > count:
                missing.append(f"conv{i}")
        note.value = (
            f"<i>{preset!r} has {count} conv layers: the {', '.join(missing)} dilation "
            f"{'slider is' if len(missing) == 1 else 'sliders are'} disabled.</i>"
            if missing
            else ""
        )
        note.layout.display = "" if missing else "none"  # no empty gap above the picture

    widget.controls["preset"].observe(update, names="value")
    update()
