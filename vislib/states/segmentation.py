"""The segmentation explorer's state: trained segmenters' predictions on held-out images, and where they err.

:class:`SegmentationExplorer` takes the held-out images, their true label maps and each trained model's
predicted label maps (computed once by the notebook, e.g. ``compare_segmenters(...).predictions``) and
precomputes, per model and image, everything the picture and its readout need: the wrong pixels, the band of
pixels within ``band`` pixels of a true class boundary (:func:`vislib.metrics.boundary.boundary_band`), the
image's mIoU (:func:`vislib.metrics.segmentation.segmentation_scores` of that image alone) and boundary
F-score (:func:`vislib.metrics.boundary.boundary_f_score`). :meth:`SegmentationExplorer.state` then only
indexes: ``state(image_index, model)`` -> :class:`SegmentationState`. Nothing runs a model, nothing draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from vislib._validation import check_choice, check_int, check_tensor, check_type
from vislib.metrics.boundary import boundary_band, boundary_f_score, boundary_map
from vislib.metrics.segmentation import segmentation_scores

__all__ = ["ERROR_CODES", "SegmentationExplorer", "SegmentationState"]

#: What each value of :attr:`SegmentationState.errors` means.
ERROR_CODES = ("right", "right, near a boundary", "wrong, near a boundary", "wrong, elsewhere")


@dataclass(frozen=True)
class SegmentationState:
    image_index: int
    model: str
    image: np.ndarray  # [H, W, 3] float in [0, 1]
    truth: np.ndarray  # int [H, W]: the true class of every pixel
    prediction: np.ndarray  # int [H, W]: the model's class of every pixel
    errors: np.ndarray  # uint8 [H, W]: an index into ERROR_CODES
    true_boundary: np.ndarray  # bool [H, W]: pixels with a 4-neighbour of another true class
    miou: float  # of this image alone (classes present in its truth or prediction)
    boundary_f: float  # boundary F-score of this image (``tolerance`` px)
    pixel_accuracy: float
    wrong_pixels: int
    wrong_near_boundary: int  # wrong pixels within ``band`` px of a true boundary
    band_share: float  # the share of the image's pixels within ``band`` px of a true boundary
    band: int
    tolerance: int
    miou_by_model: dict  # model name -> this image's mIoU, for comparison

    @property
    def wrong_mask(self) -> np.ndarray:
        """bool ``[H, W]``: the pixels the model labels wrongly."""
        return self.errors >= 2


class SegmentationExplorer:
    """Held-out images, their true label maps and each model's predictions, precomputed for :meth:`state`.

    Args:
        images: ``float [N, 3, H, W]`` (values in [0, 1]) held-out images.
        truths: ``int [N, H, W]`` their true label maps.
        predictions: ``{model name: int [N, H, W]}`` each trained model's predicted label maps.
        num_classes (int): the number of classes, background included.
        band (int): "near a boundary" means within ``band`` pixels (chessboard distance) of a true boundary.
        tolerance (int): the boundary F-score's tolerance in pixels.
        max_images (int): keep only the first ``max_images`` images (the widget's slider range).
    """

    def __init__(
        self,
        images,
        truths,
        predictions: Mapping[str, torch.Tensor],
        num_classes: int,
        *,
        band: int = 2,
        tolerance: int = 1,
        max_images: int = 16,
    ):
        check_tensor("images", images, ndim=4, floating=True)
        check_tensor("truths", truths, ndim=3)
        if images.shape[1] != 3 or images.shape[0] != truths.shape[0] or images.shape[-2:] != truths.shape[-2:]:
            raise ValueError(
                f"images must be [N, 3, H, W] and truths [N, H, W] with the same N, H, W; got images "
                f"{list(images.shape)} and truths {list(truths.shape)}"
            )
        check_type("predictions", predictions, Mapping, "a dict {model name: int [N, H, W] label maps}")
        if not predictions:
            raise ValueError("predictions must hold at least one model's label maps")
        for name, predicted in predictions.items():
            check_type("predictions key", name, str, "a model name (str)")
            check_tensor(f"predictions[{name!r}]", predicted, shape=tuple(truths.shape))
            if predicted.is_floating_point():
                raise TypeError(f"predictions[{name!r}] must hold integer class labels, got dtype {predicted.dtype}")
        self.num_classes = check_int("num_classes", num_classes, min_value=2)
        self.band = check_int("band", band, min_value=0)
        self.tolerance = check_int("tolerance", tolerance, min_value=0)
        max_images = check_int("max_images", max_images, min_value=1)
        count = min(max_images, len(images))
        truths = truths[:count].long().cpu()
        self.names = list(predictions)
        self.images = images[:count].detach().cpu().permute(0, 2, 3, 1).clamp(0, 1).numpy()
        self.truths = truths.numpy()
        near = boundary_band(truths, self.band).numpy()  # [N, H, W]
        self.true_boundaries = boundary_map(truths).numpy()
        self.band_share = near.reshape(count, -1).mean(axis=1)
        self.predictions, self.errors, self.scores = {}, {}, {}
        for name, predicted in predictions.items():
            predicted = predicted[:count].long().cpu()
            wrong = (predicted != truths).numpy()
            errors = np.where(wrong, np.where(near, 2, 3), np.where(near, 1, 0)).astype(np.uint8)
            self.predictions[name], self.errors[name] = predicted.numpy(), errors
            self.scores[name] = [
                {
                    "miou": segmentation_scores(predicted[i], truths[i], self.num_classes).mean_iou,
                    "pixel_accuracy": float(1.0 - wrong[i].mean()),
                    "boundary_f": boundary_f_score(predicted[i], truths[i], self.tolerance).f_score,
                    "wrong": int(wrong[i].sum()),
                    "wrong_near": int((wrong[i] & near[i]).sum()),
                }
                for i in range(count)
            ]

    def state(self, image_index: int = 0, model: str | None = None) -> SegmentationState:
        """One held-out image as one model labels it (``model`` defaults to the first)."""
        image_index = check_int("image_index", image_index, min_value=0, max_value=len(self.images) - 1)
        model = self.names[0] if model is None else check_choice("model", model, self.names)
        scores = self.scores[model][image_index]
        return SegmentationState(
            image_index=image_index,
            model=model,
            image=self.images[image_index],
            truth=self.truths[image_index],
            prediction=self.predictions[model][image_index],
            errors=self.errors[model][image_index],
            true_boundary=self.true_boundaries[image_index],
            miou=scores["miou"],
            boundary_f=scores["boundary_f"],
            pixel_accuracy=scores["pixel_accuracy"],
            wrong_pixels=scores["wrong"],
            wrong_near_boundary=scores["wrong_near"],
            band_share=float(self.band_share[image_index]),
            band=self.band,
            tolerance=self.tolerance,
            miou_by_model={name: self.scores[name][image_index]["miou"] for name in self.names},
        )
