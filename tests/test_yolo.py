"""YOLOv1 on the shapes data: targets, decoding, loss, model and a short real training run."""

import ast
import math
import time

import pytest
import torch

from vislib.data.shapes import ShapesDataset, masks_to_boxes, to_coco
from vislib.metrics.coco import coco_evaluate
from vislib.models.yolo import (
    TinyYolo,
    YoloLoss,
    decode_all_boxes,
    decode_predictions,
    encode_targets,
    object_cells,
)
from vislib.ops.boxes import box_iou
from vislib.training.epochs import symmetry, to_coco_results
from vislib.training.yolo import DetectorTrainingRun, predict, train_detector

S, B, C = 4, 2, 4
D = B * 5 + C
EPOCHS = 6  # of the short training run


# --------------------------------------------------------------------------- layering


@pytest.mark.parametrize("module", ["vislib/models/yolo.py", "vislib/training/yolo.py", "vislib/training/epochs.py"])
def test_modules_are_computations_only(repository, module):
    tree = ast.parse((repository / module).read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    bad = [
        name
        for name in imported
        if name.startswith(("matplotlib", "ipywidgets", "IPython", "vislib.plotting", "vislib.widgets"))
    ]
    assert not bad


# --------------------------------------------------------------------------- encoding


def test_encode_layout_on_a_hand_made_box():
    # 64 px, 4 x 4 grid: cells of 16 px. Centre (30, 44) -> column 1 (30/16 = 1.875), row 2 (44/16 = 2.75).
    boxes = torch.tensor([[20.0, 36.0, 40.0, 52.0]])
    labels = torch.tensor([3])
    target, dropped = encode_targets(boxes, labels, 64, S, B, C)
    assert dropped == 0
    assert target.shape == (S, S, D) and target.dtype == torch.float32
    expected_slot = torch.tensor([0.875, 0.75, 20 / 64, 16 / 64, 1.0])
    for b in range(B):
        assert torch.equal(target[2, 1, 5 * b : 5 * b + 5], expected_slot)
    assert torch.equal(target[2, 1, 5 * B :], torch.tensor([0.0, 0.0, 1.0, 0.0]))  # label 3 -> index 2
    others = target.clone()
    others[2, 1] = 0
    assert not others.any()  # every other cell is empty


def test_encode_reports_collisions_and_keeps_the_first_object():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [2.0, 2.0, 12.0, 12.0], [40.0, 40.0, 50.0, 50.0]])
    labels = torch.tensor([1, 2, 4])  # boxes 0 and 1 both have their centre in cell (0, 0)
    target, dropped = encode_targets(boxes, labels, 64, S, B, C)
    assert dropped == 1
    assert target[0, 0, 5 * B :].tolist() == [1.0, 0.0, 0.0, 0.0]  # the first one, in input order
    assert target[0, 0, 2].item() == pytest.approx(10 / 64)
    assert target[2, 2, 5 * B :].tolist() == [0.0, 0.0, 0.0, 1.0]
    rows, cols, kept = object_cells(boxes, 64, S)
    assert rows.tolist() == [0, 0, 2] and cols.tolist() == [0, 0, 2] and kept.tolist() == [True, False, True]


def test_encode_clamps_a_centre_on_the_far_edge():
    # A zero-width box on the right edge has its centre at x = 64: it belongs to the last column.
    target, dropped = encode_targets(torch.tensor([[64.0, 10.0, 64.0, 20.0]]), torch.tensor([1]), 64, S, B, C)
    assert dropped == 0 and target[0, 3, 4] == 1 and target[0, 3, 0] == 1.0


