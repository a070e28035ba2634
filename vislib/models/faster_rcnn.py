"""A small Faster R-CNN (Ren, He, Girshick & Sun 2015, arXiv 1506.01497) for the shapes data.

:func:`small_faster_rcnn` builds torchvision's own
:class:`torchvision.models.detection.FasterRCNN` (no downloaded weights: the
backbone is built here and starts from random weights) around a small
convolutional backbone whose one feature map has stride 8, so a 128 px image
gives a 16 x 16 map. The three parts are torchvision's, sized for small images:

* the **region proposal network** (RPN): at every feature-map location,
  ``len(sizes) * len(ratios)`` anchors (:class:`AnchorGenerator`); a 3x3 conv
  then 1x1 convs give each anchor an objectness score and four box deltas;
* **RoI Align** (:class:`torchvision.ops.MultiScaleRoIAlign`, 7 x 7 bins,
  2 x 2 samples per bin) cuts a fixed-size feature out of the shared map for
  each proposal;
* the **detector head**: two fully connected layers, then per-class scores
  and per-class box deltas (:class:`TwoMLPHead`, :class:`FastRCNNPredictor`).

:func:`anchor_grid` writes out where the anchors are (equal to
``AnchorGenerator``, which the tests prove), and :func:`rpn_proposals` runs the
backbone and the RPN alone to show the proposals before the detector head.

Conventions: boxes xyxy in pixels; ``num_classes`` counts the background, as in
torchvision (4 shapes -> ``num_classes=5``), and labels count from 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from vislib._validation import check_int, check_number, check_tensor, check_type

__all__ = [
    "anchor_grid",
    "cell_anchors",
    "count_parameters_by_part",
    "DEFAULT_ANCHOR_SIZES",
    "default_anchor_sizes",
    "DEFAULT_ASPECT_RATIOS",
    "rpn_proposals",
    "small_faster_rcnn",
    "SmallBackbone",
    "STRIDE",
]

STRIDE = 8
"""The backbone halves the resolution three times: one feature map at 1/8 of the image."""

DEFAULT_ANCHOR_SIZES = (16, 32, 64)
"""Anchor sizes in pixels (the square root of an anchor's area) for 128 px shapes images; the paper's
128, 256, 512 on ~600 px images, scaled down. :func:`default_anchor_sizes` scales them to other sizes."""

DEFAULT_ASPECT_RATIOS = (0.5, 1.0, 2.0)
"""Anchor aspect ratios, height / width (torchvision's definition): the paper's 1:2, 1:1, 2:1."""


class SmallBackbone(nn.Sequential):
    """Conv-BN-ReLU blocks with three 2x2 max-pools: ``[N, 3, H, W] -> [N, out_channels, H/8, W/8]``.

    ``out_channels`` is the attribute :class:`FasterRCNN` reads to size the RPN head and the box head.
    """

    def __init__(self, width: int = 16, out_channels: int = 64):
        width = check_int("width", width, min_value=1, max_value=512)
        out_channels = check_int("out_channels", out_channels, min_value=1, max_value=2048)

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        super().__init__(
            *block(3, width),
            nn.MaxPool2d(2),  # 1/2
            *block(width, 2 * width),
            nn.MaxPool2d(2),  # 1/4
            *block(2 * width, 2 * width),
            *block(2 * width, 2 * width),
            nn.MaxPool2d(2),  # 1/8
            *block(2 * width, out_channels),
            *block(out_channels, out_channels),
        )
        self.out_channels = out_channels
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")


def default_anchor_sizes(image_size: int) -> tuple[float, ...]:
    """Anchor sizes for ``image_size`` px shapes images: 1/8, 1/4 and 1/2 of the image (16, 32, 64 at 128 px)."""
    image_size = check_int("image_size", image_size, min_value=8, max_value=4096)
    return tuple(image_size / k for k in (8, 4, 2))


def _check_sizes_ratios(sizes, aspect_ratios) -> tuple[tuple[float, ...], tuple[float, ...]]:
    check_type("sizes", sizes, (tuple, list), "a tuple of anchor sizes in pixels")
    check_type("aspect_ratios", aspect_ratios, (tuple, list), "a tuple of aspect ratios (height / width)")
    if not sizes or not aspect_ratios:
        raise ValueError("sizes and aspect_ratios must each hold at least one value")
    sizes = tuple(check_number(f"sizes[{k}]", s, min_value=1e-3) for k, s in enumerate(sizes))
    aspect_ratios = tuple(check_number(f"aspect_ratios[{k}]", r, min_value=1e-3) for k, r in enumerate(aspect_ratios))
    return sizes, aspect_ratios


def small_faster_rcnn(
    num_classes: int,
    image_size: int = 128,
    *,
    width: int = 16,
    out_channels: int = 64,
    anchor_sizes: Sequence[float] | None = None,
    aspect_ratios: Sequence[float] = DEFAULT_ASPECT_RATIOS,
    representation_size: int = 128,
    rpn_pre_nms_top_n: tuple[int, int] = (600, 300),
    rpn_post_nms_top_n: tuple[int, int] = (300, 100),
    box_batch_size_per_image: int = 32,
    box_positive_fraction: float = 0.5,
    box_score_thresh: float = 0.05,
):
    """torchvision's ``FasterRCNN`` with a :class:`SmallBackbone`, sized for ``image_size`` px images.

    Nothing is downloaded: the backbone is built here with random weights (the
    equivalent of ``weights=None, weights_backbone=None``).

    Args:
        num_classes (int): classes *including the background* (torchvision's convention): 5 for the 4 shapes.
        image_size (int): the square images' size; the model's transform keeps them at that size
            (``min_size = max_size = image_size``) and normalizes with mean 0.5, std 0.25.
        width, out_channels (int): the backbone's channels (first block, feature map).
        anchor_sizes, aspect_ratios: the anchors at every feature-map location: every size (pixels) with
            every ratio (height / width). Default sizes: :func:`default_anchor_sizes` (``image_size`` / 8, / 4,
            / 2); default ratios :data:`DEFAULT_ASPECT_RATIOS`.
        representation_size (int): the width of the detector head's two fully connected layers.
        rpn_pre_nms_top_n, rpn_post_nms_top_n: ``(training, testing)`` numbers of proposals the RPN keeps
            before and after its NMS (torchvision's defaults, 2000 / 1000, are for 800 px images).
        box_batch_size_per_image (int): proposals sampled per image to train the detector head.
        box_positive_fraction (float): at most this fraction of them are objects (IoU >= 0.5 with one);
            the rest is background. Fast R-CNN samples 64 per image, a quarter positive (torchvision: 512,
            0.25); a shapes image holds 1 to 4 objects, and 32 with up to half positive trains the head's
            classifier from scratch several times faster here.
        box_score_thresh (float): detections scoring below are dropped (0.05: low, for the PR curve).
    """
    from torchvision.models.detection import FasterRCNN

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
    )
    model = FasterRCNN(**arguments)
    for name, value in attributes.items():
        setattr(model, name, value)
    return model


def count_parameters_by_part(model: nn.Module) -> dict[str, int]:
    """Trainable parameters of a Faster R-CNN's parts: ``backbone``, ``rpn``, ``roi_heads`` and ``total``."""
    check_type("model", model, nn.Module, "a torch.nn.Module")
    counts = {}
    for part in ("backbone", "rpn", "roi_heads"):
        module = getattr(model, part, None)
        if module is None:
            raise TypeError(f"model must be a torchvision FasterRCNN (it has no {part!r})")
        counts[part] = sum(p.numel() for p in module.parameters() if p.requires_grad)
    counts["total"] = sum(counts.values())
    return counts


# --------------------------------------------------------------------------- anchors


def cell_anchors(sizes: Sequence[float], aspect_ratios: Sequence[float]) -> Tensor:
    """The ``len(ratios) * len(sizes)`` anchors around the origin, ``[A, 4]`` xyxy, ratio-major.

    An anchor of size ``s`` and ratio ``r = h / w`` has area ``s^2``: ``w = s / sqrt(r)``,
    ``h = s * sqrt(r)``. Corners are rounded to whole pixels, as torchvision does.
    """
    sizes, ratios = _check_sizes_ratios(sizes, aspect_ratios)
    scales = torch.tensor(sizes, dtype=torch.float32)
    h_ratios = torch.sqrt(torch.tensor(ratios, dtype=torch.float32))
    w_ratios = 1 / h_ratios  # the same arithmetic as torchvision
    widths = (w_ratios[:, None] * scales[None, :]).reshape(-1)  # [ratios, sizes] -> [A]
    heights = (h_ratios[:, None] * scales[None, :]).reshape(-1)
    return (torch.stack([-widths, -heights, widths, heights], dim=1) / 2).round()


def anchor_grid(
    image_size: int | tuple[int, int],
    feature_size: int | tuple[int, int],
    sizes: Sequence[float] = DEFAULT_ANCHOR_SIZES,
    aspect_ratios: Sequence[float] = DEFAULT_ASPECT_RATIOS,
) -> tuple[Tensor, Tensor]:
    """Every anchor of an image, as torchvision's ``AnchorGenerator`` places them.

    The feature map's location ``(i, j)`` sits at ``(x, y) = (j * stride_x, i * stride_y)`` in the image, with
    ``stride = image_size // feature_size`` (torchvision's choice: the top-left corner of the cell the
    location covers), and carries the :func:`cell_anchors` shifted there.

    Returns:
        ``(anchors [H_f * W_f * A, 4], centres [H_f * W_f, 2])``: anchors xyxy in pixels, ordered by row,
        then column, then ratio, then size (torchvision's order, so ``anchors.view(H_f, W_f, A, 4)``); the
        centres as ``(x, y)``.
    """
    (image_h, image_w), (feature_h, feature_w) = _pair("image_size", image_size), _pair("feature_size", feature_size)
    if feature_h > image_h or feature_w > image_w:
        raise ValueError(f"feature_size {(feature_h, feature_w)} must not exceed image_size {(image_h, image_w)}")
    base = cell_anchors(sizes, aspect_ratios)
    stride_y, stride_x = image_h // feature_h, image_w // feature_w
    ys, xs = torch.meshgrid(torch.arange(feature_h) * stride_y, torch.arange(feature_w) * stride_x, indexing="ij")
    centres = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1).float()  # [L, 2]
    shifts = centres.repeat(1, 2)  # [L, 4]: x, y, x, y
    return (shifts[:, None, :] + base[None, :, :]).reshape(-1, 4), centres


def _pair(name: str, value) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an integer or a (height, width) pair, got {value!r}")
        return check_int(name, value[0], min_value=1), check_int(name, value[1], min_value=1)
    value = check_int(name, value, min_value=1)
    return value, value


# --------------------------------------------------------------------------- proposals


def _check_faster_rcnn(model) -> None:
    for part in ("transform", "backbone", "rpn", "roi_heads"):
        if not hasattr(model, part):
            raise TypeError(f"model must be a torchvision FasterRCNN (it has no {part!r})")


def _image_list(name: str, images) -> list[Tensor]:
    if isinstance(images, Tensor):
        check_tensor(name, images, ndim=(3, 4), floating=True)
        images = [images] if images.ndim == 3 else list(images)
    check_type(name, images, (list, tuple), "an image [3, H, W], a batch [N, 3, H, W] or a list of images")
    for k, image in enumerate(images):
        check_tensor(f"{name}[{k}]", image, ndim=3, floating=True)
        if image.shape[0] != 3:
            raise ValueError(f"{name}[{k}] must be [3, H, W], got {list(image.shape)}")
    return list(images)


@torch.no_grad()
def rpn_proposals(model, images, *, device=None) -> list[dict]:
    """The RPN's proposals for ``images``, before the detector head (evaluation mode, no gradients).

    Runs the model's transform, backbone and RPN exactly as ``model(images)`` does,
    and returns per image ``{"boxes": [P, 4], "scores": [P]}`` on the CPU: the
    ``rpn_post_nms_top_n`` (testing) proposals that survive the RPN's NMS, best
    first, in the input image's pixels, with their objectness probability. These
    are the boxes the detector head then classifies and refines.
    """
    _check_faster_rcnn(model)
    images = _image_list("images", images)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        original_sizes = [tuple(image.shape[-2:]) for image in images]
        image_list, _ = model.transform([image.to(device) for image in images])
        features = model.backbone(image_list.tensors)
        if isinstance(features, Tensor):
            features = {"0": features}
        rpn = model.rpn
        feature_maps = list(features.values())
        objectness, deltas = rpn.head(feature_maps)
        anchors = rpn.anchor_generator(image_list, feature_maps)
        per_level = [o[0].numel() for o in objectness]
        from torchvision.models.detection.rpn import concat_box_prediction_layers

        objectness, deltas = concat_box_prediction_layers(objectness, deltas)
        proposals = rpn.box_coder.decode(deltas, anchors).view(len(anchors), -1, 4)
        boxes, scores = rpn.filter_proposals(proposals, objectness, image_list.image_sizes, per_level)
        results = []
        for box, score, resized, original in zip(boxes, scores, image_list.image_sizes, original_sizes):
            ratio_h, ratio_w = original[0] / resized[0], original[1] / resized[1]
            scale = torch.tensor([ratio_w, ratio_h, ratio_w, ratio_h], device=box.device)
            results.append({"boxes": (box * scale).cpu(), "scores": score.cpu()})
        return results
    finally:
        model.train(was_training)


# --------------------------------------------------------------------------- the shared builder


def _rcnn_arguments(
    num_classes,
    image_size,
    *,
    width,
    out_channels,
    anchor_sizes,
    aspect_ratios,
    representation_size,
    rpn_pre_nms_top_n,
    rpn_post_nms_top_n,
    box_batch_size_per_image,
    box_positive_fraction,
    box_score_thresh,
    box_roi_pool=None,
) -> tuple[dict, dict]:
    """What :func:`small_faster_rcnn` and :func:`vislib.models.mask_rcnn.small_mask_rcnn` share, checked.

    Returns the keyword arguments of torchvision's ``FasterRCNN`` / ``MaskRCNN`` for the backbone, the
    transform, the RPN and the box branch (``box_roi_pool``, default RoI Align 7 x 7 with 2 x 2 samples),
    and the attributes the built model gets (``image_size``, ``num_classes``, ``anchor_sizes``,
    ``aspect_ratios``). The modules with weights are built in a fixed order (backbone, box head, box
    predictor), so a seed gives the same weights in both models.
    """
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.models.detection.rpn import AnchorGenerator
    from torchvision.ops import MultiScaleRoIAlign

    num_classes = check_int("num_classes", num_classes, min_value=2, max_value=1000)
    image_size = check_int("image_size", image_size, min_value=32, max_value=4096)
    if image_size % STRIDE:
        raise ValueError(f"image_size must be a multiple of the backbone's stride {STRIDE}, got {image_size}")
    if anchor_sizes is None:
        anchor_sizes = default_anchor_sizes(image_size)
    sizes, ratios = _check_sizes_ratios(anchor_sizes, aspect_ratios)
    representation_size = check_int("representation_size", representation_size, min_value=1, max_value=8192)
    for name, pair in (("rpn_pre_nms_top_n", rpn_pre_nms_top_n), ("rpn_post_nms_top_n", rpn_post_nms_top_n)):
        check_type(name, pair, (tuple, list), "a (training, testing) pair of integers")
        if len(pair) != 2:
            raise ValueError(f"{name} must be a (training, testing) pair, got {pair!r}")
        for value in pair:
            check_int(name, value, min_value=1)
    box_batch_size_per_image = check_int("box_batch_size_per_image", box_batch_size_per_image, min_value=1)
    box_positive_fraction = check_number("box_positive_fraction", box_positive_fraction, min_value=0.01, max_value=1.0)
    box_score_thresh = check_number("box_score_thresh", box_score_thresh, min_value=0.0, max_value=1.0)
    if box_roi_pool is None:
        box_roi_pool = MultiScaleRoIAlign(featmap_names=["0"], output_size=7, sampling_ratio=2)

    backbone = SmallBackbone(width, out_channels)
    arguments = {
        "backbone": backbone,
        "min_size": image_size,
        "max_size": image_size,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.25, 0.25, 0.25],
        "rpn_anchor_generator": AnchorGenerator(sizes=(sizes,), aspect_ratios=(ratios,)),
        "rpn_pre_nms_top_n_train": rpn_pre_nms_top_n[0],
        "rpn_pre_nms_top_n_test": rpn_pre_nms_top_n[1],
        "rpn_post_nms_top_n_train": rpn_post_nms_top_n[0],
        "rpn_post_nms_top_n_test": rpn_post_nms_top_n[1],
        "box_roi_pool": box_roi_pool,
        "box_head": TwoMLPHead(backbone.out_channels * 7 * 7, representation_size),
        "box_predictor": FastRCNNPredictor(representation_size, num_classes),
        "box_batch_size_per_image": box_batch_size_per_image,
        "box_positive_fraction": box_positive_fraction,
        "box_score_thresh": box_score_thresh,
    }
    attributes = {"image_size": image_size, "num_classes": num_classes, "anchor_sizes": sizes, "aspect_ratios": ratios}
    return arguments, attributes
