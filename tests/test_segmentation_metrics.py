"""vislib.metrics.segmentation: equal to sklearn's confusion matrix and to a direct per-pixel computation."""

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import jaccard_score

from vislib.metrics.segmentation import (
    SegmentationScores,
    class_accuracy,
    confusion_matrix,
    mean_iou,
    object_ious,
    per_class_iou,
    pixel_accuracy,
    segmentation_scores,
)


def _random_maps(seed, shape=(3, 17, 23), num_classes=5, ignore_index=None, ignore_fraction=0.1):
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, num_classes, shape, generator=g)
    # Predictions agree with the target most of the time, so IoUs are neither 0 nor 1.
    noise = torch.randint(0, num_classes, shape, generator=g)
    pred = torch.where(torch.rand(shape, generator=g) < 0.6, target, noise)
    if ignore_index is not None:
        target = torch.where(torch.rand(shape, generator=g) < ignore_fraction, torch.tensor(ignore_index), target)
    return pred, target


def _direct_iou(pred, target, num_classes, ignore_index=None):
    """IoU straight from the definition: |P ∩ T| / |P ∪ T| of the boolean pixel sets, per class."""
    keep = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index
    ious = []
    for c in range(num_classes):
        p, t = (pred == c) & keep, (target == c) & keep
        union = (p | t).sum().item()
        ious.append((p & t).sum().item() / union if union else math.nan)
    return ious


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ignore_index", [None, 255, 0])
def test_confusion_matrix_equals_sklearn(seed, ignore_index):
    num_classes = 2 + seed
    pred, target = _random_maps(seed, num_classes=num_classes, ignore_index=ignore_index)
    ours = confusion_matrix(pred, target, num_classes, ignore_index=ignore_index)
    assert ours.dtype == torch.int64 and ours.shape == (num_classes, num_classes)
    keep = np.ones(target.numel(), bool) if ignore_index is None else (target != ignore_index).numpy().ravel()
    expected = sk_confusion_matrix(
        target.numpy().ravel()[keep], pred.numpy().ravel()[keep], labels=list(range(num_classes))
    )
    np.testing.assert_array_equal(ours.numpy(), expected)
    # Rows are the truth: row sums count each true class's pixels.
    t = target.ravel()[torch.from_numpy(keep)]
    np.testing.assert_array_equal(ours.sum(dim=1).numpy(), torch.bincount(t, minlength=num_classes).numpy())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ignore_index", [None, 255])
def test_scores_equal_direct_computation(seed, ignore_index):
    num_classes = 4
    pred, target = _random_maps(seed, num_classes=num_classes, ignore_index=ignore_index)
    confusion = confusion_matrix(pred, target, num_classes, ignore_index)
    direct = _direct_iou(pred, target, num_classes, ignore_index)
    np.testing.assert_allclose(per_class_iou(confusion).numpy(), direct, rtol=1e-12)
    assert mean_iou(confusion) == pytest.approx(np.nanmean(direct), rel=1e-12)
    keep = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index
    assert pixel_accuracy(confusion) == pytest.approx(((pred == target) & keep).sum().item() / keep.sum().item())
    recall = [((pred == c) & (target == c)).sum().item() / (target == c).sum().item() for c in range(num_classes)]
    np.testing.assert_allclose(class_accuracy(confusion).numpy(), recall, rtol=1e-12)
    # sklearn's jaccard_score (average=None) is the per-class IoU.
    k = keep.numpy().ravel()
    sk_iou = jaccard_score(
        target.numpy().ravel()[k],
        pred.numpy().ravel()[k],
        labels=list(range(num_classes)),
        average=None,
        zero_division=0,
    )
    np.testing.assert_allclose(per_class_iou(confusion).numpy(), sk_iou, rtol=1e-12)


def test_absent_class_is_nan_and_left_out_of_the_mean():
    target = torch.tensor([[0, 0, 1, 1]])
    pred = torch.tensor([[0, 1, 1, 1]])
    confusion = confusion_matrix(pred, target, num_classes=3)
    iou = per_class_iou(confusion)
    assert iou[0].item() == pytest.approx(1 / 2) and iou[1].item() == pytest.approx(2 / 3)
    assert math.isnan(iou[2].item())
    assert mean_iou(confusion) == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert math.isnan(class_accuracy(confusion)[2].item())
    # A class predicted but absent from the target has IoU 0 (a union, no intersection).
    assert per_class_iou(confusion_matrix(torch.tensor([2]), torch.tensor([0]), 3))[2].item() == 0.0


def test_perfect_and_all_background_predictions():
    _, target = _random_maps(0, num_classes=5)
    perfect = segmentation_scores(target, target, 5)
    assert perfect.mean_iou == 1.0 and perfect.pixel_accuracy == 1.0
    # Background everywhere on a background-heavy target: high pixel accuracy, poor mIoU.
    target = torch.zeros(10, 10, dtype=torch.long)
    target[:2, :2] = 1
    scores = segmentation_scores(torch.zeros_like(target), target, 2)
    assert scores.pixel_accuracy == pytest.approx(0.96)
    assert scores.mean_iou == pytest.approx(0.48)


