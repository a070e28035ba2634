"""R-CNN against Fast R-CNN, timed stage by stage on the same proposals (warp, per-region CNN; trunk once,
RoI pooling, head per region): :func:`time_rcnn_and_fast_rcnn` -> :class:`RCNNTiming`.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from vislib._validation import (
    check_boxes_in_image,
    check_callable,
    check_int,
    check_number,
    check_rgb_image,
)
from vislib.models.region_cnn import RegionCNN, _check_model, _default_pool, _device, rcnn_forward
from vislib.ops.region_cnn import warp_regions

__all__ = ["RCNNTiming", "time_rcnn_and_fast_rcnn"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass(frozen=True)
class RCNNTiming:
    """Measured seconds for one image and its ``num_regions`` proposals (medians over the repeats).

    R-CNN: ``warp_seconds`` (crop and resize every region) + ``rcnn_cnn_seconds`` (the whole
    network on every warped region). Fast R-CNN: ``trunk_seconds`` (once, on the whole image) +
    ``pool_seconds`` (RoI pooling of every region) + ``head_seconds`` (the head on every region).
    ``proposal_seconds``: selective search on the image (NaN if not measured).
    """

    num_regions: int
    image_size: tuple[int, int]
    region_size: int
    warp_seconds: float
    rcnn_cnn_seconds: float
    trunk_seconds: float
    pool_seconds: float
    head_seconds: float
    proposal_seconds: float = math.nan
    device: str = "cpu"

    @property
    def rcnn_seconds(self) -> float:
        """R-CNN's seconds per image (proposals excluded)."""
        return self.warp_seconds + self.rcnn_cnn_seconds

    @property
    def rcnn_seconds_per_region(self) -> float:
        return self.rcnn_seconds / self.num_regions

    @property
    def fast_seconds(self) -> float:
        """Fast R-CNN's seconds per image (proposals excluded)."""
        return self.trunk_seconds + self.pool_seconds + self.head_seconds

    @property
    def fast_seconds_per_region(self) -> float:
        return self.fast_seconds / self.num_regions

    @property
    def speedup(self) -> float:
        """How many times faster Fast R-CNN extracts and scores the same regions."""
        return self.rcnn_seconds / self.fast_seconds


def _median_seconds(function: Callable, repeats: int, device: torch.device) -> float:
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        function()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@torch.no_grad()
def time_rcnn_and_fast_rcnn(
    model: RegionCNN,
    image,
    boxes: Tensor,
    *,
    repeats: int = 3,
    batch_size: int = 256,
    pool: Callable | None = None,
    proposal_seconds: float = math.nan,
) -> RCNNTiming:
    """Time R-CNN and Fast R-CNN on the same image, proposals and network (median of ``repeats`` runs each).

    Both paths run once untimed first (warm-up). The model is put in evaluation mode.
    ``proposal_seconds``, if given, is stored with the result (selective search is timed by the caller).
    """
    model = _check_model(model)
    image = check_rgb_image("image", image)
    boxes = check_boxes_in_image("boxes", boxes, image)
    repeats = check_int("repeats", repeats, min_value=1)
    batch_size = check_int("batch_size", batch_size, min_value=1)
    if not (isinstance(proposal_seconds, float) and math.isnan(proposal_seconds)):
        proposal_seconds = check_number("proposal_seconds", proposal_seconds, min_value=0.0)
    pool = _default_pool if pool is None else check_callable("pool", pool)
    model.eval()
    device = _device(model)
    on_device = image.to(device)
    size = model.region_size

    # R-CNN, in batches: warping on the CPU, the network on the device
    warped_batches = [
        warp_regions(image, boxes[first : first + batch_size], size) for first in range(0, len(boxes), batch_size)
    ]
    rcnn_forward(model, image, boxes[:batch_size], batch_size=batch_size)  # warm-up
    warp = _median_seconds(
        lambda: [warp_regions(image, boxes[f : f + batch_size], size) for f in range(0, len(boxes), batch_size)],
        repeats,
        device,
    )
    cnn = _median_seconds(lambda: [model(batch.to(device)) for batch in warped_batches], repeats, device)

    # Fast R-CNN: trunk once, pool every RoI, head on every RoI
    rois = [boxes.to(device)]
    feature_map = model.trunk(on_device[None])
    pooled = pool(feature_map, rois, model.pooled_size, 1.0 / model.stride)
    model.head(pooled)  # warm-up
    trunk = _median_seconds(lambda: model.trunk(on_device[None]), repeats, device)
    pooling = _median_seconds(lambda: pool(feature_map, rois, model.pooled_size, 1.0 / model.stride), repeats, device)
    head = _median_seconds(lambda: model.head(pooled), repeats, device)
    return RCNNTiming(
        num_regions=len(boxes),
        image_size=(int(image.shape[-2]), int(image.shape[-1])),
        region_size=size,
        warp_seconds=warp,
        rcnn_cnn_seconds=cnn,
        trunk_seconds=trunk,
        pool_seconds=pooling,
        head_seconds=head,
        proposal_seconds=proposal_seconds,
        device=str(device),
    )
