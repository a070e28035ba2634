"""A small Mask R-CNN (He, Gkioxari, Dollár & Girshick 2017, arXiv 1703.06870) for the shapes data.

Mask R-CNN is Faster R-CNN (:mod:`vislib.models.faster_rcnn`) plus a third
output per region: a binary mask. :func:`small_mask_rcnn` builds torchvision's
own :class:`torchvision.models.detection.MaskRCNN` (no downloaded weights)
around the project's :class:`~vislib.models.faster_rcnn.SmallBackbone`
(stride 8: a 128 px image gives a 16 x 16 map), with the RPN and box head of
notebook 08, and a mask branch sized for small images:

* **RoI Align to 14 x 14** (:class:`torchvision.ops.MultiScaleRoIAlign`) cuts each
  detection's feature out of the shared map;
* a small FCN (:class:`MaskRCNNHeads`: 3x3 conv-ReLU layers that keep 14 x 14),
  a 2x2 transposed convolution to 28 x 28, and a 1x1 conv with **one mask per
  class** (:class:`MaskRCNNPredictor`);
* the mask loss is a per-pixel sigmoid cross-entropy on the ground-truth
  class's mask only (the paper's *decoupling* of masks and classes).

``pooler="pool"`` swaps both RoI Align layers (box and mask branch) for
:class:`MultiScaleRoIPool`, RoI Pool (Fast R-CNN, arXiv 1504.08083) with the
interface of ``MultiScaleRoIAlign``, so the same model trains with either
(the paper's Table 2c ablation).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torchvision.ops import MultiScaleRoIAlign

from vislib._validation import check_choice, check_int, check_type
from vislib.models.faster_rcnn import DEFAULT_ASPECT_RATIOS, _rcnn_arguments

__all__ = ["POOLERS", "MultiScaleRoIPool", "make_pooler", "small_mask_rcnn"]

POOLERS = ("align", "pool")
"""``"align"``: RoI Align (bilinear samples, nothing rounded); ``"pool"``: RoI Pool (snapped to cells, max)."""


class MultiScaleRoIPool(MultiScaleRoIAlign):
    """RoI Pool with the interface of :class:`torchvision.ops.MultiScaleRoIAlign`.

    ``forward(x, boxes, image_shapes)`` takes the same arguments and returns the same
    ``Tensor[K, C, output_size, output_size]`` (the RoIs of all images, in order),
    but pools each bin by :func:`torchvision.ops.roi_pool`: the box is rounded to
    whole feature cells and each bin takes its maximum. The scale of each feature
    map (``1 / stride``) and, with several maps, the level of each box are found
    exactly as ``MultiScaleRoIAlign`` finds them (FPN's eq. 1).

    It subclasses ``MultiScaleRoIAlign`` only because torchvision's ``MaskRCNN`` and
    ``FasterRCNN`` accept no other type; it inherits nothing it uses but the attributes.

    Args:
        featmap_names (list[str]): the feature maps to pool from.
        output_size (int or (int, int)): bins per side.
        sampling_ratio (int): accepted for the interface and ignored (RoI Pool reads every cell).
    """

    def __init__(
        self,
        featmap_names: list[str],
        output_size,
        sampling_ratio: int = 0,
        *,
        canonical_scale: int = 224,
        canonical_level: int = 4,
    ):
        nn.Module.__init__(self)
        check_type("featmap_names", featmap_names, (list, tuple), "a list of feature-map names")
        if not featmap_names:
            raise ValueError("featmap_names must name at least one feature map, got []")
        check_int("canonical_scale", canonical_scale, min_value=1)
        check_int("canonical_level", canonical_level, min_value=1)
        if isinstance(output_size, int):
            output_size = (output_size, output_size)
        self.featmap_names = list(featmap_names)
        self.output_size = tuple(check_int("output_size", s, min_value=1) for s in output_size)
        self.sampling_ratio = sampling_ratio
        self.canonical_scale = canonical_scale
        self.canonical_level = canonical_level
        self.scales = None
        self.map_levels = None

    def forward(self, x: dict[str, Tensor], boxes: list[Tensor], image_shapes: list[tuple[int, int]]) -> Tensor:
        from torchvision.ops import roi_pool
        from torchvision.ops.poolers import _convert_to_roi_format, _filter_input, _setup_scales

        features = _filter_input(x, self.featmap_names)
        if self.scales is None or self.map_levels is None:
            self.scales, self.map_levels = _setup_scales(
                features, image_shapes, self.canonical_scale, self.canonical_level
            )
        rois = _convert_to_roi_format(boxes)
        if len(features) == 1:
            return roi_pool(features[0], rois, self.output_size, self.scales[0])
        levels = self.map_levels(boxes)
        result = features[0].new_zeros((len(rois), features[0].shape[1]) + self.output_size)
        for level, (feature, scale) in enumerate(zip(features, self.scales)):
            keep = torch.where(levels == level)[0]
            result[keep] = roi_pool(feature, rois[keep], self.output_size, scale).to(result.dtype)
        return result

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(featmap_names={self.featmap_names}, output_size={self.output_size})"


def make_pooler(pooler: str, output_size: int, featmap_names: Sequence[str] = ("0",), sampling_ratio: int = 2):
    """``MultiScaleRoIAlign`` (``pooler="align"``) or :class:`MultiScaleRoIPool` (``"pool"``), same arguments."""
    check_choice("pooler", pooler, POOLERS)
    output_size = check_int("output_size", output_size, min_value=1)
    if isinstance(featmap_names, str) or not isinstance(featmap_names, (list, tuple)) or not featmap_names:
        raise TypeError(
            f"featmap_names must be a non-empty list of feature-map names such as ['0'], got {featmap_names!r}"
        )
    if pooler == "align":
        return MultiScaleRoIAlign(
            featmap_names=list(featmap_names), output_size=output_size, sampling_ratio=sampling_ratio
        )
    return MultiScaleRoIPool(list(featmap_names), output_size, sampling_ratio)


def small_mask_rcnn(
    num_classes: int,
    image_size: int = 128,
    *,
    pooler: str = "align",
    width: int = 16,
    out_channels: int = 64,
    anchor_sizes: Sequence[float] | None = None,
    aspect_ratios: Sequence[float] = DEFAULT_ASPECT_RATIOS,
    representation_size: int = 128,
    mask_layers: Sequence[int] = (32, 32),
    mask_resolution: int = 14,
    rpn_pre_nms_top_n: tuple[int, int] = (600, 300),
    rpn_post_nms_top_n: tuple[int, int] = (300, 100),
    box_batch_size_per_image: int = 32,
    box_positive_fraction: float = 0.5,
    box_score_thresh: float = 0.05,
    box_detections_per_img: int = 20,
):
    """torchvision's ``MaskRCNN`` with a :class:`~vislib.models.faster_rcnn.SmallBackbone`, for ``image_size`` px.

    Nothing is downloaded: every weight starts random. The RPN and box head are
    those of :func:`~vislib.models.faster_rcnn.small_faster_rcnn`; the mask branch
    pools 14 x 14 features (``mask_resolution``), runs ``len(mask_layers)`` 3x3
    conv-ReLU layers, upsamples to 28 x 28 and predicts one mask per class.

    Args:
        num_classes (int): classes *including the background*: 5 for the 4 shapes.
        image_size (int): the square images' size (a multiple of 8).
        pooler (str): ``"align"`` (RoI Align, the paper) or ``"pool"`` (RoI Pool) for the box *and*
            the mask branch.
        width, out_channels, anchor_sizes, aspect_ratios, representation_size, rpn_pre_nms_top_n,
            rpn_post_nms_top_n, box_batch_size_per_image, box_positive_fraction, box_score_thresh:
            as in :func:`~vislib.models.faster_rcnn.small_faster_rcnn`.
        mask_layers (sequence of int): channels of the mask FCN's conv layers (the paper: four of 256;
            here two of 32, which keeps the mask branch's cost near the backbone's on a CPU).
        mask_resolution (int): the mask branch's pooled size; its masks are twice as large (14 -> 28).
        box_detections_per_img (int): detections kept per image (a shapes image holds at most 4 objects).
    """
    from torchvision.models.detection import MaskRCNN
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor

    check_choice("pooler", pooler, POOLERS)
    check_type("mask_layers", mask_layers, (tuple, list), "a tuple of channel counts")
    if not mask_layers:
        raise ValueError("mask_layers must hold at least one channel count")
    mask_layers = tuple(
        check_int(f"mask_layers[{k}]", c, min_value=1, max_value=2048) for k, c in enumerate(mask_layers)
    )
    mask_resolution = check_int("mask_resolution", mask_resolution, min_value=1, max_value=64)
    box_detections_per_img = check_int("box_detections_per_img", box_detections_per_img, min_value=1)
    arguments, attributes = _rcnn_arguments(
        num_classes,
        image_size,
        width=width,
        out_channels=out_channels,
        anchor_sizes=anchor_sizes,
        aspect_ratios=aspect_ratios,
        representation_size=representation_size,
        rpn_pre_nms_top_n=rpn_pre_nms_top_n,
        rpn_post_nms_top_n=rpn_post_nms_top_n,
        box_batch_size_per_image=box_batch_size_per_image,
        box_positive_fraction=box_positive_fraction,
        box_score_thresh=box_score_thresh,
        box_roi_pool=make_pooler(pooler, 7),
    )
    channels = arguments["backbone"].out_channels
    model = MaskRCNN(
        **arguments,
        box_detections_per_img=box_detections_per_img,
        mask_roi_pool=make_pooler(pooler, mask_resolution),
        mask_head=MaskRCNNHeads(channels, mask_layers, dilation=1),
        mask_predictor=MaskRCNNPredictor(mask_layers[-1], mask_layers[-1], attributes["num_classes"]),
    )
    for name, value in attributes.items():
        setattr(model, name, value)
    model.pooler = pooler
    model.mask_size = 2 * mask_resolution
    return model