def test_encode_rejects_bad_input():
    boxes, labels = torch.tensor([[0.0, 0.0, 10.0, 10.0]]), torch.tensor([1])
    with pytest.raises(ValueError, match="labels must lie in 1..4"):
        encode_targets(boxes, torch.tensor([0]), 64, S, B, C)
    with pytest.raises(ValueError, match="labels must lie in 1..4"):
        encode_targets(boxes, torch.tensor([5]), 64, S, B, C)
    with pytest.raises(ValueError, match="grid_size must divide image_size"):
        encode_targets(boxes, labels, 64, 5, B, C)
    with pytest.raises(ValueError, match="one label per box"):
        encode_targets(boxes, torch.tensor([1, 2]), 64, S, B, C)
    with pytest.raises(ValueError, match=r"boxes must have shape \[N, 4\]"):
        encode_targets(torch.zeros(3), labels, 64, S, B, C)
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        encode_targets(boxes, torch.tensor([1.0]), 64, S, B, C)
    with pytest.raises(ValueError, match="x2 >= x1"):
        encode_targets(torch.tensor([[10.0, 0.0, 0.0, 10.0]]), labels, 64, S, B, C)


def test_encode_handles_an_image_without_objects():
    target, dropped = encode_targets(torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64), 64, S, B, C)
    assert dropped == 0 and not target.any()
    assert len(decode_predictions(target, 64)["boxes"]) == 0


# --------------------------------------------------------------------------- encode -> decode


def _samples(image_size, count, seed):
    dataset = ShapesDataset(count, image_size=image_size, seed=seed)
    for index in range(count):
        yield dataset[index][1]


def _same_class_overlap(boxes, labels, threshold):
    iou = box_iou(boxes, boxes)
    same = labels[:, None] == labels[None, :]
    off_diagonal = ~torch.eye(len(boxes), dtype=torch.bool)
    return bool(((iou > threshold) & same & off_diagonal).any())


def _in_grid_order(boxes, labels, image_size, grid_size):
    """The kept objects, in the order decode returns equal scores: by cell."""
    rows, cols, kept = object_cells(boxes, image_size, grid_size)
    order = torch.argsort(rows[kept] * grid_size + cols[kept])
    return boxes[kept][order], labels[kept][order]


@pytest.mark.parametrize("image_size, grid_size", [(64, 4), (96, 3), (128, 8)])
def test_encode_then_decode_is_the_identity(image_size, grid_size):
    checked = skipped = dropped_total = 0
    for target in _samples(image_size, 150, seed=image_size):
        encoded, dropped = encode_targets(target["boxes"], target["labels"], image_size, grid_size, B, C)
        dropped_total += dropped
        boxes, labels = _in_grid_order(target["boxes"], target["labels"], image_size, grid_size)
        assert len(boxes) == len(target["boxes"]) - dropped

        # The B slots of a cell hold the same box: NMS at IoU 0.99 leaves one of them, and nothing else.
        out = decode_predictions(encoded, image_size, conf_threshold=0.5, iou_threshold=0.99)
        torch.testing.assert_close(out["boxes"], boxes, atol=1e-4, rtol=0)
        assert torch.equal(out["labels"], labels) and out["labels"].dtype == torch.int64
        assert torch.equal(out["scores"], torch.ones(len(boxes)))

        # With the default NMS threshold too, unless two objects of a class overlap by IoU > 0.5
        # (then NMS rightly merges them: that is what it is for).
        if _same_class_overlap(boxes, labels, 0.5):
            skipped += 1
        else:
            out = decode_predictions(encoded, image_size, conf_threshold=0.5)
            torch.testing.assert_close(out["boxes"], boxes, atol=1e-4, rtol=0)
            assert torch.equal(out["labels"], labels)
            checked += 1

        # One box per cell and no NMS: the identity, exactly the kept objects.
        single, _ = encode_targets(target["boxes"], target["labels"], image_size, grid_size, 1, C)
        out = decode_predictions(single, image_size, conf_threshold=0.5, apply_nms=False, num_boxes=1)
        torch.testing.assert_close(out["boxes"], boxes, atol=1e-4, rtol=0)
        assert torch.equal(out["labels"], labels)
    assert skipped <= 5 and checked >= 145
    assert dropped_total > 0 or grid_size == 8  # collisions do happen on coarse grids


# --------------------------------------------------------------------------- decoding


