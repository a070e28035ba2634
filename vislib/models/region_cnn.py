"""R-CNN and Fast R-CNN, measured: region proposals, warping, per-region vs shared-map CNN features.

* **R-CNN** (Girshick, Donahue, Darrell & Malik 2014, arXiv 1311.2524): about
  2000 region proposals per image from *selective search* (:func:`selective_search`,
  OpenCV's implementation), each region cropped and **warped** to the CNN's
  fixed input size (:func:`warp_regions`), and the CNN run **independently on
  every warped region** (:func:`rcnn_forward`).
* **Fast R-CNN** (Girshick 2015, arXiv 1504.08083): run the convolutional trunk
  **once** on the whole image and cut each region's features out of the shared
  feature map with **RoI pooling** (:func:`fast_rcnn_forward`); only the small
  head runs per region.

:class:`RegionCNN` is one network used both ways, with the same weights: its
trunk has stride 8 and its head reads a ``7 x 7`` feature map, so a region
warped to 56 x 56 pixels gives the trunk output the head expects (R-CNN), and
RoI pooling of the whole image's map to 7 x 7 gives the same shape (Fast R-CNN).
Selective search is in :mod:`vislib.ops.selective_search`, the warping in :mod:`vislib.ops.region_cnn`,
the timing of both methods in :mod:`vislib.analysis.region_cnn` and the recall of the proposals in
:mod:`vislib.metrics.proposals`.

Boxes are torchvision's: ``Tensor[K, 4]`` ``(x1, y1, x2, y2)`` in pixels. Images are
``Tensor[3, H, W]`` floats in ``[0, 1]`` (RGB).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from vislib._validation import (
    check_boxes_in_image,
    check_callable,
    check_int,
    check_model_input,
    check_rgb_image,
    check_tensor,
    check_type,
)
from vislib.ops.region_cnn import warp_regions

__all__ = ["fast_rcnn_features", "fast_rcnn_forward", "rcnn_features", "rcnn_forward", "RegionCNN"]


class RegionCNN(nn.Module):
    """A small CNN used both as R-CNN (per warped region) and as Fast R-CNN (shared map + RoI pooling).

    ``trunk``: four 3x3 conv-ReLU layers with three 2x2 max-pools: stride 8, ``4 * width``
    channels. ``head``: flatten the ``pooled_size x pooled_size`` features, two fully connected
    layers, ``num_classes`` scores (the classes and the background). A region warped to
    ``region_size = 8 * pooled_size`` pixels gives exactly the head's input shape.
    The weights are random unless trained: what the timing compares does not depend on them.
    """

    stride = 8

    def __init__(self, num_classes: int = 21, width: int = 32, pooled_size: int = 7, hidden: int = 256):
        super().__init__()
        self.num_classes = check_int("num_classes", num_classes, min_value=1, max_value=10000)
        width = check_int("width", width, min_value=1, max_value=512)
        self.pooled_size = check_int("pooled_size", pooled_size, min_value=1, max_value=64)
        hidden = check_int("hidden", hidden, min_value=1, max_value=65536)
        self.channels = 4 * width
        self.trunk = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 4 * width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(4 * width, 4 * width, 3, padding=1),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(self.channels * pooled_size * pooled_size, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    @property
    def region_size(self) -> int:
        """The warped region's size that the trunk turns into a ``pooled_size`` map (R-CNN's input size)."""
        return self.stride * self.pooled_size

    def forward(self, regions: Tensor) -> Tensor:
        """Scores of warped regions ``[K, 3, region_size, region_size]`` -> ``[K, num_classes]``."""
        size = self.region_size
        check_tensor("regions", regions, shape=("K", 3, size, size), floating=True)
        check_model_input("regions", regions, self, channels=3)
        return self.head(self.trunk(regions))


def _check_model(model) -> RegionCNN:
    check_type("model", model, RegionCNN, "a vislib.models.region_cnn.RegionCNN")
    return model


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def rcnn_features(model: RegionCNN, image, boxes: Tensor, *, batch_size: int = 256) -> Tensor:
    """R-CNN: warp every region to ``model.region_size`` and run the trunk on each.

    ``image`` ``[3, H, W]``, ``boxes`` ``[K, 4]`` xyxy pixels; regions go through the network
    ``batch_size`` at a time. Returns ``[K, C, P, P]`` with ``C = model.channels``, ``P = model.pooled_size``.
    """
    model = _check_model(model)
    image = check_rgb_image("image", image)
    boxes = check_boxes_in_image("boxes", boxes, image)
    batch_size = check_int("batch_size", batch_size, min_value=1)
    device = _device(model)
    features = []
    for first in range(0, len(boxes), batch_size):
        warped = warp_regions(image, boxes[first : first + batch_size], model.region_size)
        features.append(model.trunk(warped.to(device)))
    if not features:
        return torch.empty(0, model.channels, model.pooled_size, model.pooled_size, device=device)
    return torch.cat(features)


@torch.no_grad()
def rcnn_forward(model: RegionCNN, image, boxes: Tensor, *, batch_size: int = 256) -> Tensor:
    """R-CNN: class scores ``[K, num_classes]``, the whole network run once per warped region."""
    model = _check_model(model)
    return model.head(rcnn_features(model, image, boxes, batch_size=batch_size))


def _default_pool(input, boxes, output_size, spatial_scale):
    from torchvision.ops import roi_pool

    return roi_pool(input, boxes, output_size, spatial_scale)


@torch.no_grad()
def fast_rcnn_features(model: RegionCNN, image, boxes: Tensor, *, pool: Callable | None = None) -> Tensor:
    """Fast R-CNN: the trunk once on the whole image, then every RoI pooled from the shared map.

    ``image`` ``[3, H, W]``, ``boxes`` ``[K, 4]`` xyxy pixels. Returns ``[K, C, P, P]`` with
    ``C = model.channels``, ``P = model.pooled_size``: the same shape as :func:`rcnn_features`.

    ``pool(input, boxes, output_size, spatial_scale)`` has torchvision's signature;
    default ``torchvision.ops.roi_pool`` (``vislib.ops.roi_pool`` gives the same numbers).
    ``spatial_scale = 1 / 8`` maps image pixels onto the stride-8 feature map.
    """
    model = _check_model(model)
    image = check_rgb_image("image", image)
    boxes = check_boxes_in_image("boxes", boxes, image)
    pool = _default_pool if pool is None else check_callable("pool", pool)
    device = _device(model)
    feature_map = model.trunk(image[None].to(device))
    return pool(feature_map, [boxes.to(device)], model.pooled_size, 1.0 / model.stride)


@torch.no_grad()
def fast_rcnn_forward(model: RegionCNN, image, boxes: Tensor, *, pool: Callable | None = None) -> Tensor:
    """Fast R-CNN: class scores ``[K, num_classes]`` from the shared feature map (the head runs per RoI)."""
    model = _check_model(model)
    return model.head(fast_rcnn_features(model, image, boxes, pool=pool))
