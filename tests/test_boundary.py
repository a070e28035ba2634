"""Boundary quality: boundary maps, bands, trimap IoU and boundary F-score against scikit-image, SciPy,
scikit-learn and brute-force loops."""

import re

import numpy as np
import pytest
import scipy.ndimage
import torch
from skimage.segmentation import find_boundaries
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from vislib.data.shapes import ShapesDataset
from vislib.metrics.boundary import (
    boundary_band,
    boundary_f_score,
    boundary_map,
    dilate,
    trimap_miou,
    trimap_scores,
)
from vislib.metrics.segmentation import mean_iou


def _label_maps(count=4, size=40, seed=0):
    """Realistic masks (the shapes data set) plus random blocky ones."""
    dataset = ShapesDataset(count, image_size=max(size, 32), seed=seed)
    masks = [dataset[i][1]["semantic_mask"].numpy() for i in range(count)]
    rng = np.random.default_rng(seed)
    masks.append(np.kron(rng.integers(0, 3, (8, 8)), np.ones((5, 5), dtype=np.int64)))
    masks.append(rng.integers(0, 4, (13, 17)))
    return masks


def test_boundary_map_equals_skimage_find_boundaries_thick():
    for mask in _label_maps():
        expected = find_boundaries(mask, connectivity=1, mode="thick")
        np.testing.assert_array_equal(boundary_map(torch.from_numpy(mask)).numpy(), expected)
        np.testing.assert_array_equal(boundary_map(mask).numpy(), expected)  # numpy input too


def test_boundary_map_of_a_batch_is_per_image():
    masks = np.stack([m for m in _label_maps(size=40)[:4]])
    batch = boundary_map(torch.from_numpy(masks))
    for i, mask in enumerate(masks):
        np.testing.assert_array_equal(batch[i].numpy(), find_boundaries(mask, connectivity=1, mode="thick"))
    assert not boundary_map(torch.zeros(5, 6, dtype=torch.long)).any()


@pytest.mark.parametrize("radius", [0, 1, 2, 3])
def test_dilate_equals_scipy_binary_dilation(radius):
    rng = np.random.default_rng(radius)
    mask = rng.random((3, 21, 18)) < 0.05
    got = dilate(torch.from_numpy(mask), radius).numpy()
    for i in range(3):
        expected = scipy.ndimage.binary_dilation(mask[i], np.ones((3, 3)), iterations=radius) if radius else mask[i]
        np.testing.assert_array_equal(got[i], expected)


@pytest.mark.parametrize("width", [0, 1, 3])
def test_boundary_band_is_the_chessboard_distance_to_an_edge(width):
    for mask in _label_maps():
        edges = find_boundaries(mask, connectivity=1, mode="thick")
        if not edges.any():
            continue
        distance = scipy.ndimage.distance_transform_cdt(~edges, metric="chessboard")
        np.testing.assert_array_equal(boundary_band(mask, width).numpy(), distance <= width)


def test_trimap_scores_are_the_confusion_of_the_band_pixels():
    rng = np.random.default_rng(1)
    for target in _label_maps():
        target = target % 5
        pred = np.where(rng.random(target.shape) < 0.2, rng.integers(0, 5, target.shape), target)
        edges = find_boundaries(target, connectivity=1, mode="thick")
        band = scipy.ndimage.binary_dilation(edges, np.ones((3, 3)), iterations=2)
        expected = sk_confusion_matrix(target[band], pred[band], labels=range(5))
        scores = trimap_scores(torch.from_numpy(pred), torch.from_numpy(target), 5, width=2)
        np.testing.assert_array_equal(scores.confusion.numpy(), expected)
        assert scores.mean_iou == pytest.approx(mean_iou(torch.from_numpy(expected)))


