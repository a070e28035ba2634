"""Instance-mask operations of Mask R-CNN (He et al. 2017, arXiv 1703.06870), with torchvision's numbers.

* :func:`paste_masks`: a predicted ``M x M`` mask (28 x 28) resized into its
  box and placed in the image: torchvision's ``paste_masks_in_image`` (the last
  step of ``MaskRCNN``'s post-processing), optionally thresholded;
* :func:`project_masks_on_boxes`: the mask *targets*: each ground-truth mask
  cropped by its proposal and resampled to ``M x M`` with RoI Align, as
  torchvision's ``roi_heads`` computes them for the mask loss;
* :func:`mask_iou`: the pairwise IoU of two sets of binary masks, as
  ``pycocotools.mask.iou`` computes it for COCO's ``segm`` evaluation.

``tests/test_mask_rcnn_ops.py`` proves each equal to its library twin.
Boxes are xyxy in image pixels (torchvision's convention).
"""

from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F
from torch import Tensor

from vislib._validation import check_int, check_number, check_tensor, check_type
from vislib.ops.roi import roi_align

__all__ = ["MAX_PASTED_PIXELS", "mask_iou", "paste_masks", "project_masks_on_boxes"]

#: The most pixels :func:`paste_masks` builds (masks x height x width): 2**28 float32 values, 1 GiB.
MAX_PASTED_PIXELS = 2**28


def paste_masks(masks: Tensor, boxes: Tensor, image_size, threshold: float | None = None, padding: int = 1) -> Tensor:
    """Paste ``M x M`` masks into their boxes in an image of ``image_size``.

    The semantics of torchvision's ``paste_masks_in_image`` (``threshold=None``
    gives exactly its output), step by step, for each mask and box:

    1. **pad** the mask with ``padding`` zeros on every side (``M + 2 * padding``
       square), and **grow the box** about its centre by ``(M + 2 * padding) / M``,
       so that the mask's border pixels get a zero neighbour to fade into;
    2. **round** the grown box's corners to whole pixels (towards zero, as
       ``Tensor.to(int64)`` does); the box covers pixels ``x1 .. x2`` and
       ``y1 .. y2`` inclusive, ``w = x2 - x1 + 1`` by ``h = y2 - y1 + 1``;
    3. **resize** the padded mask to ``h x w`` by bilinear interpolation
       (``F.interpolate``, ``align_corners=False``);
    4. **place** it in an image of zeros at ``(y1, x1)``, clipped to the image (a box wholly
       outside gives an empty mask, where torchvision's slicing fails or wraps around).

    Args:
        masks (Tensor[N, 1, M, M] or Tensor[N, M, M]): mask probabilities (floats).
        boxes (Tensor[N, 4]): xyxy boxes in image pixels, ``x2 >= x1``, ``y2 >= y1``.
        image_size (tuple[int, int]): the image's ``(height, width)``.
        threshold (float or None): ``None`` returns the pasted probabilities;
            a number returns the boolean masks ``probability > threshold``.
        padding (int): zeros added around each mask (torchvision: 1).

    Returns:
        Tensor[N, 1, H, W]: the pasted masks (float, or bool with a threshold).
    """
    masks = _check_masks("masks", masks)
    boxes = _check_boxes("boxes", boxes)
    if len(masks) != len(boxes):
        raise ValueError(f"masks and boxes must have the same count: masks has {len(masks)}, boxes {len(boxes)}")
    height, width = _check_image_size("image_size", image_size)
    if len(masks) * height * width > MAX_PASTED_PIXELS:
        raise ValueError(
            f"image_size {height} x {width} for {len(masks)} masks needs {len(masks) * height * width:,} pixels, "
            f"more than the limit of {MAX_PASTED_PIXELS:,} (MAX_PASTED_PIXELS); paste fewer masks at a time"
        )
    if threshold is not None:
        threshold = check_number("threshold", threshold, min_value=0.0, max_value=1.0)
    padding = check_int("padding", padding, min_value=0)

    size = masks.shape[-1]
    scale = (size + 2 * padding) / size
    padded = F.pad(masks[:, 0], (padding,) * 4)  # [N, M + 2p, M + 2p]
    centres = (boxes[:, :2] + boxes[:, 2:]) * 0.5
    half_sizes = (boxes[:, 2:] - boxes[:, :2]) * 0.5 * scale
    grown = torch.cat([centres - half_sizes, centres + half_sizes], dim=1).to(torch.int64)

    pasted = masks.new_zeros((len(masks), 1, height, width))
    for k, (mask, (x1, y1, x2, y2)) in enumerate(zip(padded, grown.tolist())):
        w, h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
        resized = F.interpolate(mask[None, None], size=(h, w), mode="bilinear", align_corners=False)[0, 0]
        left, right = max(x1, 0), min(x2 + 1, width)  # the part inside the image
        top, bottom = max(y1, 0), min(y2 + 1, height)
        if right > left and bottom > top:  # else the box lies outside the image
            pasted[k, 0, top:bottom, left:right] = resized[top - y1 : bottom - y1, left - x1 : right - x1]
    return pasted if threshold is None else pasted > threshold


