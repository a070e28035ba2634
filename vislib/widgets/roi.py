"""Notebook 08's headline widget: where RoI Pool and RoI Align read on a coarse feature map."""

from __future__ import annotations

import ipywidgets

from vislib._validation import check_type
from vislib.plotting.roi import RoIAlignView
from vislib.states.roi import BACKGROUNDS, SAMPLING_RATIOS, RoIAlignExplorer
from vislib.widgets.core import Interactive, make_control

__all__ = ["DEFAULT_BOX", "roi_align_widget"]

#: The box the widget starts with: the astronaut's face on the 256-pixel photo.
DEFAULT_BOX = (70, 14, 88, 76)


def roi_align_widget(
    explorer: RoIAlignExplorer | None = None, box=DEFAULT_BOX, stride: int = 16, output_size: int = 7
) -> Interactive:
    """Move and resize a box (image pixels) on the photo; see RoI Pool snap it to feature cells and cut it into
    uneven integer bins, and RoI Align split it exactly and read sample points by bilinear interpolation.

    Controls: the box (x, y, width, height), the output size, RoI Align's sampling ratio (-1: adaptive) and
    ``aligned``, the stride of the feature map (``spatial_scale = 1 / stride``), the selected bin and sample
    point (whose four bilinear neighbours are shown), and the picture under the boxes (the photo or the
    block-averaged feature map). Every (stride, picture) background is rendered at construction.
    """
    if explorer is None:
        explorer = RoIAlignExplorer()
    check_type("explorer", explorer, RoIAlignExplorer, "a RoIAlignExplorer or None")
    size = explorer.image_size
    if not isinstance(box, (tuple, list)) or len(box) != 4:
        raise TypeError(f"box must be (x, y, width, height) in pixels, got {box!r}")
    x, y, width, height = box
    wide = {"style": {"description_width": "initial"}, "continuous_update": True}
    slider = ipywidgets.IntSlider
    controls = {
        "x": make_control("box[0] (x)", slider, x, min=0, max=size - 1, description="box x (px)", **wide),
        "y": make_control("box[1] (y)", slider, y, min=0, max=size - 1, description="box y (px)", **wide),
        "width": make_control("box[2] (width)", slider, width, min=1, max=size, description="width (px)", **wide),
        "height": make_control("box[3] (height)", slider, height, min=1, max=size, description="height (px)", **wide),
        "output_size": make_control(
            "output_size", slider, output_size, min=1, max=8, description="output size", **wide
        ),
        "sampling_ratio": ipywidgets.Dropdown(
            options=[("adaptive (-1)" if r < 0 else str(r), r) for r in SAMPLING_RATIOS],
            value=2,
            description="sampling ratio",
            style={"description_width": "initial"},
        ),
        "aligned": ipywidgets.Checkbox(value=False, description="aligned (half-pixel offset)", indent=False),
        "stride": make_control(
            "stride",
            ipywidgets.ToggleButtons,
            stride,
            options=[(f"stride {s}", s) for s in explorer.strides],
            description="feature map",
        ),
        "background": ipywidgets.ToggleButtons(options=list(BACKGROUNDS), value="photo", description="show"),
        "bin_row": ipywidgets.IntSlider(value=3, min=0, max=7, description="bin row", **wide),
        "bin_col": ipywidgets.IntSlider(value=3, min=0, max=7, description="bin col", **wide),
        "sample": ipywidgets.IntSlider(value=0, min=0, max=8, description="sample in bin", **wide),
    }
    every_background = [{"stride": s, "background": b} for s in explorer.strides for b in BACKGROUNDS]
    view = RoIAlignView(explorer.picture, prerender_up_to_stride=max(explorer.strides))
    return Interactive(
        explorer.state,
        view,
        controls,
        ncols=5,
        figsize=(12.5, 5.6),  # 1000 CSS px wide (a 1440-px screen); the square pictures fill its height
        controls_per_row=4,
        image_format="jpeg",
        warm_up=every_background,
    )