def _empty_output(grid_size=S):
    output = torch.zeros(grid_size, grid_size, D)
    output[..., 5 * B] = 1.0  # a valid class distribution everywhere
    return output


def _put(output, row, col, slot, x, y, w, h, conf, classes=None):
    output[row, col, 5 * slot : 5 * slot + 5] = torch.tensor([x, y, w, h, conf])
    if classes is not None:
        output[row, col, 5 * B :] = torch.tensor(classes)


def test_decode_geometry_scores_cells_and_slots():
    output = _empty_output()
    # Cell (1, 2), slot 1: centre ((2 + 0.5) * 16, (1 + 0.25) * 16) = (40, 20), 16 x 8 px.
    _put(output, 1, 2, 1, 0.5, 0.25, 0.25, 0.125, 0.8, [0.1, 0.6, 0.2, 0.1])
    out = decode_predictions(output, 64)
    torch.testing.assert_close(out["boxes"], torch.tensor([[32.0, 16.0, 48.0, 24.0]]))
    assert out["scores"].tolist() == pytest.approx([0.8 * 0.6])  # P(class | object) * P(object)
    assert out["labels"].tolist() == [2]
    assert out["cell"].tolist() == [[1, 2]] and out["slot"].tolist() == [1]


def test_decode_clips_boxes_to_the_image():
    output = _empty_output()
    _put(output, 0, 0, 0, 0.0, 0.0, 0.5, 0.5, 1.0, [1.0, 0, 0, 0])
    out = decode_predictions(output, 64)
    assert out["boxes"].tolist() == [[0.0, 0.0, 16.0, 16.0]]


def test_decode_score_threshold_is_inclusive():
    output = _empty_output()
    _put(output, 0, 0, 0, 0.5, 0.5, 0.2, 0.2, 0.5, [0.5, 0.5, 0, 0])  # score 0.25 exactly
    _put(output, 3, 3, 0, 0.5, 0.5, 0.2, 0.2, 0.25, [1.0, 0, 0, 0])  # score 0.25 too, another cell
    _put(output, 2, 0, 1, 0.5, 0.5, 0.2, 0.2, 0.2, [0, 0, 0, 1.0])  # score 0.2
    assert len(decode_predictions(output, 64, conf_threshold=0.25)["boxes"]) == 2
    assert len(decode_predictions(output, 64, conf_threshold=0.2)["boxes"]) == 3
    assert len(decode_predictions(output, 64, conf_threshold=0.26)["boxes"]) == 0
    out = decode_predictions(output, 64, conf_threshold=0.0)
    assert out["scores"].tolist() == sorted(out["scores"].tolist(), reverse=True)  # best first


def test_decode_nms_is_per_class():
    output = _empty_output()
    # Cell (1, 1): both slots predict nearly the same box (IoU 0.8): NMS keeps the more confident slot 1.
    _put(output, 1, 1, 0, 0.5, 0.5, 0.5, 0.5, 0.6, [0, 1.0, 0, 0])
    _put(output, 1, 1, 1, 0.5, 0.5, 0.5, 0.4, 0.9)
    # Cell (1, 2) predicts a heavily overlapping box of *another* class: it survives.
    _put(output, 1, 2, 0, 0.0, 0.5, 0.5, 0.5, 0.7, [0, 0, 1.0, 0])
    out = decode_predictions(output, 64, conf_threshold=0.3)
    assert out["slot"].tolist() == [1, 0] and out["cell"].tolist() == [[1, 1], [1, 2]]
    assert out["labels"].tolist() == [2, 3]
    assert out["scores"].tolist() == pytest.approx([0.9, 0.7])
    # Without NMS (or with a threshold above their IoU) all three come back, best first.
    assert len(decode_predictions(output, 64, conf_threshold=0.3, apply_nms=False)["boxes"]) == 3
    assert len(decode_predictions(output, 64, conf_threshold=0.3, iou_threshold=0.85)["boxes"]) == 3
    without = decode_predictions(output, 64, conf_threshold=0.3, apply_nms=False)
    assert without["scores"].tolist() == pytest.approx([0.9, 0.7, 0.6])


