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
:func:`time_rcnn_and_fast_rcnn` measures both on the same proposals.
:func:`proposal_recall` and :func:`recall_at_counts` say how many ground-truth
objects the proposals cover (IoU >= 0.5).

Boxes are torchvision's: ``Tensor[K, 4]`` ``(x1, y1, x2, y2)`` in pixels. Images are
``Tensor[3, H, W]`` floats in ``[0, 1]`` (RGB).
"""

from __future__ import annotations

import ctypes
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vislib._checks import check_callable, check_choice, check_int, check_number, check_tensor, check_type
from vislib.ops.boxes import box_iou

SEARCH_MODES = ("single", "fast", "quality")
"""Selective-search strategies: one colour space and one strategy, the paper's *fast* and *quality* settings."""

PHOTOS = ("astronaut", "chelsea", "coffee")
"""scikit-image's bundled colour photos (no download)."""


# --------------------------------------------------------------------------- images and photos


def _check_image(name: str, image) -> Tensor:
    """An RGB image as ``Tensor[3, H, W]`` floats in [0, 1]; a uint8 ``[H, W, 3]`` array is converted."""
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"{name} as a numpy array must be uint8 [H, W, 3] (RGB), got {image.dtype} {list(image.shape)}"
            )
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float() / 255
    check_tensor(name, image, ndim=3, floating=True)
    if image.shape[0] != 3:
        raise ValueError(f"{name} must be an RGB image [3, H, W], got {list(image.shape)}")
    if image.shape[1] < 2 or image.shape[2] < 2:
        raise ValueError(f"{name} must be at least 2 x 2 pixels, got {list(image.shape)}")
    if not torch.isfinite(image).all():
        raise ValueError(f"{name} must be finite")
    return image


def load_photo(name: str = "astronaut", size: int | None = None) -> Tensor:
    """One of scikit-image's bundled colour photos (:data:`PHOTOS`) as ``Tensor[3, H, W]`` in [0, 1].

    ``size`` (optional) resizes the longer side to ``size`` pixels (area averaging), keeping the aspect ratio.
    """
    check_choice("name", name, PHOTOS)
    from skimage import data

    picture = getattr(data, name)()
    if size is not None:
        import cv2

        size = check_int("size", size, min_value=16, max_value=4096)
        height, width = picture.shape[:2]
        scale = size / max(height, width)
        picture = cv2.resize(picture, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    return _check_image("photo", picture)


# --------------------------------------------------------------------------- selective search


def _seed_c_random(seed: int) -> bool:
    """Seed the C library's ``rand()``, which OpenCV's selective search uses to rank regions.

    Returns False where the C library cannot be reached (then the ranking is not reproducible).
    """
    for loader in (lambda: ctypes.CDLL(None), lambda: ctypes.cdll.msvcrt):
        try:
            loader().srand(ctypes.c_uint(seed))
            return True
        except (OSError, AttributeError, TypeError):
            continue
    return False


def selective_search(
    image,
    *,
    mode: str = "fast",
    max_proposals: int | None = 2000,
    min_size: float = 1.0,
    seed: int = 0,
) -> Tensor:
    """Region proposals by selective search (Uijlings et al. 2013), OpenCV's implementation.

    Selective search over-segments the image (Felzenszwalb's graph segmentation),
    then greedily merges the two most similar neighbouring regions (colour, texture,
    size, fill) until one is left; every region ever formed is a proposal. The
    proposals come *ranked* as in the paper: by the merge level at which they
    appeared times a random number, so large merged regions are not all last.
    ``seed`` seeds that random number (the C library's ``rand``), so a call is
    reproducible.

    Args:
        image: ``Tensor[3, H, W]`` in [0, 1] (RGB), or a uint8 ``[H, W, 3]`` RGB array.
        mode (str): ``"single"`` (one strategy: fastest, fewest boxes), ``"fast"`` (R-CNN's setting) or
            ``"quality"`` (more strategies and boxes, slower).
        max_proposals (int or None): keep the first ``max_proposals`` ranked proposals (R-CNN: 2000).
        min_size (float): drop proposals narrower or lower than this, in pixels.
        seed (int): seeds the ranking.

    Returns:
        float32 ``Tensor[K, 4]``: proposals ``(x1, y1, x2, y2)`` in pixels, best ranked first, inside the image.
    """
    image = _check_image("image", image)
    check_choice("mode", mode, SEARCH_MODES)
    if max_proposals is not None:
        max_proposals = check_int("max_proposals", max_proposals, min_value=1)
    min_size = check_number("min_size", min_size, min_value=0.0)
    seed = check_int("seed", seed, min_value=0, max_value=2**31 - 1)
    import cv2

    rgb = (image.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    search = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    search.setBaseImage(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    {
        "single": search.switchToSingleStrategy,
        "fast": search.switchToSelectiveSearchFast,
        "quality": search.switchToSelectiveSearchQuality,
    }[mode]()
    _seed_c_random(seed)
    rects = np.asarray(search.process(), dtype=np.float32).reshape(-1, 4)  # x, y, w, h
    boxes = torch.from_numpy(np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1))
    keep = ((boxes[:, 2] - boxes[:, 0]) >= min_size) & ((boxes[:, 3] - boxes[:, 1]) >= min_size)
    boxes = boxes[keep]
    return boxes[:max_proposals] if max_proposals is not None else boxes


# --------------------------------------------------------------------------- warping


def _check_boxes_in(name: str, boxes, image: Tensor) -> Tensor:
    check_tensor(name, boxes, shape=("K", 4))
    if not boxes.is_floating_point():
        boxes = boxes.float()
    if not torch.isfinite(boxes).all():
        raise ValueError(f"{name} must be finite")
    if ((boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])).any():
        bad = int(torch.nonzero((boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1]))[0])
        raise ValueError(f"{name} must have x2 > x1 and y2 > y1; box {bad} is {boxes[bad].tolist()}")
    height, width = image.shape[-2:]
    outside = (boxes[:, 0] >= width) | (boxes[:, 1] >= height) | (boxes[:, 2] <= 0) | (boxes[:, 3] <= 0)
    if outside.any():
        bad = int(torch.nonzero(outside)[0])
        raise ValueError(f"{name}[{bad}] = {boxes[bad].tolist()} lies outside the {width} x {height} image")
    return boxes


