"""Notebook 04's segmentation explorer: its state against sklearn / vislib's metrics, its picture, its widget."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from sklearn.metrics import jaccard_score

from vislib.data.shapes import ShapesDataset
from vislib.metrics.boundary import boundary_band, boundary_f_score
from vislib.states.segmentation import ERROR_CODES, SegmentationExplorer
from vislib.training.segmentation import segmentation_tensors
from vislib.widgets.segmentation import segmentation_explorer_widget

CLASS_NAMES = ("background", *ShapesDataset(1).classes)


@pytest.fixture(scope="module")
def data():
    images, masks = segmentation_tensors(ShapesDataset(6, image_size=48, seed=3))
    noise = torch.rand(masks.shape, generator=torch.Generator().manual_seed(0)) < 0.05
    shifted = masks.clone()
    shifted[..., 1:] = masks[..., :-1]  # one pixel to the right: every error sits on a true boundary
    predictions = {
        "shifted": shifted,
        "noisy": torch.where(noise, (masks + 1) % 5, masks),  # errors anywhere
        "perfect": masks.clone(),
    }
    return images, masks, predictions


@pytest.fixture(scope="module")
def explorer(data):
    return SegmentationExplorer(*data, num_classes=5, band=2, tolerance=1)


def test_state_counts_the_wrong_pixels_and_where_they_lie(data, explorer):
    images, masks, predictions = data
    band = boundary_band(masks, 2).numpy()
    for name, predicted in predictions.items():
        for index in range(len(masks)):
            state = explorer.state(index, name)
            wrong = (predicted[index] != masks[index]).numpy()
            assert np.array_equal(state.wrong_mask, wrong)
            assert np.array_equal(state.prediction, predicted[index].numpy())
            assert np.array_equal(state.truth, masks[index].numpy())
            assert state.wrong_pixels == wrong.sum()
            assert state.wrong_near_boundary == (wrong & band[index]).sum()
            assert np.array_equal(state.errors == ERROR_CODES.index("right, near a boundary"), ~wrong & band[index])
            assert np.allclose(state.image, images[index].permute(1, 2, 0).numpy())
    # A one-pixel shift errs only at boundaries; random noise errs mostly away from them.
    shifted = [explorer.state(i, "shifted") for i in range(len(masks))]
    assert all(s.wrong_near_boundary == s.wrong_pixels for s in shifted)
    assert sum(s.wrong_pixels for s in shifted) > 0


def test_state_scores_equal_sklearn_and_the_boundary_f_score(data, explorer):
    _, masks, predictions = data
    for name, predicted in predictions.items():
        for index in range(len(masks)):
            state = explorer.state(index, name)
            truth, pred = masks[index].flatten().numpy(), predicted[index].flatten().numpy()
            present = np.union1d(truth, pred)  # the classes with a union in this image
            expected = jaccard_score(truth, pred, labels=present, average="macro", zero_division=0)
            assert abs(state.miou - expected) < 1e-12, (name, index)
            assert state.boundary_f == boundary_f_score(predicted[index], masks[index], 1).f_score
            assert state.miou_by_model[name] == state.miou
            assert abs(state.pixel_accuracy - (truth == pred).mean()) < 1e-12
    perfect = explorer.state(0, "perfect")
    assert perfect.miou == 1.0 and perfect.boundary_f == 1.0 and perfect.wrong_pixels == 0


def test_state_defaults_and_limits(data, explorer):
    assert explorer.state().model == "shifted" and explorer.state().image_index == 0
    few = SegmentationExplorer(*data, num_classes=5, max_images=2)
    assert len(few.images) == 2
    with pytest.raises(ValueError, match="image_index must be <= 1"):
        few.state(2)
    with pytest.raises(ValueError, match="model must be one of"):
        explorer.state(0, "SegNet")


def test_explorer_rejects_bad_input(data):
    images, masks, predictions = data
    with pytest.raises(ValueError, match="truths"):
        SegmentationExplorer(images, masks[:3], predictions, 5)
    with pytest.raises(TypeError, match="integer class labels"):
        SegmentationExplorer(images, masks, {"float": masks.float()}, 5)
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        SegmentationExplorer(images, masks, predictions, 1)


def test_widget_redraws_the_chosen_model_and_does_not_leak(explorer):
    widget = segmentation_explorer_widget(explorer, CLASS_NAMES)
    first = widget.image.value
    widget.set(model="noisy")
    assert widget.image.value != first and widget.last_state.model == "noisy"
    before = len(plt.get_fignums())
    for k in range(30):
        widget.set(image_index=k % len(explorer.images), model=explorer.names[k % 3])
        assert widget.last_timing  # no error shown
    assert len(plt.get_fignums()) == before
    widget.set(image_index=2, model="shifted")
    fresh = segmentation_explorer_widget(explorer, CLASS_NAMES, model="shifted")
    fresh.set(image_index=2)
    assert widget.image.value == fresh.image.value  # the fast path draws what a fresh widget draws


def test_widget_rejects_bad_input(explorer):
    with pytest.raises(ValueError, match="class_names must name the explorer's 5 classes"):
        segmentation_explorer_widget(explorer, CLASS_NAMES[:3])
    with pytest.raises(TypeError, match="class_names"):
        segmentation_explorer_widget(explorer, "background")
    with pytest.raises(ValueError, match="model"):
        segmentation_explorer_widget(explorer, CLASS_NAMES, model="SegNet")