def test_decode_all_boxes_gives_every_guess():
    torch.manual_seed(0)
    output = TinyYolo().eval()(torch.rand(1, 3, 64, 64))[0].detach()
    every = decode_all_boxes(output, 64)
    K = S * S * B
    assert every["boxes"].shape == (K, 4) and every["class_probs"].shape == (K, C)
    assert every["objectness"].shape == every["scores"].shape == every["slot"].shape == (K,)
    assert every["cell"].shape == (K, 2)
    assert every["cell"][:4].tolist() == [[0, 0], [0, 0], [0, 1], [0, 1]] and every["slot"][:4].tolist() == [0, 1, 0, 1]
    torch.testing.assert_close(every["objectness"], output[..., [4, 9]].reshape(-1))
    torch.testing.assert_close(every["scores"], every["class_probs"].max(dim=1).values * every["objectness"])
    # Threshold 0 without NMS is the same set, sorted by score.
    out = decode_predictions(output, 64, conf_threshold=0.0, apply_nms=False)
    order = torch.sort(every["scores"], descending=True, stable=True).indices
    torch.testing.assert_close(out["boxes"], every["boxes"][order])


def test_decode_rejects_bad_input():
    with pytest.raises(ValueError, match="square grid"):
        decode_predictions(torch.zeros(4, 3, D), 64)
    with pytest.raises(ValueError, match="too few"):
        decode_predictions(torch.zeros(4, 4, 10), 64)
    with pytest.raises(ValueError, match="output must have shape"):
        decode_predictions(torch.zeros(1, 4, 4, D), 64)
    with pytest.raises(TypeError, match="floating-point"):
        decode_predictions(torch.zeros(4, 4, D, dtype=torch.int64), 64)
    with pytest.raises(ValueError, match="conf_threshold must be <= 1"):
        decode_predictions(_empty_output(), 64, conf_threshold=1.5)
    with pytest.raises(TypeError, match="apply_nms"):
        decode_predictions(_empty_output(), 64, apply_nms=1)


# --------------------------------------------------------------------------- loss


def _one_object_target(n=1):
    target, _ = encode_targets(torch.tensor([[20.0, 36.0, 40.0, 52.0]]), torch.tensor([3]), 64, S, B, C)
    return target.expand(n, S, S, D).clone()  # object in cell (2, 1)


def _perfect(target):
    """The ideal prediction: the target in the responsible slot 0; the other slots an empty box, confidence 0.

    (The responsible slot is the one with the highest IoU whatever its confidence, so a small error in
    slot 0 must not make a copy of the truth in slot 1 the better box.)
    """
    pred = target.clone()
    pred[..., 5 : 5 * B] = 0.0
    return pred


@pytest.mark.parametrize("confidence_target", ["iou", "one"])
def test_loss_is_zero_for_a_perfect_prediction(confidence_target):
    target = _one_object_target(3)
    loss = YoloLoss(S, B, C, confidence_target=confidence_target)(_perfect(target), target)
    assert set(loss) == {"total", "coord", "obj", "noobj", "class"}
    for value in loss.values():
        assert value.item() == pytest.approx(0.0, abs=1e-10)


def test_loss_of_the_target_itself_is_the_second_slots_confidence():
    # Every slot of a target has confidence 1; only the responsible one should: the others cost lambda_noobj each.
    target = _one_object_target(2)
    loss = YoloLoss(S, B, C, lambda_noobj=0.5)(target, target)
    assert loss["noobj"].item() == pytest.approx(0.5 * (B - 1))  # per image
    assert loss["coord"].item() == loss["obj"].item() == loss["class"].item() == 0.0


def _parts(pred, target, **options):
    return {k: v.item() for k, v in YoloLoss(S, B, C, **options)(pred, target).items()}