def project_masks_on_boxes(gt_masks: Tensor, boxes: Tensor, matched_idxs: Tensor, M: int = 28) -> Tensor:
    """Mask R-CNN's mask targets: each ground-truth mask cropped by a proposal, resampled to ``M x M``.

    For proposal ``k`` (a positive RoI, matched to ground-truth object
    ``matched_idxs[k]``), the target is the matched object's binary mask read
    inside the proposal's box by RoI Align (``spatial_scale = 1``: the mask is
    its own "feature map" at image resolution; adaptive sampling, ``aligned=False``,
    torchvision's settings). Its values are in ``[0, 1]``: the fraction of each
    of the ``M x M`` bins the object covers. The mask head's output for the
    object's class is trained towards it with a per-pixel binary cross-entropy.
    The signature and numbers are those of torchvision's
    ``roi_heads.project_masks_on_boxes``; this one uses :func:`vislib.ops.roi_align`.

    Args:
        gt_masks (Tensor[G, H, W]): the image's ground-truth instance masks.
        boxes (Tensor[K, 4]): the positive proposals, xyxy image pixels.
        matched_idxs (Tensor[K]): for each proposal, the index of its ground-truth object.
        M (int): the targets' size (28 in the paper).

    Returns:
        Tensor[K, M, M]: float targets.
    """
    check_tensor("gt_masks", gt_masks, ndim=3)
    boxes = _check_boxes("boxes", boxes, require_ordered=False)
    check_tensor("matched_idxs", matched_idxs, shape=("K",))
    if len(matched_idxs) != len(boxes):
        raise ValueError(f"matched_idxs must have one index per box ({len(boxes)}), got {len(matched_idxs)}")
    if len(matched_idxs) and (int(matched_idxs.min()) < 0 or int(matched_idxs.max()) >= len(gt_masks)):
        raise ValueError(
            f"matched_idxs must index gt_masks (0 .. {len(gt_masks) - 1}), "
            f"got values {int(matched_idxs.min())} .. {int(matched_idxs.max())}"
        )
    M = check_int("M", M, min_value=1)
    rois = torch.cat([matched_idxs.to(boxes)[:, None], boxes], dim=1)  # [K, 5]: (object, x1, y1, x2, y2)
    return roi_align(gt_masks[:, None].to(rois), rois, (M, M), spatial_scale=1.0, sampling_ratio=-1, aligned=False)[
        :, 0
    ]


def mask_iou(masks1: Tensor, masks2: Tensor) -> Tensor:
    """Pairwise IoU of two sets of binary masks: ``|A and B| / |A or B|``.

    Args:
        masks1 (Tensor[N, H, W]), masks2 (Tensor[M, H, W]): binary masks (bool, or
            0 / 1 numbers) of the same image size.

    Returns:
        Tensor[N, M] (float64): IoU of every pair; 0 where both masks are empty
        (``pycocotools.mask.iou``'s value, with ``iscrowd`` all zero).
    """
    masks1 = _check_binary_masks("masks1", masks1)
    masks2 = _check_binary_masks("masks2", masks2)
    if masks1.shape[1:] != masks2.shape[1:]:
        raise ValueError(
            f"masks1 and masks2 must have the same image size, got {list(masks1.shape[1:])} "
            f"and {list(masks2.shape[1:])}"
        )
    a = masks1.flatten(1).double()  # [N, H*W]
    b = masks2.flatten(1).double()  # [M, H*W]
    intersection = a @ b.T  # [N, M]
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - intersection
    return torch.where(union > 0, intersection / union.clamp(min=1), torch.zeros_like(union))


# --------------------------------------------------------------------------- checks


def _check_masks(name: str, masks) -> Tensor:
    check_tensor(name, masks, floating=True)
    if masks.ndim == 3:
        masks = masks[:, None]
    if masks.ndim != 4 or masks.shape[1] != 1 or masks.shape[2] != masks.shape[3] or masks.shape[2] < 1:
        raise ValueError(f"{name} must be [N, 1, M, M] or [N, M, M] (square masks), got {list(masks.shape)}")
    return masks


def _check_boxes(name: str, boxes, require_ordered: bool = True) -> Tensor:
    check_tensor(name, boxes, shape=("N", 4), floating=True)
    if not torch.isfinite(boxes).all():
        raise ValueError(f"{name} must be finite")
    if require_ordered and len(boxes):
        bad = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
        if bad.any():
            k = int(bad.nonzero()[0])
            raise ValueError(
                f"{name} must be xyxy with x2 >= x1 and y2 >= y1; {name}[{k}] is "
                f"{[round(v, 3) for v in boxes[k].tolist()]}"
            )
    return boxes


def _check_image_size(name: str, image_size) -> tuple[int, int]:
    if not isinstance(image_size, (tuple, list, torch.Size)) or len(image_size) != 2:
        raise ValueError(f"{name} must be (height, width): two positive integers, got {image_size!r}")
    for value in image_size:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be (height, width): two positive integers, got {image_size!r}")
        if value < 1:
            raise ValueError(f"{name} must be (height, width): two positive integers, got {image_size!r}")
    return int(image_size[0]), int(image_size[1])


def _check_binary_masks(name: str, masks) -> Tensor:
    check_type(name, masks, Tensor, "a torch.Tensor of binary masks [N, H, W]")
    if masks.ndim != 3:
        raise ValueError(f"{name} must be binary masks [N, H, W], got shape {list(masks.shape)}")
    if masks.dtype != torch.bool and masks.numel() and not ((masks == 0) | (masks == 1)).all():
        raise ValueError(f"{name} must be binary (bool or 0 / 1 values)")
    return masks
