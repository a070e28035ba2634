"""Checkers for the segmentation-metric exercises (notebook 04): mean IoU from a confusion matrix."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from vislib._validation import check_callable

__all__ = ["check_miou_from_confusion"]


# -- semantic segmentation (notebook 04) ----------------------------------------------
def _segmentation_cases():
    """(name, pred, target, num_classes): label maps with noise, a class never present, a perfect one."""
    generator = torch.Generator().manual_seed(4)
    cases = []
    target = torch.randint(0, 4, (3, 12, 12), generator=generator)
    noisy = torch.where(
        torch.rand(target.shape, generator=generator) < 0.3,
        torch.randint(0, 4, target.shape, generator=generator),
        target,
    )
    cases.append(("4 classes, 30% of the pixels relabelled at random", noisy, target, 4))
    # Class 4 appears neither in the targets nor in the predictions: it has no union.
    cases.append(("5 classes, class 4 absent from both maps", noisy, target, 5))
    # Class 2 is never predicted (IoU 0 but counted), class 3 never true but predicted (IoU 0, counted).
    shifted = target.clone()
    shifted[shifted == 2] = 1
    shifted[0, :2] = 3
    target_no3 = torch.where(target == 3, torch.zeros_like(target), target)
    cases.append(("a class never predicted and a class only predicted", shifted, target_no3, 4))
    cases.append(("a perfect prediction", target, target, 4))
    blobs = torch.zeros(40, 40, dtype=torch.long)
    blobs[5:25, 5:25], blobs[20:35, 22:38] = 1, 2
    grown = torch.zeros_like(blobs)
    grown[3:27, 3:27], grown[20:35, 20:38] = 1, 2
    cases.append(("a background-dominated map with blobby predictions", grown, blobs, 3))
    return cases


def check_miou_from_confusion(miou_from_confusion: Callable) -> int:
    """Check ``miou_from_confusion(confusion) -> float``: the mean IoU of a ``[K, K]`` confusion matrix
    (rows = truth, columns = prediction). Oracles: ``vislib.metrics.segmentation.mean_iou`` and
    ``sklearn.metrics.jaccard_score(average="macro")`` over the classes that occur. Returns the number of cases.
    """
    from sklearn.metrics import jaccard_score

    from vislib.metrics.segmentation import confusion_matrix, mean_iou

    check_callable("miou_from_confusion", miou_from_confusion)
    checked = 0
    for name, pred, target, num_classes in _segmentation_cases():
        confusion = confusion_matrix(pred, target, num_classes)
        expected = mean_iou(confusion)
        present = sorted(set(pred.flatten().tolist()) | set(target.flatten().tolist()))
        sklearn_value = jaccard_score(
            target.flatten().numpy(), pred.flatten().numpy(), labels=present, average="macro", zero_division=0
        )
        assert abs(expected - sklearn_value) < 1e-9, "internal: the two oracles disagree"
        given = confusion.clone()
        got = miou_from_confusion(given)
        if not torch.equal(given, confusion):
            raise AssertionError("miou_from_confusion changed the confusion matrix it was given; compute on a copy")
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        elif isinstance(got, np.ndarray) and got.size == 1:
            got = float(got)
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            raise AssertionError(f"miou_from_confusion must return one number (a float), got {type(got).__name__}")
        got = float(got)
        if math.isclose(got, expected, rel_tol=0, abs_tol=1e-6):
            checked += 1
            continue
        c = confusion.to(torch.float64)
        tp, rows, cols = c.diagonal(), c.sum(dim=1), c.sum(dim=0)
        hints = []
        if math.isnan(got):
            hints.append(
                "A class absent from both maps has TP + FP + FN = 0, so its IoU is 0 / 0 = NaN: leave "
                "such classes out of the mean (torch.nanmean, or keep only the classes whose union > 0)."
            )
        else:
            union = rows + cols - tp
            candidates = {
                "You counted a class that appears in neither map as IoU 0. It has no union (0 / 0): leave it out "
                "of the mean, as mean_iou and PASCAL VOC do.": float((tp / union.clamp(min=1)).mean()),
                "That is the mean precision TP / (TP + FP) (divided by the column sums). IoU divides by the union "
                "TP + FP + FN.": float(torch.nanmean(tp / cols)),
                "That is the mean class accuracy (recall) TP / (TP + FN) (divided by the row sums). IoU divides "
                "by the union TP + FP + FN.": float(torch.nanmean(tp / rows)),
                "That is the pixel accuracy (trace / total), not the mean over classes of the IoU.": float(
                    c.trace() / c.sum()
                ),
                "The union counts the intersection once: TP + FP + FN = row sum + column sum - TP. You added the "
                "row and column sums without subtracting TP.": float(torch.nanmean(tp / (rows + cols))),
                "That is the Dice / F1 score 2 TP / (2 TP + FP + FN), not the IoU TP / (TP + FP + FN).": float(
                    torch.nanmean(2 * tp / (rows + cols))
                ),
                "You averaged over the pixels (a weighted mean): mIoU gives every class the same weight.": float(
                    (tp / union.clamp(min=1) * rows).sum() / rows.sum()
                ),
            }
            hints += [
                message for message, value in candidates.items() if math.isfinite(value) and abs(value - got) < 1e-6
            ]
        raise AssertionError(
            f"for {name}: miou_from_confusion returned {got:.6f}, but vislib's mean_iou and "
            f"sklearn's jaccard_score give {expected:.6f}. {' '.join(hints[:1])}".strip()
        )
    return checked
