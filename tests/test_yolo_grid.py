"""The YOLO grid widget's state equals decode_predictions; its fast path equals a full redraw."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from vislib.data.shapes import ShapesDataset
from vislib.models.yolo import TinyYolo, decode_predictions
from vislib.states.scoring import pool_matches
from vislib.states.yolo import GridPredictions
from vislib.widgets.yolo import grid_prediction_widget


@pytest.fixture(scope="module")
def predictions():
    dataset = ShapesDataset(5, image_size=64, seed=4)
    samples = [dataset[i] for i in range(len(dataset))]
    torch.manual_seed(0)
    model = TinyYolo(image_size=64, grid_size=4, num_classes=4, width=8)
    images = torch.stack([s[0] for s in samples])
    return model, images, GridPredictions(model, images, [s[1] for s in samples], num_boxes=2), dataset


@pytest.mark.parametrize("conf, nms", [(0.0, 0.5), (0.05, 0.3), (0.1, 1.0)])
def test_state_matches_decode_predictions_and_scoring(predictions, conf, nms):
    model, images, grid, _ = predictions
    with torch.no_grad():
        outputs = model.eval()(images)
    decoded = [decode_predictions(o, 64, conf, nms, num_boxes=2) for o in outputs]
    for index, expected in enumerate(decoded):
        state = grid.state(index, conf, nms, class_index=1)
        np.testing.assert_allclose(np.sort(state.scores[state.kept]), np.sort(expected["scores"].numpy()), rtol=1e-6)
        assert state.above.sum() >= len(state.kept)
        assert state.objectness.shape == (4, 4) and state.class_confidence.max() <= state.objectness.max() + 1e-7
    reference = pool_matches(decoded, grid.targets, num_classes=4)
    state = grid.state(0, conf, nms)
    assert state.counts["tp"] == int(reference.tp.sum())
    assert state.counts["tp"] + state.counts["fn"] == reference.num_ground_truth
    with pytest.raises(ValueError, match="image_index must be <= 4"):
        grid.state(5, conf, nms)


def test_fast_path_matches_a_full_redraw(predictions):
    _, _, grid, dataset = predictions
    widget = grid_prediction_widget(grid, dataset.classes)
    rng = np.random.default_rng(0)
    for _ in range(12):
        widget.set(
            image_index=int(rng.integers(5)),
            conf_threshold=float(rng.uniform(0, 0.2)),
            nms_threshold=float(rng.uniform(0.1, 1)),
            class_index=int(rng.integers(4)),
        )
    fresh = grid_prediction_widget(grid, dataset.classes)
    fresh.set(**widget.values())

    def pixels(data):
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)

    assert np.mean(np.abs(pixels(widget.image.value) - pixels(fresh.image.value)) > 24) < 0.002


def test_suggested_threshold_keeps_the_preferred_one_when_boxes_pass_it_else_maximizes_f1(predictions):
    _, _, grid, _ = predictions
    # An untrained model: no box reaches 0.25, so the suggestion is the best-F1 threshold below it.
    scores = np.concatenate([d["scores"].numpy() for d in grid.decoded])
    assert scores.max() < 0.25
    suggested = grid.suggested_threshold()
    assert 0.01 <= suggested < 0.25

    def f1(threshold):
        counts = grid.state(0, threshold, 0.5).counts
        found, truth = counts["tp"] + counts["fp"], counts["tp"] + counts["fn"]
        return 2 * counts["tp"] / (found + truth)

    assert f1(suggested) >= max(f1(t / 100) for t in range(1, 25)) - 1e-12
    assert grid.state(0, suggested, 0.5).counts["tp"] + grid.state(0, suggested, 0.5).counts["fp"] > 0
    # A threshold the model's boxes pass, keeping at least half as many boxes as objects, is kept as it is.
    low = float(np.quantile(scores, 0.5))
    assert grid.suggested_threshold(preferred=round(low, 2) or 0.01) == (round(low, 2) or 0.01)
    with pytest.raises(ValueError, match="preferred"):
        grid.suggested_threshold(preferred=0)
    widget = grid_prediction_widget(grid, ["a", "b", "c", "d"], conf_threshold=suggested)
    assert widget.values()["conf_threshold"] == pytest.approx(suggested)
    with pytest.raises(ValueError, match="conf_threshold"):
        grid_prediction_widget(grid, ["a", "b", "c", "d"], conf_threshold=1.5)