def test_each_loss_part_responds_to_its_own_error():
    target = _one_object_target()
    perfect = _perfect(target)

    pred = perfect.clone()
    pred[0, 2, 1, 0] += 0.1  # x of the responsible box
    parts = _parts(pred, target, confidence_target="one")
    assert parts["coord"] == pytest.approx(5.0 * 0.1**2, rel=1e-5)
    assert parts["obj"] == parts["noobj"] == parts["class"] == 0.0

    pred = perfect.clone()
    pred[0, 2, 1, 2] = 0.25  # w: 20/64 -> 16/64, on the square-root scale
    parts = _parts(pred, target, confidence_target="one")
    assert parts["coord"] == pytest.approx(5.0 * (math.sqrt(0.25) - math.sqrt(20 / 64)) ** 2, rel=1e-5)

    pred = perfect.clone()
    pred[0, 2, 1, 4] = 0.7  # confidence of the responsible box
    parts = _parts(pred, target)
    assert parts["obj"] == pytest.approx(0.3**2, rel=1e-5)
    assert parts["coord"] == parts["noobj"] == parts["class"] == 0.0

    pred = perfect.clone()
    pred[0, 0, 3, 9] = 0.4  # confidence of a box in an empty cell
    pred[0, 2, 1, 9] = 0.2  # and of the non-responsible box of the object's cell
    parts = _parts(pred, target)
    assert parts["noobj"] == pytest.approx(0.5 * (0.4**2 + 0.2**2), rel=1e-5)
    assert parts["coord"] == parts["obj"] == parts["class"] == 0.0

    pred = perfect.clone()
    pred[0, 2, 1, 5 * B :] = torch.tensor([0.1, 0.1, 0.7, 0.1])  # class probabilities where the object is
    pred[0, 0, 0, 5 * B :] = torch.tensor([0.25, 0.25, 0.25, 0.25])  # and in an empty cell: not counted
    parts = _parts(pred, target)
    assert parts["class"] == pytest.approx(0.01 + 0.01 + 0.09 + 0.01, rel=1e-5)
    assert parts["coord"] == parts["obj"] == parts["noobj"] == 0.0


def test_loss_weights_and_batch_average():
    target = _one_object_target()
    pred = _perfect(target)
    pred[0, 2, 1, 1] -= 0.2  # y error
    pred[0, 1, 1, 4] = 0.3  # confidence in an empty cell
    base = _parts(pred, target)
    heavier = _parts(pred, target, lambda_coord=10.0, lambda_noobj=2.0)
    assert heavier["coord"] == pytest.approx(2 * base["coord"], rel=1e-6)
    assert heavier["noobj"] == pytest.approx(4 * base["noobj"], rel=1e-6)
    assert base["total"] == pytest.approx(base["coord"] + base["obj"] + base["noobj"] + base["class"], rel=1e-6)
    # A sum over the batch divided by its size: the same image twice costs the same.
    twice = _parts(pred.expand(2, S, S, D), target.expand(2, S, S, D))
    for key in base:
        assert twice[key] == pytest.approx(base[key], rel=1e-6)


def test_responsible_box_is_the_one_with_the_highest_iou_and_iou_is_the_confidence_target():
    target = _one_object_target()
    pred = torch.zeros(1, S, S, D)
    pred[0, 2, 1, 5 * B :] = target[0, 2, 1, 5 * B :]
    pred[0, 2, 1, 0:5] = torch.tensor([0.2, 0.2, 0.1, 0.1, 0.9])  # slot 0: far off
    pred[0, 2, 1, 5:10] = torch.tensor([0.8, 0.7, 0.3, 0.25, 0.6])  # slot 1: close
    parts = _parts(pred, target)
    slot1 = pred[0, 2, 1, 5:9]
    truth = target[0, 2, 1, 0:4]
    expected_coord = 5.0 * (((slot1[:2] - truth[:2]) ** 2).sum() + ((slot1[2:].sqrt() - truth[2:].sqrt()) ** 2).sum())
    assert parts["coord"] == pytest.approx(expected_coord.item(), rel=1e-5)
    assert parts["noobj"] == pytest.approx(0.5 * 0.9**2, rel=1e-5)  # slot 0 is not responsible
    # The confidence target is slot 1's IoU with the truth, computed here in pixels with box_iou.
    decoded = decode_all_boxes(pred[0], 64)
    truth_box = torch.tensor([[20.0, 36.0, 40.0, 52.0]])
    iou = box_iou(decoded["boxes"][decoded["slot"] == 1][4 * 2 + 1 : 4 * 2 + 2], truth_box).item()
    assert parts["obj"] == pytest.approx((0.6 - iou) ** 2, rel=1e-4)
    assert _parts(pred, target, confidence_target="one")["obj"] == pytest.approx(0.4**2, rel=1e-5)


