"""Notebook 08's headline widget: where RoI Pool and RoI Align read on a coarse feature map."""

from __future__ import annotations

import ipywidgets

from vislib.plotting.roi import RoIAlignView
from vislib.states.roi import BACKGROUNDS, SAMPLING_RATIOS, RoIAlignExplorer
from vislib.widgets.core import Interactive

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
    explorer = explorer or RoIAlignExplorer()
    size = explorer.image_size
    x, y, width, height = box
    wide = {"style": {"description_width": "initial"}, "continuous_update": True}
    controls = {
        "x": ipywidgets.IntSlider(value=x, min=0, max=size - 1, description="box x (px)", **wide),
        "y": ipywidgets.IntSlider(value=y, min=0, max=size - 1, description="box y (px)", **wide),
        "width": ipywidgets.IntSlider(value=width, min=1, max=size, description="width (px)", **wide),
        "height": ipywidgets.IntSlider(value=height, min=1, max=size, description="height (px)", **wide),
        "output_size": ipywidgets.IntSlider(value=output_size, min=1, max=8, description="output size", **wide),
        "sampling_ratio": ipywidgets.Dropdown(
            options=[("adaptive (-1)" if r < 0 else str(r), r) for r in SAMPLING_RATIOS],
            value=2,
            description="sampling ratio",
            style={"description_width": "initial"},
        ),
        "aligned": ipywidgets.Checkbox(value=False, description="aligned (half-pixel offset)", indent=False),
        "stride": ipywidgets.ToggleButtons(
            options=[(f"stride {s}", s) for s in explorer.strides],
            value=stride,
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
        figsize=(14, 7.2),
        controls_per_row=4,
        image_format="jpeg",
        warm_up=every_background,
    )