def test_confusion_matrices_add_over_batches():
    pred, target = _random_maps(3, shape=(6, 9, 9), num_classes=4, ignore_index=255)
    whole = confusion_matrix(pred, target, 4, 255)
    parts = sum(confusion_matrix(pred[i : i + 2], target[i : i + 2], 4, 255) for i in range(0, 6, 2))
    assert torch.equal(whole, parts)


def test_numpy_bool_and_scores_object():
    pred, target = _random_maps(1, num_classes=3)
    scores = segmentation_scores(pred.numpy(), target.numpy(), 3)
    assert isinstance(scores, SegmentationScores)
    assert torch.equal(scores.confusion, confusion_matrix(pred, target, 3))
    assert scores.mean_iou == pytest.approx(mean_iou(scores.confusion))
    assert mean_iou(scores.confusion.numpy()) == pytest.approx(scores.mean_iou)
    binary = confusion_matrix(torch.tensor([True, False]), torch.tensor([True, True]), 2)
    assert binary.tolist() == [[0, 0], [1, 1]]


def test_empty_input_gives_nan_scores():
    confusion = confusion_matrix(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), 3)
    assert confusion.sum().item() == 0
    assert math.isnan(mean_iou(confusion)) and math.isnan(pixel_accuracy(confusion))
    everything_ignored = confusion_matrix(torch.tensor([1, 2]), torch.tensor([255, 255]), 3, ignore_index=255)
    assert everything_ignored.sum().item() == 0


def test_bad_input_is_named():
    pred, target = _random_maps(0, num_classes=3)
    with pytest.raises(TypeError, match="pred .*argmax"):
        confusion_matrix(pred.float(), target, 3)
    with pytest.raises(ValueError, match="same shape.*argmax"):
        confusion_matrix(torch.zeros(3, 3, 17, 23, dtype=torch.long), target, 3)
    with pytest.raises(ValueError, match="same shape"):
        confusion_matrix(pred[0], target, 3)
    with pytest.raises(ValueError, match=r"target labels must be in \[0, 2\]"):
        confusion_matrix(pred, target + 1, 3)
    with pytest.raises(ValueError, match=r"pred labels must be in \[0, 2\]"):
        confusion_matrix(pred - 1, target, 3)
    with pytest.raises(ValueError, match="ignore_index 255"):
        confusion_matrix(pred, torch.full_like(target, 7), 3, ignore_index=255)
    with pytest.raises(TypeError, match="num_classes"):
        confusion_matrix(pred, target, 3.0)
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix(pred, target, 0)
    with pytest.raises(TypeError, match="target"):
        confusion_matrix(pred, [0, 1], 3)
    with pytest.raises(ValueError, match="square"):
        per_class_iou(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="negative"):
        mean_iou(-torch.eye(2))
    with pytest.raises(TypeError, match="confusion"):
        pixel_accuracy([[1, 0], [0, 1]])


def test_object_ious_equal_sklearn_jaccard_on_each_window():
    from vislib.data.shapes import ShapesDataset

    dataset = ShapesDataset(6, 48, seed=4, min_objects=3, max_objects=4)
    g = torch.Generator().manual_seed(0)
    margin = 3
    for index in range(len(dataset)):
        _, target = dataset[index]
        truth = target["semantic_mask"]
        pred = torch.where(
            torch.rand(truth.shape, generator=g) < 0.8, truth, torch.randint(0, 5, truth.shape, generator=g)
        )
        masks, labels = target["masks"].bool(), target["labels"]
        ious = object_ious(pred, masks, labels, margin=margin)
        assert ious.shape == (len(masks),) and ious.dtype == torch.float64
        for k, (mask, label) in enumerate(zip(masks.numpy(), labels.tolist())):
            rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
            window = np.zeros_like(mask)
            window[
                max(rows[0] - margin, 0) : rows[-1] + 1 + margin, max(cols[0] - margin, 0) : cols[-1] + 1 + margin
            ] = True
            others = masks.numpy().sum(0).astype(bool) & ~mask
            window &= ~others
            expected = jaccard_score(mask[window], pred.numpy()[window] == label)
            assert ious[k].item() == pytest.approx(expected)


def test_object_ious_exact_missed_spilled_and_empty():
    masks = torch.zeros(3, 10, 10, dtype=torch.bool)
    masks[0, 2:4, 2:4] = True  # 4 pixels, class 1
    masks[1, 6:9, 6:9] = True  # 9 pixels, class 2
    labels = torch.tensor([1, 2, 1])  # object 2 has an empty mask
    pred = torch.zeros(10, 10, dtype=torch.long)
    pred[2:4, 2:4] = 1
    pred[6:9, 6:8] = 2  # 6 of 9 pixels found
    pred[0, 9] = 2  # outside object 1's window: not counted
    ious = object_ious(pred, masks, labels, margin=1)
    assert ious[0] == 1 and ious[1] == pytest.approx(6 / 9) and math.isnan(ious[2])
    pred[1, 1] = 1  # spill-over next to object 0 (inside its window)
    assert object_ious(pred, masks, labels, margin=1)[0] == pytest.approx(4 / 5)
    assert object_ious(pred, masks, labels, margin=0)[0] == 1  # the window is the box
    with pytest.raises(ValueError, match="labels"):
        object_ious(pred, masks, labels[:2])
    with pytest.raises(ValueError, match="masks"):
        object_ious(pred, masks[:, :5], labels)