def test_loss_gradients_are_finite_even_for_zero_sizes():
    target = _one_object_target(2)
    pred = torch.zeros(2, S, S, D, requires_grad=True)
    YoloLoss(S, B, C)(pred, target)["total"].backward()
    assert torch.isfinite(pred.grad).all()


def test_loss_rejects_bad_input():
    loss = YoloLoss(S, B, C)
    with pytest.raises(ValueError, match="pred must have shape"):
        loss(torch.zeros(1, S, S, D + 1), torch.zeros(1, S, S, D))
    with pytest.raises(ValueError, match="same shape"):
        loss(torch.zeros(2, S, S, D), torch.zeros(1, S, S, D))
    with pytest.raises(ValueError, match="confidence_target"):
        YoloLoss(S, B, C, confidence_target="max")
    with pytest.raises(ValueError, match="lambda_coord must be >= 0"):
        YoloLoss(S, B, C, lambda_coord=-1)


# --------------------------------------------------------------------------- model


@pytest.mark.parametrize("image_size, grid_size", [(64, 4), (64, 2), (96, 3), (96, 6), (128, 8)])
def test_model_output_shape_and_ranges(image_size, grid_size):
    torch.manual_seed(0)
    model = TinyYolo(image_size=image_size, grid_size=grid_size, num_boxes=B, num_classes=C, width=8)
    out = model(torch.rand(2, 3, image_size, image_size))
    assert out.shape == (2, grid_size, grid_size, D)
    boxes = out[..., : 5 * B]
    assert ((boxes > 0) & (boxes < 1)).all()  # sigmoid on x, y, w, h and confidence
    classes = out[..., 5 * B :]
    torch.testing.assert_close(classes.sum(-1), torch.ones(2, grid_size, grid_size))  # softmax


def test_model_rejects_bad_input_and_sizes():
    model = TinyYolo()
    with pytest.raises(ValueError, match=r"images must have shape \[N, 3, 64, 64\]"):
        model(torch.rand(1, 3, 96, 96))
    with pytest.raises(ValueError, match=r"images must have shape \[N, 3, 64, 64\]"):
        model(torch.rand(1, 1, 64, 64))
    with pytest.raises(ValueError, match=r"images must have shape"):
        model(torch.rand(3, 64, 64))
    with pytest.raises(TypeError, match="floating-point"):
        model(torch.zeros(1, 3, 64, 64, dtype=torch.uint8))
    with pytest.raises(ValueError, match="image_size must be one of 64, 96, 128"):
        TinyYolo(image_size=100)
    with pytest.raises(ValueError, match=r"grid_size must divide the 4 x 4 feature map .* \[1, 2, 4\]"):
        TinyYolo(image_size=64, grid_size=3)
    with pytest.raises(TypeError, match="num_classes must be an integer"):
        TinyYolo(num_classes=2.0)


# --------------------------------------------------------------------------- training helpers


def test_symmetries_move_boxes_with_the_pixels():
    dataset = ShapesDataset(6, image_size=64, seed=3)
    for index in range(len(dataset)):
        image, target = dataset[index]
        masks = target["masks"].float()
        for transform in range(8):
            moved_image, moved_boxes = symmetry(image, target["boxes"], transform)
            moved_masks, _ = symmetry(masks, target["boxes"], transform)
            assert torch.equal(moved_boxes, torch.from_numpy(masks_to_boxes(moved_masks.bool().numpy())))
            assert moved_image.shape == image.shape
            assert torch.equal(torch.sort(moved_image.flatten()).values, torch.sort(image.flatten()).values)


