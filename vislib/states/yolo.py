"""The state of the YOLO grid-prediction widget: cached model outputs, thresholds, NMS, precision and recall.

A trained YOLO model's raw outputs for a few held-out images are computed
once (:class:`GridPredictions`); every slider move then only thresholds,
suppresses and counts (Redmon et al., arXiv 1506.02640, section 2: "threshold
and non-max suppression").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from vislib._validation import check_detections, check_int, check_number, check_tensor, check_type
from vislib.models.yolo import decode_all_boxes
from vislib.ops.boxes import batched_nms
from vislib.states.scoring import pool_matches_fast

__all__ = ["GridPredictions", "GridState"]


@dataclass(frozen=True)
class GridState:
    image_index: int
    class_index: int  # 0-based, for the class maps
    grid_size: int
    image_size: int
    objectness: np.ndarray  # [S, S]: the best P(object) of the cell's B boxes
    class_probability: np.ndarray  # [S, S]: P(class | object) of the chosen class
    class_confidence: np.ndarray  # [S, S]: P(class | object) * P(object), best of the B boxes
    boxes: np.ndarray  # [S*S*B, 4], every box of every cell
    scores: np.ndarray  # [S*S*B], class-specific confidence of each box's best class
    labels: np.ndarray  # [S*S*B], from 1
    above: np.ndarray  # [S*S*B] bool: score >= threshold (before NMS)
    kept: np.ndarray  # indices into boxes that survive NMS
    truth_boxes: np.ndarray
    truth_labels: np.ndarray
    precision: float  # over all cached images, at these thresholds
    recall: float
    counts: dict  # tp, fp, fn over all cached images


class GridPredictions:
    """Raw outputs of ``model`` on ``images`` (with their ``targets``), decoded once."""

    def __init__(self, model, images: torch.Tensor, targets: list[dict], *, num_boxes: int):
        check_type("model", model, torch.nn.Module, "a torch.nn.Module (a YOLO model)")
        check_tensor("images", images, shape=("N", 3, "H", "W"), floating=True)
        if len(images) == 0:
            raise ValueError("images must hold at least one image")
        targets = check_detections(
            "targets", targets, keys=("boxes", "labels"), length=len(images), length_name="images"
        )
        num_boxes = check_int("num_boxes", num_boxes, min_value=1)
        model_boxes = getattr(model, "num_boxes", None)
        if model_boxes is not None and model_boxes != num_boxes:
            raise ValueError(f"num_boxes must be the model's boxes per cell ({model_boxes}), got {num_boxes}")
        model_was_training = model.training
        model.eval()
        device = next(model.parameters()).device
        with torch.no_grad():
            outputs = model(images.to(device)).cpu()
        model.train(model_was_training)
        self.images = images
        self.targets = targets
        self.num_boxes = check_int("num_boxes", num_boxes, min_value=1)
        self.image_size = images.shape[-1]
        self.grid_size = outputs.shape[1]
        self.decoded = [decode_all_boxes(output, self.image_size, num_boxes) for output in outputs]
        self.decoded_numpy = [{key: value.numpy() for key, value in d.items()} for d in self.decoded]
        self.num_classes = self.decoded[0]["class_probs"].shape[1]
        self._detections = lru_cache(maxsize=256)(self._detections_uncached)

    def suggested_threshold(self, preferred: float = 0.25, nms_threshold: float = 0.5) -> float:
        """The widget's starting confidence threshold: ``preferred`` when the model finds objects at it, else
        the threshold (a multiple of 0.01, below ``preferred``) with the best F1 on these images.

        "Finds objects" means: at ``preferred``, after NMS, the boxes kept on these images number at least half
        their ground-truth objects. A well-trained YOLO passes that at 0.25 (darknet's default); a model
        trained for seconds scores every box lower, and a widget at 0.25 would show nothing.
        """
        preferred = check_number("preferred", preferred, min_value=0.01, max_value=1.0)
        nms_threshold = check_number("nms_threshold", nms_threshold, min_value=0.0, max_value=1.0)
        detections, pooled = self._detections(round(preferred, 4), round(nms_threshold, 4))
        if 2 * len(pooled.tp) >= pooled.num_ground_truth:
            return preferred
        best, best_f1 = preferred, -1.0
        for step in range(1, int(round(preferred * 100))):
            threshold = step / 100
            _, pooled = self._detections(threshold, round(nms_threshold, 4))
            tp, found = float(pooled.tp.sum()), len(pooled.tp)
            f1 = 2 * tp / (found + pooled.num_ground_truth) if found + pooled.num_ground_truth else 0.0
            if f1 > best_f1:  # the lowest threshold among ties
                best, best_f1 = threshold, f1
        return best

    def _detections_uncached(self, conf_threshold: float, nms_threshold: float):
        detections = []
        for every in self.decoded:
            keep = torch.nonzero(every["scores"] >= conf_threshold).flatten()
            kept = (
                keep[batched_nms(every["boxes"][keep], every["scores"][keep], every["labels"][keep], nms_threshold)]
                if len(keep)
                else keep
            )
            detections.append(
                {
                    "boxes": every["boxes"][kept],
                    "scores": every["scores"][kept],
                    "labels": every["labels"][kept],
                    "indices": kept,
                }
            )
        pooled = pool_matches_fast(detections, self.targets)
        return detections, pooled

    def state(self, image_index: int, conf_threshold: float, nms_threshold: float, class_index: int = 0) -> GridState:
        image_index = check_int("image_index", image_index, min_value=0, max_value=len(self.decoded) - 1)
        conf_threshold = check_number("conf_threshold", conf_threshold, min_value=0.0, max_value=1.0)
        nms_threshold = check_number("nms_threshold", nms_threshold, min_value=0.0, max_value=1.0)
        class_index = check_int("class_index", class_index, min_value=0, max_value=self.num_classes - 1)
        detections, pooled = self._detections(round(conf_threshold, 4), round(nms_threshold, 4))
        every = self.decoded_numpy[image_index]
        S, B = self.grid_size, self.num_boxes
        objectness = every["objectness"].reshape(S, S, B)
        class_probs = every["class_probs"].reshape(S, S, B, -1)[:, :, 0, class_index]  # the cell's, same for all B
        tp = int(pooled.tp.sum())
        found = int(len(pooled.tp))
        target = self.targets[image_index]
        return GridState(
            image_index=image_index,
            class_index=class_index,
            grid_size=S,
            image_size=self.image_size,
            objectness=objectness.max(axis=-1),
            class_probability=class_probs,
            class_confidence=(objectness * class_probs[..., None]).max(axis=-1),
            boxes=every["boxes"],
            scores=every["scores"],
            labels=every["labels"],
            above=every["scores"] >= conf_threshold,
            kept=detections[image_index]["indices"].numpy(),
            truth_boxes=target["boxes"].numpy(),
            truth_labels=target["labels"].numpy(),
            precision=tp / found if found else float("nan"),
            recall=tp / pooled.num_ground_truth if pooled.num_ground_truth else float("nan"),
            counts={"tp": tp, "fp": found - tp, "fn": pooled.num_ground_truth - tp},
        )