def _direct_trimap_miou(pred, target, num_classes, width):
    """Trimap mIoU by loops: a pixel is in the band when a true boundary pixel (a 4-neighbour with another
    label) lies within chessboard distance ``width``; per class, intersection / union over the band pixels."""
    intersection, union = np.zeros(num_classes), np.zeros(num_classes)
    for p, t in zip(pred, target):
        height, width_px = t.shape
        edges = [
            (r, c)
            for r in range(height)
            for c in range(width_px)
            if any(
                0 <= r + dr < height and 0 <= c + dc < width_px and t[r + dr, c + dc] != t[r, c]
                for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
            )
        ]
        for r in range(height):
            for c in range(width_px):
                if not any(max(abs(r - er), abs(c - ec)) <= width for er, ec in edges):
                    continue
                for k in range(num_classes):
                    intersection[k] += p[r, c] == k and t[r, c] == k
                    union[k] += p[r, c] == k or t[r, c] == k
    present = union > 0
    return float(np.mean(intersection[present] / union[present]))


@pytest.mark.parametrize("width", [0, 1, 3])
def test_trimap_miou_equals_a_direct_computation(width):
    target = np.stack(_label_maps(count=2, size=20)[:2]) % 4
    rng = np.random.default_rng(width)
    shifted = np.roll(target, 1, axis=2)  # outlines one pixel off, like a blurry segmenter's
    pred = np.where(rng.random(target.shape) < 0.1, rng.integers(0, 4, target.shape), shifted)
    expected = _direct_trimap_miou(pred, target, 4, width)
    assert trimap_miou(torch.from_numpy(pred), torch.from_numpy(target), 4, width=width) == pytest.approx(expected)
    # A perfect prediction scores 1 at every width.
    assert trimap_miou(torch.from_numpy(target), torch.from_numpy(target), 4, width=width) == 1.0


def _brute_force_f(pred, target, tolerance):
    """Boundary F by loops over pixels (chessboard distance <= tolerance), pooled over the images."""
    matched_p = matched_t = n_p = n_t = 0
    for p, t in zip(pred, target):
        bp = find_boundaries(p, connectivity=1, mode="thick")
        bt = find_boundaries(t, connectivity=1, mode="thick")
        tp_points, tt_points = np.argwhere(bp), np.argwhere(bt)
        n_p, n_t = n_p + len(tp_points), n_t + len(tt_points)
        for points, others, which in ((tp_points, tt_points, "p"), (tt_points, tp_points, "t")):
            for point in points:
                near = len(others) and np.abs(others - point).max(axis=1).min() <= tolerance
                if near:
                    if which == "p":
                        matched_p += 1
                    else:
                        matched_t += 1
    precision, recall = matched_p / n_p, matched_t / n_t
    return precision, recall, 2 * precision * recall / (precision + recall)


@pytest.mark.parametrize("tolerance", [0, 1, 2])
def test_boundary_f_score_equals_brute_force(tolerance):
    target = np.stack(_label_maps(count=3, size=32)[:3]) % 5
    rng = np.random.default_rng(tolerance)
    # A prediction with shifted and eroded regions, like a blurry segmenter's.
    pred = np.roll(target, shift=(1, -1), axis=(1, 2))
    pred = np.where(rng.random(pred.shape) < 0.03, 0, pred)
    precision, recall, f = _brute_force_f(pred, target, tolerance)
    score = boundary_f_score(torch.from_numpy(pred), torch.from_numpy(target), tolerance=tolerance)
    assert score.precision == pytest.approx(precision)
    assert score.recall == pytest.approx(recall)
    assert score.f_score == pytest.approx(f)
    assert score.predicted_pixels == sum(find_boundaries(p, connectivity=1, mode="thick").sum() for p in pred)