def test_to_coco_results_format():
    predictions = [
        {"boxes": torch.tensor([[1.0, 2.0, 11.0, 22.0]]), "scores": torch.tensor([0.75]), "labels": torch.tensor([3])},
        {"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": torch.zeros(0, dtype=torch.int64)},
    ]
    results = to_coco_results(predictions, [7, 8])
    assert results == [{"image_id": 7, "category_id": 3, "bbox": [1.0, 2.0, 10.0, 20.0], "score": 0.75}]
    with pytest.raises(ValueError, match=r"predictions must have one entry per image \(1 in image_ids\), got 2"):
        to_coco_results(predictions, [7])


def test_train_detector_rejects_bad_arguments():
    model = TinyYolo()
    with pytest.raises(ValueError, match=r"dataset images must be \[3, 64, 64\]"):
        train_detector(model, ShapesDataset(4, image_size=96), epochs=1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        train_detector(model, ShapesDataset(4, image_size=64), epochs=0)
    with pytest.raises(TypeError, match="on_epoch must be callable"):
        train_detector(model, ShapesDataset(4, image_size=64), epochs=1, on_epoch=3)
    with pytest.raises(TypeError, match="model must have image_size"):
        train_detector(torch.nn.Linear(2, 2), ShapesDataset(4, image_size=64), epochs=1)


# --------------------------------------------------------------------------- a real (short) training run


def _ap50(model, dataset, ground_truth):
    predictions = predict(model, dataset)
    return coco_evaluate(ground_truth, to_coco_results(predictions, range(len(dataset)))).summary["AP50"]


def test_short_training_run_learns_to_detect():
    torch.manual_seed(0)
    train = ShapesDataset(600, image_size=64, seed=0)
    test = ShapesDataset(200, image_size=64, seed=1)
    ground_truth = to_coco(test)
    model = TinyYolo()
    untrained = _ap50(model, test, ground_truth)
    calls = []

    def on_epoch(epoch, model, run):
        calls.append((epoch, len(run.epoch_losses), model.training))
        model.eval()  # a monitor may evaluate; training must carry on in training mode
        time.sleep(0.05)

    start = time.perf_counter()
    run = train_detector(model, train, epochs=EPOCHS, batch_size=16, lr=3e-3, seed=0, on_epoch=on_epoch)
    seconds = time.perf_counter() - start
    trained = _ap50(model, test, ground_truth)

    assert isinstance(run, DetectorTrainingRun) and not run.diverged
    assert [c[:2] for c in calls] == [(e, e) for e in range(1, EPOCHS + 1)]  # once per epoch, after it
    assert all(training for _, _, training in calls)
    assert len(run.on_epoch_seconds) == len(run.epoch_seconds) == EPOCHS
    assert all(s >= 0.05 for s in run.on_epoch_seconds)
    assert sum(run.epoch_seconds) + sum(run.on_epoch_seconds) + run.prepare_seconds <= seconds + 1e-3
    assert run.steps == EPOCHS * math.ceil(600 / 16) and len(run.loss_parts["coord"]) == run.steps
    assert run.num_images == 600 and 0 < run.dropped_objects < 0.1 * run.total_objects
    assert run.epoch_losses[-1] < 0.7 * run.epoch_losses[0]
    assert run.images_per_second > 0
    print(
        f"\nAP50 untrained {untrained:.3f} -> trained {trained:.3f}; {run.images_per_second:.0f} images/s, "
        f"{seconds:.1f} s"
    )
    assert trained > max(0.08, 4 * untrained)


def test_training_step_helpers_stop_on_a_non_finite_loss_and_average_each_epoch():
    from vislib.training.epochs import _end_epoch, _take_step
    from vislib.training.yolo import LOSS_PARTS

    run, weight = DetectorTrainingRun(), torch.nn.Parameter(torch.ones(2))
    optimizer = torch.optim.SGD([weight], lr=1.0)  # one step takes the weight to 0
    for value in (1.0, 3.0):
        total = value * (weight**2).sum() / 2
        assert _take_step(run, total, {key: total for key in LOSS_PARTS}, optimizer)
    assert run.losses == [1.0, pytest.approx(0.0)] and all(len(v) == 2 for v in run.loss_parts.values())
    assert _end_epoch(run, 1, torch.nn.Identity(), None, time.perf_counter(), first_step=0)
    assert run.epoch_losses == [pytest.approx(0.5)] and run.on_epoch_seconds == [0.0]

    before = weight.detach().clone()
    broken = (weight * float("nan")).sum()
    assert not _take_step(run, broken, {key: broken for key in LOSS_PARTS}, optimizer)
    assert run.diverged and run.steps == 2 and torch.equal(weight.detach(), before)
    assert not _end_epoch(
        run,
        2,
        torch.nn.Identity(),
        lambda *a: pytest.fail("no callback after divergence"),
        time.perf_counter(),
        first_step=2,
    )
    assert len(run.epoch_losses) == 2 and len(run.on_epoch_seconds) == 1


def test_elapsed_seconds_add_preparation_training_and_callbacks_epoch_by_epoch():
    run = DetectorTrainingRun(prepare_seconds=1.0, epoch_seconds=[2.0, 3.0, 4.0], on_epoch_seconds=[0.5, 0.5, 0.5])
    assert run.elapsed_seconds == pytest.approx([3.5, 7.0, 11.5])
    assert run.seconds_to_reach([0.1, 0.8, 0.9], 0.8) == pytest.approx(7.0)  # >= the goal counts
    assert run.seconds_to_reach([0.1, 0.2, 0.3], 0.8) is None


def test_the_yolo_recipe_is_the_profiles_and_builds_its_data_and_model():
    from vislib import runtime
    from vislib.training.yolo import YOLO_RECIPES, yolo_recipe

    assert yolo_recipe(runtime.Profile("quick")) is YOLO_RECIPES["quick"]
    assert yolo_recipe(runtime.Profile("full")).epochs > YOLO_RECIPES["quick"].epochs
    recipe = YOLO_RECIPES["quick"]
    train_set, held_out = recipe.datasets()
    assert (len(train_set), len(held_out)) == (recipe.train_images, recipe.held_out_images)
    assert train_set[0][0].shape == (3, recipe.image_size, recipe.image_size)
    first, second = recipe.model(4), recipe.model(4)  # seeded: the same weights twice
    assert (first.grid_size, first.num_boxes, first.num_classes) == (recipe.grid_size, recipe.num_boxes, 4)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))


def test_notebook_08s_yolo_recipe_uses_its_faster_rcnns_images_at_128_px():
    from vislib import runtime
    from vislib.data.shapes import ShapesDataset
    from vislib.training.yolo import YOLO_RECIPES_128, yolo_recipe

    for name in ("quick", "full"):
        recipe = yolo_recipe(runtime.Profile(name), image_size=128)
        assert recipe is YOLO_RECIPES_128[name] and recipe.image_size == 128
        assert recipe.grid_size == yolo_recipe(runtime.Profile(name)).grid_size  # notebook 07's grid
    # Notebook 08's held-out set: ShapesDataset(60 or 300, image_size=128, seed=2), image for image.
    _, held_out = YOLO_RECIPES_128["quick"].datasets()
    expected = ShapesDataset(60, image_size=128, seed=2)
    assert len(held_out) == len(expected) and torch.equal(held_out[7][0], expected[7][0])
    assert YOLO_RECIPES_128["full"].held_out_images == 300 and YOLO_RECIPES_128["full"].train_seed == 1
    with pytest.raises(ValueError, match="image_size"):
        yolo_recipe(image_size=96)
