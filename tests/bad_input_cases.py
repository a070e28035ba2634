"""Bad-input cases for the public API, kept as data (issue 20).

Each ``Case`` names a public function or class by its dotted path, the arguments of one bad call, the
exception it must raise and words its message must hold (the argument's name, and what was expected).
``tests/test_bad_input.py`` runs them all and fails when a public function has no case: adding a
function means adding its cases here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

NAN = float("nan")


@dataclass(frozen=True)
class Case:
    target: str  # "module.function" or "module.Class" (the place it is defined)
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    error: type = ValueError
    words: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.target.removeprefix('vislib.')}-{'-'.join(self.words)[:40]}"


def case(target: str, *args: Any, error: type = ValueError, words: str | tuple = (), **kwargs: Any) -> Case:
    return Case(target, args, kwargs, error, (words,) if isinstance(words, str) else tuple(words))


BOX = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
NAN_BOX = torch.tensor([[0.0, NAN, 10.0, 10.0]])
FLIPPED = torch.tensor([[10.0, 0.0, 0.0, 10.0]])
SCORES = torch.tensor([0.9])
FEATURES = torch.rand(1, 2, 8, 8)
ROIS = torch.tensor([[0.0, 1.0, 1.0, 6.0, 6.0]])
TARGET = {"boxes": torch.tensor([[1.0, 1.0, 20.0, 20.0]]), "labels": torch.tensor([1])}
DETECTION = {
    "boxes": torch.tensor([[1.0, 1.0, 20.0, 20.0]]),
    "scores": torch.tensor([0.5]),
    "labels": torch.tensor([1]),
}
SHORT = {
    "boxes": torch.tensor([[1.0, 1.0, 20.0, 20.0]] * 2),
    "scores": torch.tensor([0.5]),
    "labels": torch.tensor([1]),
}
YOLO_OUT = torch.rand(4, 4, 2 * 5 + 3)
NAN_OUT = YOLO_OUT.clone().index_put_((torch.tensor([0]),), torch.tensor(NAN))
MASK = np.zeros((4, 4), np.uint8)
LABELS = torch.zeros(2, 8, 8, dtype=torch.long)
CONFUSION = torch.eye(3, dtype=torch.long)


def _gt():
    return {
        "images": [{"id": 1, "height": 20, "width": 20}],
        "categories": [{"id": 1}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25.0, "iscrowd": 0}],
    }


def _gt_with(**changes):
    gt = _gt()
    gt["annotations"][0].update(changes)
    return gt


ops = "vislib.ops"
CASES = [
    # ---------------------------------------------------------------- ops.boxes
    case(f"{ops}.boxes.box_area", NAN_BOX, words=("boxes", "finite")),
    case(f"{ops}.boxes.box_area", FLIPPED, words=("boxes", "x2 >= x1")),
    case(f"{ops}.boxes.box_area", [[0, 0, 1, 1]], error=TypeError, words=("boxes", "torch.Tensor")),
    case(f"{ops}.boxes.box_convert", BOX, "xyxy", "xyz", words=("out_fmt", "one of")),
    case(f"{ops}.boxes.box_convert", torch.zeros(2, 3), "xyxy", "xywh", words=("boxes", "[..., 4]")),
    case(f"{ops}.boxes.box_iou", BOX, torch.zeros(3), words=("boxes2", "shape")),
    case(f"{ops}.boxes.nms", BOX, SCORES, NAN, words=("iou_threshold", "finite")),
    case(f"{ops}.boxes.nms", BOX, torch.tensor([0.1, 0.2]), 0.5, words=("scores", "one score per box")),
    case(f"{ops}.boxes.nms", BOX, torch.tensor([NAN]), 0.5, words=("scores", "NaN")),
    case(f"{ops}.boxes.batched_nms", BOX, SCORES, torch.tensor([0.5]), 0.5, error=TypeError, words=("idxs", "integer")),
    case(f"{ops}.boxes.batched_nms", BOX, SCORES, torch.tensor([1, 2]), 0.5, words=("idxs", "one index per box")),
    # ---------------------------------------------------------------- ops.roi
    case(f"{ops}.roi.roi_align", FEATURES, ROIS, 2, aligned="yes", error=TypeError, words="aligned"),
    case(f"{ops}.roi.roi_align", FEATURES, ROIS, 0, words=("output_size[0]", ">= 1")),
    case(f"{ops}.roi.roi_align", FEATURES, torch.tensor([[3.0, 1, 1, 6, 6]]), 2, words=("boxes[:, 0]", "index")),
    case(f"{ops}.roi.roi_align", FEATURES, ROIS, 2, spatial_scale=0.0, words=("spatial_scale", "> 0")),
    case(f"{ops}.roi.roi_align", FEATURES, torch.tensor([[0.0, 0, 0, 1e7, 1e7]]), 7, words=("sampling_ratio", "limit")),
    case(f"{ops}.roi.roi_pool", FEATURES, torch.tensor([[0.0, NAN, 1, 6, 6]]), 2, words=("boxes", "finite")),
    case(f"{ops}.roi.roi_pool", FEATURES[0], ROIS, 2, words=("input", "4-D")),
    case(f"{ops}.roi.bilinear_interpolate", torch.rand(3, 3), NAN, 1.0, words=("y", "NaN")),
    case(f"{ops}.roi.roi_align_geometry", (0, 0, 1e6, 1e6), 7, words=("sampling_ratio", "limit")),
    case(f"{ops}.roi.roi_align_geometry", (0, 0, 1), 7, error=TypeError, words=("box", "4 numbers")),
    case(f"{ops}.roi.roi_pool_geometry", (0, 0, 4, 4), 2, feature_size=(0, 3), words=("feature_size[0]", ">= 1")),
    case(f"{ops}.roi.misalignment_pixels", (0, 0, 4, NAN), 0.5, words=("box", "finite")),
    # ---------------------------------------------------------------- ops.rle
    case(f"{ops}.rle.rle_encode", np.full((2, 2), 2), words=("mask", "0 and 1")),
    case(f"{ops}.rle.rle_encode", MASK, compressed="yes", error=TypeError, words="compressed"),
    case(f"{ops}.rle.rle_decode", {"size": [2, 2], "counts": [1, 1]}, words=("counts", "height * width")),
    case(f"{ops}.rle.rle_counts", {"size": [2], "counts": [4]}, words=("size", "[height, width]")),
    case(f"{ops}.rle.rle_area", {"counts": [4]}, words=("rle", "'size'")),
    case(f"{ops}.rle.counts_to_string", [1, -2], words=("counts", "0 ..")),
    case(f"{ops}.rle.counts_to_string", "abc", error=TypeError, words=("counts", "list")),
    case(f"{ops}.rle.string_to_counts", 5, error=TypeError, words=("text", "str")),
    case(f"{ops}.rle.string_to_counts", "\x01", words=("text", "invalid character")),
    case(f"{ops}.rle.polygons_to_mask", [[0, 0, 4, 0, 4, 4, 1]], 5, 5, words=("polygons[0]", "even")),
    case(f"{ops}.rle.polygons_to_mask", [[0, 0, 4, 0]], 5, 5, words=("polygons[0]", "at least 3 points")),
    case(f"{ops}.rle.polygons_to_mask", [[0, 0, 4, 0, 4, NAN]], 5, 5, words=("polygons[0]", "finite")),
    case(f"{ops}.rle.polygons_to_mask", [[0, 0, 4, 0, 4, 4]], -1, 5, words=("height", ">= 0")),
    # ---------------------------------------------------------------- ops.batchnorm
    case(f"{ops}.batchnorm.batch_statistics", torch.zeros(3), words=("x", "[N, C, *]")),
    case(f"{ops}.batchnorm.batch_statistics", torch.zeros(1, 3), words=("x", "at least 2 values")),
    case(
        f"{ops}.batchnorm.batch_norm", torch.zeros(2, 3), None, None, training="no", error=TypeError, words="training"
    ),
    case(
        f"{ops}.batchnorm.batch_norm", torch.zeros(2, 3), torch.zeros(4), torch.ones(3), words=("running_mean", "[3]")
    ),
    case(
        f"{ops}.batchnorm.batch_norm",
        torch.zeros(2, 3),
        None,
        None,
        training=True,
        momentum=2.0,
        words=("momentum", "<= 1"),
    ),
    case(
        f"{ops}.batchnorm.fold_batchnorm", torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(3), words=("bn", "3 features")
    ),
    case(f"{ops}.batchnorm.fold_batchnorm", None, None, error=TypeError, words=("conv", "Conv2d")),
    # ---------------------------------------------------------------- ops.dilation, region_cnn
    case(f"{ops}.dilation.sampling_offsets", 3, dilation=0, words=("dilation", ">= 1")),
    case(f"{ops}.dilation.sampling_grid", (1, 1), kernel_size=0, words=("kernel_size", ">= 1")),
    case(f"{ops}.dilation.dilate_kernel", torch.zeros(3), 2, words=("weight", "2-D")),
    case(f"{ops}.dilation.same_padding", 0, words=("kernel_size", ">= 1")),
    case(f"{ops}.dilation.dilated_output_size", 4, 3, dilation=3, words=("dilation", "padded input")),
    case(f"{ops}.dilation.valid_tap_fraction", 0, words=("size", ">= 1")),
    case(f"{ops}.region_cnn.crop_box", torch.rand(3, 8, 8), (0, 0, 20, NAN), words=("box", "finite")),
    case(f"{ops}.region_cnn.warp_regions", torch.rand(3, 8, 8), FLIPPED, words=("boxes", "x2 > x1")),
    # ---------------------------------------------------------------- metrics
    case("vislib.metrics.coco.coco_evaluate", _gt(), [], "keypoints", words=("iou_type", "one of")),
    case("vislib.metrics.coco.coco_evaluate", _gt_with(bbox=[0, 0, 5]), [], words=("bbox", "4 numbers")),
    case(
        "vislib.metrics.coco.coco_evaluate",
        _gt(),
        [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, NAN], "score": 0.5}],
        words=("results[0]['bbox']", "finite"),
    ),
    case("vislib.metrics.detection.match_detections", [BOX], [SCORES], [BOX], NAN, words=("iou_threshold", "finite")),
    case("vislib.metrics.detection.match_detections", [BOX], [SCORES], [BOX, BOX], words=("gt_boxes", "image")),
    case("vislib.metrics.detection.precision_recall_at", None, 0.5, error=TypeError, words="matches"),
    case("vislib.metrics.detection.precision_recall_curve", torch.tensor([True]), -1, words="num_ground_truth"),
    case("vislib.metrics.detection.precision_envelope", torch.tensor([NAN]), words=("precision", "finite")),
    case(
        "vislib.metrics.detection.voc_ap", torch.tensor([0.5]), torch.tensor([0.5, 1.0]), words=("precision", "recall")
    ),
    case(
        "vislib.metrics.detection.coco_interpolated_precision",
        torch.tensor([0.5, 0.2]),
        torch.tensor([1.0, 1.0]),
        words=("recall", "non-decreasing"),
    ),
    case("vislib.metrics.detection.coco_interpolated_ap", torch.tensor([2.0]), torch.tensor([1.0]), words="recall"),
    case(
        "vislib.metrics.detection.mean_average_precision",
        [0.5, 0.6],
        [2.7, 0.5],
        error=TypeError,
        words=("num_ground_truth[0]", "integer"),
    ),
    case("vislib.metrics.detection.mean_average_precision", [1.5], words=("per_class_ap", "[0, 1]")),
    case("vislib.metrics.proposals.proposal_recall", BOX, NAN_BOX, words=("ground_truth", "finite")),
    case("vislib.metrics.proposals.proposal_recall", BOX, BOX, 1.5, words=("iou_threshold", "<= 1")),
    case("vislib.metrics.proposals.recall_at_counts", [BOX], [BOX], [-1], words=("counts", ">= 0")),
    case("vislib.metrics.segmentation.confusion_matrix", LABELS, LABELS, 0, words=("num_classes", ">= 1")),
    case("vislib.metrics.segmentation.confusion_matrix", LABELS, LABELS[:1], 3, words=("target", "shape")),
    case("vislib.metrics.segmentation.per_class_iou", torch.eye(3)[:2], words=("confusion", "square")),
    case("vislib.metrics.segmentation.mean_iou", -CONFUSION, words=("confusion", "negative")),
    case("vislib.metrics.segmentation.pixel_accuracy", torch.zeros(3), words="confusion"),
    case("vislib.metrics.segmentation.class_accuracy", torch.zeros(2, 3), words=("confusion", "square")),
    case(
        "vislib.metrics.segmentation.segmentation_scores",
        LABELS,
        LABELS,
        3,
        ignore_index=1.5,
        error=TypeError,
        words="ignore_index",
    ),
    case("vislib.metrics.boundary.boundary_map", torch.zeros(3), error=TypeError, words=("labels", "integer")),
    case("vislib.metrics.boundary.dilate", torch.zeros(4, 4, dtype=torch.bool), -1, words=("radius", ">= 0")),
    case("vislib.metrics.boundary.boundary_band", LABELS[0], -1, words=("width", ">= 0")),
    case("vislib.metrics.boundary.boundary_f_score", LABELS, LABELS, tolerance=-1, words=("tolerance", ">= 0")),
    case("vislib.metrics.boundary.trimap_scores", LABELS, LABELS, 3, width=-2, words=("width", ">= 0")),
    # ---------------------------------------------------------------- data
    case("vislib.data.shapes.ShapesDataset", -1, words=("num_images", ">= 0")),
    case("vislib.data.shapes.ShapesDataset", 4, classes=("hexagon",), words=("classes", "hexagon")),
    case("vislib.data.shapes.from_coco", _gt_with(bbox=[0, 0, -1, 5]), words=("bbox", "width >= 0")),
    case("vislib.data.shapes.from_coco", _gt_with(bbox=[0, NAN, 1, 5]), words=("bbox", "finite")),
    case("vislib.data.shapes.from_coco", _gt_with(bbox=[0, 1, 5]), words=("bbox", "4 numbers")),
    case("vislib.data.shapes.from_coco", _gt_with(category_id=7), words=("category_id", "unknown category id 7")),
    case("vislib.data.shapes.from_coco", {**_gt(), "images": _gt()["images"] * 2}, words=("ids", "unique")),
    case(
        "vislib.data.shapes.from_coco",
        _gt_with(segmentation=[[0, 0, 4, 0, 4, 4, 2]]),
        words=("segmentation of annotation 1[0]", "even"),
    ),
    case("vislib.data.shapes.masks_to_boxes", np.zeros((4, 4)), words=("masks", "[N, H, W]")),
    case("vislib.data.shapes.detection_collate", [], words=("batch", "empty")),
    case("vislib.data.shapes.to_coco", [1, 2], words="class_names"),
    case("vislib.data.shapes.to_voc_xml", TARGET, "a.png", (10, 10), ["circle"], words=("target['boxes']", "inside")),
    case("vislib.data.shapes.to_voc_xml", TARGET, "a.png", (32, 32), "circle", error=TypeError, words="class_names"),
    case(f"{ops}.rle.rle_decode", None, words=("rle", "'size' and 'counts'")),
    case("vislib.data.shapes.render_sample", None, 64, 1, 2, 4, [0], error=TypeError, words="rng"),
    case("vislib.data.digits.load_digits", size=3, words=("size", ">= 8")),
    case("vislib.data.digits.load_digits", test_fraction=1.0, words=("test_fraction", "<= 0.95")),
    case("vislib.data.photos.load_photo", "moon", words=("name", "one of")),
    case("vislib.data.photos.load_grey_photo", size=0, words=("size", ">= 4")),
    # ---------------------------------------------------------------- models
    case("vislib.models.yolo.object_cells", NAN_BOX, 64, 4, words=("boxes", "finite")),
    case("vislib.models.yolo.object_cells", FLIPPED, 64, 4, words=("boxes", "x2 >= x1")),
    case(
        "vislib.models.yolo.encode_targets",
        torch.tensor([[60.0, 60, 80, 80]]),
        torch.tensor([1]),
        64,
        4,
        2,
        3,
        words=("boxes", "inside"),
    ),
    case("vislib.models.yolo.encode_targets", BOX, torch.tensor([4]), 64, 4, 2, 3, words=("labels", "1..3")),
    case("vislib.models.yolo.decode_all_boxes", torch.rand(4, 4, 10), 64, words=("output", "too few")),
    case("vislib.models.yolo.decode_predictions", NAN_OUT, 64, words=("output", "finite")),
    case("vislib.models.yolo.decode_predictions", YOLO_OUT, 64, conf_threshold=2.0, words=("conf_threshold", "<= 1")),
    case("vislib.models.yolo.YoloLoss", 4, 2, 3, confidence_target="half", words=("confidence_target", "one of")),
    case("vislib.models.yolo.TinyYolo", image_size=100, words=("image_size", "one of")),
    case("vislib.models.small_cnn.SmallCNN", "middle", words=("batchnorm", "one of")),
    case("vislib.models.small_cnn.SmallCNN", "none", norm_group=2, words=("norm_group", "batch norm")),
    case("vislib.models.small_cnn.GhostBatchNorm2d", 3, 0, words=("group_size", ">= 1")),
    case("vislib.models.deeplab.ASPP", 0, words=("in_channels", ">= 1")),
    case("vislib.models.deeplab.DeepLabV3Plus", num_classes=0, words=("num_classes", ">= 2")),
    case("vislib.models.deeplab.EncoderClassifier", 0, words=("num_outputs", ">= 1")),
    case("vislib.models.faster_rcnn.default_anchor_sizes", 0, words=("image_size", ">= 8")),
    case("vislib.models.faster_rcnn.small_faster_rcnn", 1, words=("num_classes", ">= 2")),
    case("vislib.models.faster_rcnn.cell_anchors", [16], [0.0], words=("aspect_ratios[0]", ">= 0.001")),
    case("vislib.models.faster_rcnn.anchor_grid", 64, 0, words=("feature_size", ">= 1")),
    case("vislib.models.faster_rcnn.count_parameters_by_part", "model", error=TypeError, words="model"),
    case("vislib.models.region_cnn.RegionCNN", num_classes=0, words=("num_classes", ">= 1")),
    case("vislib.models.segmentation.build_segmenter", "segformer", 3, words=("name", "one of")),
    case("vislib.models.segmentation.UNet", 0, words=("num_classes", ">= 2")),
    case("vislib.models.segmentation.PyramidPooling", 8, bins=(0,), words=("bins", ">= 1")),
    case("vislib.models.segmentation.adaptive_pool_regions", 4, 0, words=("bins", ">= 1")),
    case("vislib.models.segmentation.strongest_channel", torch.zeros(3), words=("features", "3-D")),
    # ---------------------------------------------------------------- analysis
    case("vislib.analysis.nonlinearities.activation_response", NAN, 1.0, words=("mean", "finite")),
    case("vislib.analysis.nonlinearities.activation_response", 0.0, 1.0, "swish", words=("nonlinearity", "one of")),
    case("vislib.analysis.nonlinearities.activate", np.zeros(3), "swish", words=("nonlinearity", "one of")),
    case("vislib.analysis.nonlinearities.derivative", np.zeros(3), "swish", words=("nonlinearity", "one of")),
    case("vislib.analysis.receptive_field.conv", 0, words=("kernel_size", ">= 1")),
    case("vislib.analysis.receptive_field.pool", 2, stride=0, words=("stride", ">= 1")),
    case("vislib.analysis.receptive_field.receptive_field", [3], error=TypeError, words="layers"),
    # ---------------------------------------------------------------- states
    case("vislib.states.scoring.iou_state", 1, 1, -1, 1, 1, 1, 1, 1, words=("gt_w", ">= 0")),
    case(
        "vislib.states.scoring.simulate_detections",
        [{}],
        0.1,
        1.0,
        0.5,
        num_classes=3,
        image_size=64,
        words=("targets[0]", "missing"),
    ),
    case(
        "vislib.states.scoring.simulate_detections",
        [TARGET],
        0.1,
        1.0,
        0.5,
        num_classes=3,
        image_size=64,
        miss_rate=5,
        words=("miss_rate", "<= 1"),
    ),
    case("vislib.states.scoring.pool_matches_fast", [DETECTION], [], words=("detections", "one entry per image")),
    case("vislib.states.scoring.pool_matches_fast", [DETECTION], [TARGET], NAN, words=("iou_threshold", "finite")),
    case("vislib.states.scoring.pool_matches", [DETECTION], [TARGET], 0, words=("num_classes", ">= 1")),
    case(
        "vislib.states.scoring.pool_matches",
        [SHORT],
        [TARGET],
        3,
        words=("detections[0]['scores']", "one entry per box"),
    ),
    case("vislib.states.scoring.threshold_state", None, [DETECTION], [TARGET], 0.5, error=TypeError, words="pooled"),
    case(
        "vislib.states.scoring.SimulatedDetector", [], num_classes=3, image_size=64, words=("targets", "at least one")
    ),
    case(
        "vislib.states.scoring.SimulatedDetector",
        [TARGET],
        num_classes=3,
        image_size=64,
        shown_images=(3,),
        words=("shown_images[0]", "<= 0"),
    ),
    case("vislib.states.roi.block_feature_map", np.zeros((8, 8)), 3, words=("stride", "divide")),
    case("vislib.states.roi.RoIAlignExplorer", strides=(7,), words=("strides", "divide")),
    case("vislib.states.receptive_field.ReceptiveFieldExplorer", input_size=0, words=("input_size", ">=")),
    case(
        "vislib.states.yolo.GridPredictions",
        "model",
        torch.rand(1, 3, 64, 64),
        [TARGET],
        num_boxes=2,
        error=TypeError,
        words="model",
    ),
    case(
        "vislib.states.activations.activation_distribution_state",
        None,
        None,
        0,
        0,
        "before",
        error=TypeError,
        words="plain",
    ),
    # ---------------------------------------------------------------- training
    case(
        "vislib.training.epochs.to_coco_results", [SHORT], [1], words=("predictions[0]['scores']", "one entry per box")
    ),
    case("vislib.training.epochs.to_coco_results", [DETECTION], [1, 2], words=("predictions", "one entry per image")),
    case(
        "vislib.training.epochs.to_coco_results", [DETECTION], [1.5], error=TypeError, words=("image_ids[0]", "integer")
    ),
    case("vislib.training.epochs.symmetry", torch.rand(3, 8, 8), BOX, 8, words=("transform", "<= 7")),
    case(
        "vislib.training.classification.accuracy",
        torch.nn.Linear(2, 2),
        torch.rand(2, 1, 4, 4),
        torch.tensor([0, 1]),
        batch_size=0,
        words=("batch_size", ">= 1"),
    ),
    case(
        "vislib.training.classification.accuracy",
        torch.nn.Linear(2, 2),
        torch.rand(2, 1, 4, 4),
        torch.tensor([0]),
        words=("labels", "one label per image"),
    ),
    case(
        "vislib.training.classification.accuracy_with_batch_statistics",
        torch.nn.Linear(2, 2),
        torch.rand(2, 1, 4, 4),
        torch.tensor([0, 1]),
        1,
        words=("batch_size", ">= 2"),
    ),
    case("vislib.training.classification.batches", 10, 0, 5, 0, words=("batch_size", ">= 1")),
    case("vislib.training.sweeps.train_variants", None, epochs=-1, words=("epochs", ">= 0")),
    case(
        "vislib.analysis.claims.measure_claim",
        "a claim",
        "accuracy",
        [0.9],
        [0.8, 0.7],
        with_label="with",
        without_label="without",
        words=("one value per seed", "1 and 2"),
    ),
    case(
        "vislib.training.sweeps.generalization_gap", None, train_size=10, error=TypeError, words=("data", "ImageSplit")
    ),
    case("vislib.training.sweeps.compare_statistics_groups", [], error=TypeError, words=("data", "ImageSplit")),
    case("vislib.training.segmentation.presence_labels", LABELS, 0, words=("num_classes", ">= 2")),
    case(
        "vislib.training.segmentation.predict_masks",
        torch.nn.Identity(),
        torch.rand(2, 3, 8, 8),
        batch_size=0,
        words=("batch_size", ">= 1"),
    ),
    case("vislib.training.segmentation.segmentation_tensors", [], words=("dataset", "at least one")),
    case("vislib.training.recording.ActivationRecorder", torch.nn.Linear(2, 2), samples=0, words=("samples", ">= 1")),
    case("vislib.training.monitor.evaluate_epoch", -1, [], _gt(), [], words=("epoch", ">= 0")),
    # ---------------------------------------------------------------- widgets
    case("vislib.widgets.nonlinearities.saturation_widget", mean=100, words=("'mean'", "[-6.0, 6.0]")),
    case("vislib.widgets.roi.roi_align_widget", output_size=20, words=("'output_size'", "[1, 8]")),
    case("vislib.widgets.roi.roi_align_widget", stride=12, words=("'stride'", "one of")),
    case("vislib.widgets.scoring.iou_widget", canvas=1, words=("canvas", ">= 60")),
    case("vislib.widgets.scoring.precision_recall_widget", None, [], error=TypeError, words="detector"),
    case("vislib.widgets.yolo.grid_prediction_widget", None, ["a"], error=TypeError, words="predictions"),
    case("vislib.widgets.activations.activation_distribution_widget", None, None, error=TypeError, words="plain"),
    case("vislib.widgets.receptive_field.receptive_field_widget", preset="none", words=("'preset'", "one of")),
    case("vislib.widgets.core.Interactive", lambda a: a, lambda ax, s: None, {}, words=("controls", "at least one")),
    case(
        "vislib.widgets.core.make_control",
        "n",
        __import__("ipywidgets").IntSlider,
        20,
        max=10,
        words=("'n'", "[0, 10]"),
    ),
]