def test_boundary_f_score_edge_cases():
    target = torch.zeros(10, 10, dtype=torch.long)
    target[3:7, 3:7] = 2
    perfect = boundary_f_score(target, target, tolerance=0)
    assert perfect.precision == perfect.recall == perfect.f_score == 1.0
    nothing = boundary_f_score(torch.zeros_like(target), target)  # all background: no edges at all
    assert (nothing.precision, nothing.recall, nothing.f_score) == (0.0, 0.0, 0.0)
    empty = boundary_f_score(torch.zeros_like(target), torch.zeros_like(target))
    assert empty.f_score == 1.0
    # A one-pixel shift is forgiven with tolerance 1 but not with 0.
    shifted = torch.roll(target, 1, dims=1)
    assert boundary_f_score(shifted, target, tolerance=1).f_score == 1.0
    assert boundary_f_score(shifted, target, tolerance=0).f_score < 1.0
    # Labels do not matter, only where they change.
    assert boundary_f_score(target * 2, target, tolerance=0).f_score == 1.0


def test_bad_input_gets_clear_errors():
    labels = torch.zeros(4, 4, dtype=torch.long)
    with pytest.raises(TypeError, match="labels must hold integer class labels"):
        boundary_map(torch.zeros(4, 4))
    with pytest.raises(TypeError, match="labels must be a torch.Tensor"):
        boundary_map([[0, 1]])
    with pytest.raises(ValueError, match=r"labels must be a label map \[H, W\]"):
        boundary_map(torch.zeros(1, 2, 4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="width must be >= 0"):
        boundary_band(labels, -1)
    with pytest.raises(TypeError, match="radius must be an integer"):
        dilate(labels.bool(), 1.5)
    with pytest.raises(ValueError, match="pred and target must have the same shape"):
        boundary_f_score(labels, torch.zeros(4, 5, dtype=torch.long))
    with pytest.raises(TypeError, match="pred must hold integer class labels"):
        trimap_scores(torch.zeros(4, 4), labels, 3)
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        boundary_f_score(labels, labels, tolerance=-2)


# -- Exercise 2's checker ----------------------------------------------------------------------
def _good_miou(confusion):
    counts = confusion.double()
    tp = counts.diagonal()
    union = counts.sum(0) + counts.sum(1) - tp
    return float((tp[union > 0] / union[union > 0]).mean())


def test_miou_checker_accepts_a_right_answer_in_any_number_type():
    from vislib.exercises.segmentation import check_miou_from_confusion

    assert check_miou_from_confusion(_good_miou) == 5
    assert check_miou_from_confusion(lambda c: torch.tensor(_good_miou(c))) == 5
    assert check_miou_from_confusion(lambda c: np.float64(_good_miou(c))) == 5


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (
            lambda c: float((c.diagonal() / (c.sum(0) + c.sum(1) - c.diagonal()).clamp(min=1)).double().mean()),
            "appears in neither map as IoU 0",
        ),
        (lambda c: float(torch.nanmean(c.diagonal().double() / c.sum(1))), "class accuracy"),
        (lambda c: float(torch.nanmean(c.diagonal().double() / c.sum(0))), "precision"),
        (lambda c: float(torch.nanmean(c.diagonal().double() / (c.sum(0) + c.sum(1)))), "subtracting TP"),
        (lambda c: float(torch.nanmean(2 * c.diagonal().double() / (c.sum(0) + c.sum(1)))), "Dice"),
        (lambda c: float(c.diagonal().sum() / c.sum()), "pixel accuracy"),
        (lambda c: float((c.diagonal().double() / (c.sum(0) + c.sum(1) - c.diagonal())).mean()), "0 / 0 = NaN"),
    ],
)
def test_miou_checker_names_the_mistake(wrong, hint):
    from vislib.exercises.segmentation import check_miou_from_confusion

    with pytest.raises(AssertionError, match=re.escape(hint)):
        check_miou_from_confusion(wrong)


def test_miou_checker_refuses_in_place_changes_and_non_numbers():
    from vislib.exercises.segmentation import check_miou_from_confusion

    def in_place(c):
        c.fill_diagonal_(0)
        return 0.0

    with pytest.raises(AssertionError, match="changed the confusion matrix"):
        check_miou_from_confusion(in_place)
    with pytest.raises(AssertionError, match="must return one number"):
        check_miou_from_confusion(lambda c: [0.5])
