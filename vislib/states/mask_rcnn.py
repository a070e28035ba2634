"""The instance explorer's state: one detection of a trained Mask R-CNN, from 28 x 28 to pasted mask.

:class:`InstanceExplorer` runs the model once on a few held-out images and
keeps, for each detection scoring at least ``min_score``: its box, class and
score, the mask head's 28 x 28 probabilities for that class, the same
probabilities pasted into the image (:func:`vislib.ops.masks.paste_masks`,
equal to torchvision's), and the ground-truth object it matches (the one of
highest box IoU). :meth:`InstanceExplorer.state` then only indexes and
thresholds: ``state(image_index, detection, threshold)`` -> :class:`InstanceState`
with the binary mask and its IoU with the matched ground truth
(:func:`vislib.ops.masks.mask_iou`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vislib._validation import check_int, check_number, check_type
from vislib.ops.boxes import box_iou
from vislib.ops.masks import mask_iou, paste_masks

__all__ = ["InstanceExplorer", "InstanceState"]


@dataclass(frozen=True)
class InstanceState:
    image_index: int
    detection: int  # the index among this image's detections
    num_detections: int
    threshold: float
    box: np.ndarray  # [4] xyxy pixels
    label: int  # from 1
    score: float
    mask_probs: np.ndarray  # [M, M]: the mask head's probabilities for the detected class
    pasted_probs: np.ndarray  # [H, W]: the same, pasted into the image
    mask: np.ndarray  # bool [H, W]: pasted_probs > threshold
    truth_index: int  # the matched ground-truth object, -1 if the image has none
    truth_box: np.ndarray | None  # [4]
    truth_label: int  # 0 if none
    truth_mask: np.ndarray  # bool [H, W] (all False if none)
    box_iou: float
    mask_iou: float  # of ``mask`` with ``truth_mask``
    truth_boxes: np.ndarray  # [G, 4]: every ground-truth box of the image

    @property
    def overlap(self) -> np.ndarray:
        """``[H, W]`` codes: 0 neither, 1 both (true positive pixel), 2 predicted only, 3 ground truth only."""
        return np.where(self.mask & self.truth_mask, 1, np.where(self.mask, 2, np.where(self.truth_mask, 3, 0)))


class InstanceExplorer:
    """A trained Mask R-CNN's detections on ``samples``, precomputed for :meth:`state`.

    Args:
        model: a torchvision ``MaskRCNN`` (from :func:`vislib.models.mask_rcnn.small_mask_rcnn`), trained.
        samples (list): ``(image [3, H, W], target)`` pairs with ``boxes``, ``labels`` and ``masks``.
        min_score (float): detections scoring lower are left out; images left without any are dropped.
    """

    def __init__(self, model, samples, *, min_score: float = 0.5):
        from vislib.training.mask_rcnn import predict

        check_type("samples", samples, (list, tuple), "a list of (image, target) pairs")
        min_score = check_number("min_score", min_score, min_value=0.0, max_value=1.0)
        predictions = predict(model, [image for image, _ in samples], keep_mask_probs=True)
        self.images, self.entries = [], []
        for (image, target), prediction in zip(samples, predictions):
            keep = prediction["scores"] >= min_score
            if not keep.any():
                continue
            boxes, probs = prediction["boxes"][keep], prediction["mask_probs"][keep]
            size = tuple(image.shape[-2:])
            pasted = paste_masks(probs, boxes, size)[:, 0]  # [D, H, W]
            truth_boxes = target["boxes"].float()
            if len(truth_boxes):
                ious = box_iou(boxes, truth_boxes)  # [D, G]
                best_iou, best = ious.max(dim=1)
            else:
                best_iou, best = torch.zeros(len(boxes)), torch.full((len(boxes),), -1)
            self.images.append(image.permute(1, 2, 0).numpy())
            self.entries.append(
                {
                    "boxes": boxes.numpy(),
                    "scores": prediction["scores"][keep].numpy(),
                    "labels": prediction["labels"][keep].numpy(),
                    "probs": probs.numpy(),
                    "pasted": pasted.numpy(),
                    "truth": best.numpy(),
                    "truth_iou": best_iou.numpy(),
                    "truth_boxes": truth_boxes.numpy(),
                    "truth_labels": target["labels"].numpy(),
                    "truth_masks": target["masks"].numpy().astype(bool),
                }
            )
        if not self.entries:
            raise ValueError(f"the model detects nothing with a score >= {min_score} on these samples")
        self.min_score = min_score

    @property
    def max_detections(self) -> int:
        return max(len(entry["boxes"]) for entry in self.entries)

    def state(self, image_index: int = 0, detection: int = 0, threshold: float = 0.5) -> InstanceState:
        """One detection at a mask threshold; ``detection`` beyond the image's count shows its last one."""
        image_index = check_int("image_index", image_index, min_value=0, max_value=len(self.entries) - 1)
        detection = check_int("detection", detection, min_value=0)
        threshold = check_number("threshold", threshold, min_value=0.0, max_value=1.0)
        entry = self.entries[image_index]
        count = len(entry["boxes"])
        detection = min(detection, count - 1)
        pasted = entry["pasted"][detection]
        mask = pasted > threshold
        truth = int(entry["truth"][detection])
        height, width = pasted.shape
        if truth >= 0:
            truth_mask = entry["truth_masks"][truth]
            iou = float(mask_iou(torch.from_numpy(mask[None]), torch.from_numpy(truth_mask[None]))[0, 0])
            truth_box, truth_label = entry["truth_boxes"][truth], int(entry["truth_labels"][truth])
        else:
            truth_mask, iou, truth_box, truth_label = np.zeros((height, width), bool), 0.0, None, 0
        return InstanceState(
            image_index=image_index,
            detection=detection,
            num_detections=count,
            threshold=threshold,
            box=entry["boxes"][detection],
            label=int(entry["labels"][detection]),
            score=float(entry["scores"][detection]),
            mask_probs=entry["probs"][detection],
            pasted_probs=pasted,
            mask=mask,
            truth_index=truth,
            truth_box=truth_box,
            truth_label=truth_label,
            truth_mask=truth_mask,
            box_iou=float(entry["truth_iou"][detection]),
            mask_iou=iou,
            truth_boxes=entry["truth_boxes"],
        )
