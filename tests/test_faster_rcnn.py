"""A small torchvision Faster R-CNN (vislib.models.faster_rcnn, vislib.training.faster_rcnn).

Oracles: torchvision's ``AnchorGenerator`` and the model's own RPN, ``vislib.metrics.coco.coco_evaluate``
(equal to pycocotools).
"""

import ast

import pytest
import torch
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.rpn import AnchorGenerator

from vislib.data.shapes import ShapesDataset, to_coco
from vislib.metrics.coco import coco_evaluate
from vislib.models.faster_rcnn import (
    DEFAULT_ASPECT_RATIOS,
    SmallBackbone,
    anchor_grid,
    cell_anchors,
    count_parameters_by_part,
    default_anchor_sizes,
    rpn_proposals,
    small_faster_rcnn,
)
from vislib.training.faster_rcnn import LOSS_PARTS, FasterRCNNTrainingRun, predict, to_coco_results, train_faster_rcnn

SIZE = 64


@pytest.fixture(scope="module")
def data():
    return ShapesDataset(8, image_size=SIZE, seed=1)


def tiny_model(**kwargs):
    torch.manual_seed(0)
    options = dict(
        width=8,
        out_channels=16,
        representation_size=32,
        box_batch_size_per_image=16,
        rpn_pre_nms_top_n=(100, 50),
        rpn_post_nms_top_n=(50, 20),
    )
    options.update(kwargs)
    return small_faster_rcnn(5, SIZE, **options)


@pytest.mark.parametrize("module", ["vislib/models/faster_rcnn.py", "vislib/training/faster_rcnn.py"])
def test_modules_are_computations_only(repository, module):
    tree = ast.parse((repository / module).read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    assert not [
        name for name in imported if name.startswith(("matplotlib", "ipywidgets", "IPython", "vislib.plotting"))
    ]


# --------------------------------------------------------------------------- anchors


@pytest.mark.parametrize("sizes, ratios", [((16, 32, 64), (0.5, 1.0, 2.0)), ((8,), (1.0,)), ((10, 23.5), (0.3, 1.7))])
def test_cell_anchors_equal_torchvision(sizes, ratios):
    expected = AnchorGenerator().generate_anchors(sizes, ratios)
    assert torch.equal(cell_anchors(sizes, ratios), expected)


@pytest.mark.parametrize(
    "image_size, feature_size, sizes, ratios",
    [
        (128, 16, (16, 32, 64), (0.5, 1.0, 2.0)),
        (64, 8, (8, 16, 32), (0.5, 1.0, 2.0)),
        ((96, 128), (12, 16), (12, 40), (1.0, 2.0)),
        ((100, 70), (13, 9), (20,), (0.5, 1.0)),  # strides that do not divide: 100 // 13 = 7, 70 // 9 = 7
    ],
)
def test_anchor_grid_equals_torchvision_anchor_generator(image_size, feature_size, sizes, ratios):
    height, width = image_size if isinstance(image_size, tuple) else (image_size, image_size)
    f_height, f_width = feature_size if isinstance(feature_size, tuple) else (feature_size, feature_size)
    generator = AnchorGenerator(sizes=(tuple(sizes),), aspect_ratios=(tuple(ratios),))
    images = ImageList(torch.zeros(1, 3, height, width), [(height, width)])
    expected = generator(images, [torch.zeros(1, 4, f_height, f_width)])[0]
    anchors, centres = anchor_grid(image_size, feature_size, sizes, ratios)
    assert torch.equal(anchors, expected)
    assert centres.shape == (f_height * f_width, 2)
    per_location = anchors.view(f_height * f_width, len(sizes) * len(ratios), 4)
    torch.testing.assert_close(
        (per_location[:, :, :2] + per_location[:, :, 2:]).mean(1) / 2, centres, atol=0.5, rtol=0
    )  # anchors are centred on their location (up to rounding)
    assert centres[1, 0] - centres[0, 0] == width // f_width


def test_default_anchor_sizes_scale_with_the_image():
    assert default_anchor_sizes(128) == (16, 32, 64)
    assert default_anchor_sizes(64) == (8, 16, 32)
    model = small_faster_rcnn(5, 64, width=4, out_channels=8, representation_size=8)
    assert model.anchor_sizes == (8, 16, 32) and model.aspect_ratios == DEFAULT_ASPECT_RATIOS
    assert model.rpn.anchor_generator.num_anchors_per_location() == [9]
    sampler = model.roi_heads.fg_bg_sampler
    assert (sampler.batch_size_per_image, sampler.positive_fraction) == (32, 0.5)
    assert model.transform.min_size == (64,) and model.transform.max_size == 64


# --------------------------------------------------------------------------- the model


def test_backbone_has_stride_eight():
    backbone = SmallBackbone(width=4, out_channels=12)
    assert backbone(torch.rand(2, 3, 64, 96)).shape == (2, 12, 8, 12)
    assert backbone.out_channels == 12


def test_forward_in_training_and_evaluation_mode(data):
    model = tiny_model()
    images = [data[i][0] for i in range(2)]
    targets = [{"boxes": data[i][1]["boxes"], "labels": data[i][1]["labels"]} for i in range(2)]
    model.train()
    losses = model(images, targets)
    assert set(losses) == set(LOSS_PARTS)
    assert all(torch.isfinite(value) and value.ndim == 0 for value in losses.values())
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in model.backbone.parameters())
    model.eval()
    with torch.no_grad():
        outputs = model(images)
    assert len(outputs) == 2
    for output in outputs:
        assert set(output) >= {"boxes", "scores", "labels"}
        assert output["boxes"].shape[1] == 4 and len(output["boxes"]) <= 100