def crop_box(image: Tensor, box: Sequence[float]) -> Tensor:
    """The whole pixels a box touches: ``image[:, floor(y1):ceil(y2), floor(x1):ceil(x2)]``, clipped to the image."""
    height, width = image.shape[-2:]
    x1, y1, x2, y2 = (float(v) for v in box)
    left, top = max(0, math.floor(x1)), max(0, math.floor(y1))
    right, bottom = min(width, math.ceil(x2)), min(height, math.ceil(y2))
    return image[:, top:bottom, left:right]


def warp_regions(image, boxes: Tensor, size: int = 56) -> Tensor:
    """R-CNN's warping: crop every box and resize it to ``size x size``, whatever its aspect ratio.

    Each crop (:func:`crop_box`) is resized by bilinear interpolation with
    anti-aliasing (``F.interpolate(..., mode="bilinear", align_corners=False,
    antialias=True)``), which is exactly ``torchvision.transforms.functional.resize(crop,
    [size, size])``. The paper warps to 227 x 227 for AlexNet (after adding 16 pixels
    of context around the box); our small network takes 56 x 56.

    Args:
        image: ``Tensor[3, H, W]`` in [0, 1], or a uint8 ``[H, W, 3]`` RGB array.
        boxes: ``Tensor[K, 4]`` xyxy pixels, each overlapping the image, with ``x2 > x1`` and ``y2 > y1``.
        size (int): the side of the warped regions.

    Returns:
        ``Tensor[K, 3, size, size]``.
    """
    image = _check_image("image", image)
    boxes = _check_boxes_in("boxes", boxes, image)
    size = check_int("size", size, min_value=1, max_value=1024)
    warped = image.new_empty((len(boxes), 3, size, size))
    for k, box in enumerate(boxes.tolist()):
        crop = crop_box(image, box)
        warped[k] = F.interpolate(crop[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True)[
            0
        ]
    return warped


# --------------------------------------------------------------------------- one network, two ways


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
        return self.head(self.trunk(regions))


def _check_model(model) -> RegionCNN:
    check_type("model", model, RegionCNN, "a vislib.rcnn.RegionCNN")
    return model


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def rcnn_features(model: RegionCNN, image, boxes: Tensor, *, batch_size: int = 256) -> Tensor:
    """R-CNN: warp every region to ``model.region_size`` and run the trunk on each.

    ``image`` ``[3, H, W]``, ``boxes`` ``[K, 4]`` xyxy pixels; regions go through the network
    ``batch_size`` at a time. Returns ``[K, C, P, P]`` with ``C = model.channels``, ``P = model.pooled_size``.
    """
    model = _check_model(model)
    image = _check_image("image", image)
    boxes = _check_boxes_in("boxes", boxes, image)
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
    image = _check_image("image", image)
    boxes = _check_boxes_in("boxes", boxes, image)
    pool = _default_pool if pool is None else check_callable("pool", pool)
    device = _device(model)
    feature_map = model.trunk(image[None].to(device))
    return pool(feature_map, [boxes.to(device)], model.pooled_size, 1.0 / model.stride)


@torch.no_grad()
def fast_rcnn_forward(model: RegionCNN, image, boxes: Tensor, *, pool: Callable | None = None) -> Tensor:
    """Fast R-CNN: class scores ``[K, num_classes]`` from the shared feature map (the head runs per RoI)."""
    return model.head(fast_rcnn_features(model, image, boxes, pool=pool))


# --------------------------------------------------------------------------- timing


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
    image = _check_image("image", image)
    boxes = _check_boxes_in("boxes", boxes, image)
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


# --------------------------------------------------------------------------- recall of proposals


def _check_gt(name: str, boxes) -> Tensor:
    check_tensor(name, boxes, shape=("N", 4))
    return boxes.float()


def proposal_recall(proposals: Tensor, ground_truth: Tensor, iou_threshold: float = 0.5) -> float:
    """The fraction of ground-truth boxes that some proposal overlaps with IoU >= ``iou_threshold``.

    NaN for an image without ground truth.
    """
    check_tensor("proposals", proposals, shape=("K", 4))
    ground_truth = _check_gt("ground_truth", ground_truth)
    iou_threshold = check_number("iou_threshold", iou_threshold, min_value=0.0, max_value=1.0)
    if len(ground_truth) == 0:
        return math.nan
    if len(proposals) == 0:
        return 0.0
    best = box_iou(ground_truth, proposals.float()).max(dim=1).values
    return float((best >= iou_threshold).float().mean())


def recall_at_counts(
    proposals: Sequence[Tensor],
    ground_truth: Sequence[Tensor],
    counts: Sequence[int],
    iou_threshold: float = 0.5,
) -> np.ndarray:
    """Recall pooled over images when each image keeps only its first ``k`` proposals, for each ``k`` in ``counts``.

    ``proposals[i]`` are image ``i``'s proposals, best first; ``ground_truth[i]`` its boxes.
    Returns float64 ``[len(counts)]``: covered objects / all objects (IoU >= ``iou_threshold``).
    """
    check_type("proposals", proposals, (list, tuple), "a list of per-image proposal tensors")
    check_type("ground_truth", ground_truth, (list, tuple), "a list of per-image box tensors")
    if len(proposals) != len(ground_truth):
        raise ValueError(f"proposals has {len(proposals)} images but ground_truth has {len(ground_truth)}")
    check_type("counts", counts, (list, tuple, range, np.ndarray), "a sequence of proposal counts")
    counts = [check_int("counts", int(k) if isinstance(k, np.integer) else k, min_value=0) for k in counts]
    iou_threshold = check_number("iou_threshold", iou_threshold, min_value=0.0, max_value=1.0)
    covered = np.zeros(len(counts))
    total = 0
    for i, (boxes, truth) in enumerate(zip(proposals, ground_truth)):
        check_tensor(f"proposals[{i}]", boxes, shape=("K", 4))
        truth = _check_gt(f"ground_truth[{i}]", truth)
        total += len(truth)
        if len(truth) == 0 or len(boxes) == 0:
            continue
        iou = box_iou(truth, boxes.float())  # [N, K]
        # the rank of the first proposal that covers each object (K if none does)
        hits = iou >= iou_threshold
        first = torch.where(hits.any(dim=1), hits.float().argmax(dim=1), torch.full((len(truth),), len(boxes)))
        for c, k in enumerate(counts):
            covered[c] += int((first < k).sum())
    return covered / total if total else np.full(len(counts), np.nan)