def test_count_parameters_by_part_adds_up():
    model = tiny_model()
    counts = count_parameters_by_part(model)
    assert counts["total"] == sum(p.numel() for p in model.parameters())
    assert counts["total"] == counts["backbone"] + counts["rpn"] + counts["roi_heads"]
    with pytest.raises(TypeError, match="FasterRCNN"):
        count_parameters_by_part(torch.nn.Linear(2, 2))


def test_rpn_proposals_are_what_the_model_passes_to_its_head(data):
    model = tiny_model().eval()
    images = [data[i][0] for i in range(3)]
    found = rpn_proposals(model, images)
    with torch.no_grad():
        image_list, _ = model.transform(images)
        expected, _ = model.rpn(image_list, {"0": model.backbone(image_list.tensors)})
    assert len(found) == 3
    for result, boxes in zip(found, expected):
        torch.testing.assert_close(result["boxes"], boxes)  # the images are not resized: same pixels
        assert result["scores"].shape == (len(boxes),)
        assert bool(((result["scores"] >= 0) & (result["scores"] <= 1)).all())
        assert len(boxes) <= 20  # rpn_post_nms_top_n for testing
    assert model.training is False
    one = rpn_proposals(model, images[0])
    torch.testing.assert_close(one[0]["boxes"], found[0]["boxes"])


# --------------------------------------------------------------------------- training and predicting


@pytest.fixture(scope="module")
def trained(data):
    model = tiny_model()
    seen = []
    run = train_faster_rcnn(
        model,
        data,
        epochs=6,
        batch_size=4,
        lr=3e-3,
        warmup_steps=2,
        augment=False,
        on_epoch=lambda epoch, m, r: seen.append((epoch, m.training, r.steps)),
    )
    return model, run, seen


def test_a_short_training_run_lowers_the_loss(trained):
    model, run, seen = trained
    assert isinstance(run, FasterRCNNTrainingRun) and not run.diverged
    assert run.epochs == 6 and run.steps == 12 and run.num_images == 8
    assert run.epoch_losses[-1] < run.epoch_losses[0]
    assert set(run.loss_parts) == set(LOSS_PARTS) and all(len(v) == 12 for v in run.loss_parts.values())
    parts = run.epoch_loss_parts()
    assert all(len(values) == 6 for values in parts.values())
    assert sum(values[0] for values in parts.values()) == pytest.approx(run.epoch_losses[0], rel=1e-5)
    assert seen == [(e, True, 2 * e) for e in range(1, 7)]  # called after every epoch, in training mode
    assert model.training is False
    assert run.images_per_second > 0 and len(run.on_epoch_seconds) == 6


def test_predict_returns_torchvision_detections_per_image(trained, data):
    model = trained[0]
    model.train()
    predictions = predict(model, data, batch_size=3)
    assert model.training  # left in the mode it was in
    model.eval()
    assert len(predictions) == len(data)
    for prediction in predictions:
        assert set(prediction) == {"boxes", "scores", "labels"}
        boxes, scores, labels = prediction["boxes"], prediction["scores"], prediction["labels"]
        assert boxes.shape == (len(scores), 4) and labels.shape == scores.shape and labels.dtype == torch.int64
        assert bool(((labels >= 1) & (labels <= 4)).all())
        assert bool(((boxes >= 0) & (boxes <= SIZE)).all()) and bool((boxes[:, 2:] >= boxes[:, :2]).all())
        assert bool((scores >= 0.05).all()) and bool((scores[:-1] >= scores[1:]).all())
    images_only = predict(model, [data[i][0] for i in range(2)])
    torch.testing.assert_close(images_only[1]["boxes"], predictions[1]["boxes"])


def test_coco_round_trip(trained, data):
    ground_truth = to_coco(data)
    image_ids = [image["id"] for image in ground_truth["images"]]
    perfect = [
        {"boxes": t["boxes"], "scores": torch.ones(len(t["boxes"])), "labels": t["labels"]}
        for t in (data[i][1] for i in range(len(data)))
    ]
    results = to_coco_results(perfect, image_ids)
    assert len(results) == sum(len(p["boxes"]) for p in perfect)
    assert set(results[0]) == {"image_id", "category_id", "bbox", "score"}
    evaluation = coco_evaluate(ground_truth, results, iou_type="bbox")
    assert evaluation.summary["AP50"] == pytest.approx(1.0) and evaluation.summary["AP"] == pytest.approx(1.0)
    model = trained[0]
    summary = coco_evaluate(ground_truth, to_coco_results(predict(model, data), image_ids)).summary
    assert 0.0 <= summary["AP50"] <= 1.0 and summary["AP"] <= summary["AP50"]


# --------------------------------------------------------------------------- bad input


def test_bad_input_is_refused_with_clear_errors(data):
    with pytest.raises(ValueError, match="num_classes"):
        small_faster_rcnn(1)
    with pytest.raises(ValueError, match="multiple of the backbone's stride 8"):
        small_faster_rcnn(5, 100)
    with pytest.raises(ValueError, match="at least one value"):
        small_faster_rcnn(5, 64, anchor_sizes=())
    with pytest.raises(ValueError, match=r"aspect_ratios\[1\]"):
        cell_anchors((8,), (1.0, -2.0))
    with pytest.raises(TypeError, match="sizes must be a tuple"):
        anchor_grid(64, 8, 16)
    with pytest.raises(ValueError, match="must not exceed"):
        anchor_grid(8, 16)
    with pytest.raises(ValueError, match="rpn_post_nms_top_n must be a"):
        small_faster_rcnn(5, 64, rpn_post_nms_top_n=(10,))
    model = tiny_model()
    with pytest.raises(TypeError, match="FasterRCNN"):
        rpn_proposals(torch.nn.Linear(2, 2), data[0][0])
    with pytest.raises(ValueError, match=r"images\[0\] must be \[3, H, W\]"):
        rpn_proposals(model, [torch.rand(1, SIZE, SIZE)])
    with pytest.raises(ValueError, match=r"must be \[3, 64, 64\]"):
        train_faster_rcnn(model, ShapesDataset(2, image_size=96), epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        train_faster_rcnn(model, data, epochs=0)
    with pytest.raises(ValueError, match="lr_schedule"):
        train_faster_rcnn(model, data, epochs=1, lr_schedule="step")
    with pytest.raises(ValueError, match="optimizer"):
        train_faster_rcnn(model, data, epochs=1, optimizer="rmsprop")
    with pytest.raises(ValueError, match="box_positive_fraction"):
        small_faster_rcnn(5, 64, box_positive_fraction=0.0)
    with pytest.raises(TypeError, match="on_epoch must be callable"):
        train_faster_rcnn(model, data, epochs=1, on_epoch=3)
    with pytest.raises(ValueError, match="must not be empty"):
        train_faster_rcnn(model, [], epochs=1)
    with pytest.raises(ValueError, match=r"the model expects \[3, 64, 64\]"):
        predict(model, [torch.rand(3, 32, 32)])
    with pytest.raises(ValueError, match=r"predictions must have one entry per image \(2 in image_ids\), got 1"):
        to_coco_results([{"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": torch.zeros(0)}], [1, 2])
