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
CONV3 = __import__("vislib.analysis.receptive_field", fromlist=["conv"]).conv(3)
RESNET = __import__("vislib.models.residual", fromlist=["CifarResNet"]).CifarResNet(depth=8, width=4)
REGION_CNN = __import__("vislib.models.region_cnn", fromlist=["RegionCNN"]).RegionCNN()
IMAGES = torch.rand(2, 1, 8, 8)
LABELS2 = torch.tensor([0, 1])
LABELS3 = torch.tensor([0, 1, 2])
SPLIT = __import__("vislib.data.digits", fromlist=["ImageSplit"]).ImageSplit(
    torch.rand(4, 1, 8, 8), torch.tensor([0, 1, 0, 1]), torch.rand(2, 1, 8, 8), LABELS2
)


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
        "vislib.metrics.segmentation.object_ious",
        LABELS[0],
        torch.zeros(1, 8, 8),
        LABELS[0],
        words=("labels", "one label per mask"),
    ),
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
    case("vislib.training.segmentation.presence_labels", LABELS, 0, words=("num_classes", ">= 2")),
    case(
        "vislib.training.segmentation.predict_masks",
        torch.nn.Identity(),
        torch.rand(2, 3, 8, 8),
        batch_size=0,
        words=("batch_size", ">= 1"),
    ),
    case("vislib.training.segmentation.segmentation_tensors", [], words=("dataset", "at least one")),
    case(
        "vislib.analysis.claims.measure_claim",
        "claim",
        "mIoU",
        [0.5, 0.6],
        [0.4],
        with_label="with",
        without_label="without",
        words=("one value per seed", "2 and 1"),
    ),
    case("vislib.training.deeplab.presence_data", 0, words=("num_images", ">= 1")),
    case(
        "vislib.training.deeplab.train_presence_classifier",
        torch.nn.Identity(),
        torch.rand(2, 3, 8, 8),
        torch.zeros(2, 4),
        steps=0,
        words=("steps", ">= 1"),
    ),
    case("vislib.training.deeplab.object_targets", [], error=TypeError, words=("dataset", "ShapesDataset")),
    case(
        "vislib.training.deeplab.segmentation_quality",
        torch.nn.Identity(),
        torch.rand(2, 3, 8, 8),
        LABELS,
        [],
        words=("objects", "one (masks, labels) pair per image"),
    ),
    case(
        "vislib.training.deeplab.fine_tuning_curve",
        {},
        (torch.rand(2, 3, 8, 8), LABELS),
        (torch.rand(2, 3, 8, 8), LABELS),
        words=("label_counts[0]", "<= 2"),
    ),
    case(
        "vislib.training.deeplab.compare_segmenters",
        {},
        (torch.rand(2, 3, 8, 8), LABELS),
        (torch.rand(2, 3, 8, 8), LABELS),
        [],
        words=("variants", "at least one"),
    ),
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
    # ---------------------------------------------------------------- notebooks 02, 03, 09, TIDE and the rest
    case(
        "vislib.analysis.claims.measure_claim",
        "claim",
        "m",
        [1.0, 2.0],
        [1.0],
        with_label="a",
        without_label="b",
        words=("without_values", "one value per seed"),
    ),
    case("vislib.analysis.parameters.count_parameters", "model", error=TypeError, words=("model", "nn.Module")),
    case("vislib.analysis.receptive_field.output_size", 0, CONV3, words=("input_size", ">= 1")),
    case("vislib.analysis.receptive_field.output_sizes", 2, [CONV3], words=("input_size", "too small")),
    case("vislib.analysis.receptive_field.minimum_input_size", [3], error=TypeError, words="layers"),
    case("vislib.analysis.receptive_field.field_of_unit", [CONV3], -1, words=("index", ">= 0")),
    case("vislib.analysis.receptive_field.field_of_unit_2d", [CONV3], (0,), words="unit"),
    case("vislib.analysis.receptive_field.input_support", [CONV3], 8, 6, words=("unit", "between 0 and 5")),
    case("vislib.analysis.receptive_field.path_counts", [CONV3], 0, 0, words=("input_size", ">= 1")),
    case(
        "vislib.analysis.receptive_field.input_support_2d", [CONV3], (8, 8), (0, 9), words=("unit", "between 0 and 5")
    ),
    case("vislib.analysis.receptive_field.build_stack", [CONV3], weights="zeros", words=("weights", "one of")),
    case(
        "vislib.analysis.receptive_field.gradient_map",
        "model",
        8,
        (0, 0),
        error=TypeError,
        words=("model", "nn.Module"),
    ),
    case(
        "vislib.analysis.receptive_field.with_dilations",
        [CONV3],
        [0.5],
        error=TypeError,
        words=("dilations[0]", "integer"),
    ),
    case("vislib.analysis.receptive_field.average_gradient_map", [CONV3], 8, (0, 0), seeds=0, words=("seeds", ">= 1")),
    case("vislib.analysis.receptive_field.mass_radius", np.ones((4, 4)), (1, 1), 1.5, words=("fraction", "<= 1")),
    case("vislib.analysis.receptive_field.mass_radius", np.full((4, 4), NAN), (1, 1), words=("weights", "finite")),
    case("vislib.analysis.region_cnn.time_rcnn_and_fast_rcnn", "model", None, BOX, error=TypeError, words="model"),
    case("vislib.analysis.grouped_conv.conv_counts", 6, 8, 3, groups=4, words=("groups", "divide")),
    case("vislib.analysis.grouped_conv.conv_counts", 8, 8, 0, words=("kernel_size", ">= 1")),
    case(
        "vislib.analysis.grouped_conv.count_multiply_adds",
        "model",
        torch.zeros(1, 3, 8, 8),
        error=TypeError,
        words="model",
    ),
    case("vislib.analysis.grouped_conv.depthwise_separable_counts", 0, 8, words=("in_channels", ">= 1")),
    case(
        "vislib.analysis.grouped_conv.module_counts", torch.nn.Linear(2, 2), error=TypeError, words=("conv", "Conv2d")
    ),
    case(
        "vislib.analysis.grouped_conv.time_forward",
        torch.nn.Identity(),
        torch.zeros(1),
        repeats=0,
        words=("repeats", ">= 1"),
    ),
    case(
        "vislib.analysis.grouped_conv.time_forward",
        torch.nn.Identity(),
        torch.zeros(1),
        clock="gpu",
        words=("clock", "one of"),
    ),
    case("vislib.analysis.grouped_conv.time_grouped_layers", groups=(3,), words=("groups", "divisible")),
    case("vislib.analysis.residual.Shortcut", "pad", error=TypeError, words=("downsample", "nn.Module")),
    case("vislib.analysis.residual.block_deletion_accuracy", RESNET, IMAGES, LABELS3, words=("labels", "shape")),
    case("vislib.analysis.residual.delete_block", RESNET, 99, words=("index", "<=")),
    case("vislib.analysis.residual.filter_normalized_direction", RESNET, "seed", error=TypeError, words="generator"),
    case("vislib.analysis.residual.first_to_last_ratio", None, error=TypeError, words=("record", "GradientRecord")),
    case(
        "vislib.analysis.residual.gradients_at_initialization",
        RESNET,
        IMAGES.double(),
        LABELS2,
        error=TypeError,
        words=("images", "dtype"),
    ),
    case(
        "vislib.analysis.residual.gradients_at_initialization",
        RESNET,
        torch.rand(2, 3, 8, 8),
        LABELS2,
        words=("images", "1 channels"),
    ),
    case("vislib.analysis.residual.loss_landscape_1d", RESNET, IMAGES, LABELS2, [0.0, NAN], words=("alphas", "finite")),
    case(
        "vislib.analysis.residual.loss_landscape_2d",
        RESNET,
        IMAGES,
        LABELS2,
        [0.0, 1.0],
        [0.0],
        words=("betas", "at least 2"),
    ),
    case(
        "vislib.data.grouped_conv.load_ilsvrc_top5",
        "/nonexistent.csv",
        error=FileNotFoundError,
        words="/nonexistent.csv",
    ),
    case("vislib.metrics.tide.tide_errors", _gt(), [], pos_threshold=NAN, words=("pos_threshold", "finite")),
    case(
        "vislib.metrics.tide.tide_errors",
        _gt(),
        [],
        pos_threshold=0.3,
        bg_threshold=0.5,
        words=("bg_threshold", "pos_threshold"),
    ),
    case(
        "vislib.metrics.tide.tide_errors",
        _gt(),
        [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5], "score": 0.5}],
        words=("bbox", "4 numbers"),
    ),
    case(
        "vislib.metrics.tide.coco_analyze",
        _gt(),
        [{"image_id": 9, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}],
        words=("image_id", "9"),
    ),
    case("vislib.metrics.tide.oracle_combinations", None, error=TypeError, words=("errors", "TideErrors")),
    case("vislib.models.deeplab.ConvBNReLU", 0, 8, words=("in_channels", ">= 1")),
    case("vislib.models.deeplab.Decoder", 8, 8, 1, words=("num_classes", ">= 2")),
    case("vislib.models.deeplab.Encoder", widths=(16, 32), words=("widths", "3")),
    case("vislib.models.faster_rcnn.SmallBackbone", width=0, words=("width", ">= 1")),
    case("vislib.models.faster_rcnn.rpn_proposals", "model", [], error=TypeError, words="model"),
    case("vislib.models.grouped_conv.AggregatedPaths", 256, 0, words=("cardinality", ">= 1")),
    case("vislib.models.grouped_conv.EarlyConcatenation", 0, words=("channels", ">= 1")),
    case("vislib.models.grouped_conv.GroupedConvBlock", 256, 32, 0, words=("width", ">= 1")),
    case("vislib.models.grouped_conv.ResNeXtBottleneck", 16, 16, groups=0, words=("groups", ">= 1")),
    case("vislib.models.grouped_conv.SmallResNeXt", groups=0, words=("groups", ">= 1")),
    case("vislib.models.grouped_conv.bottleneck_width", 16, 4, 0, words=("groups", ">= 1")),
    case("vislib.models.grouped_conv.figure3_forms", cardinality=0, words=("cardinality", ">= 1")),
    case("vislib.models.grouped_conv.matched_base_width", 4, 0, words=("budget", ">= 1")),
    case("vislib.models.mask_rcnn.MultiScaleRoIPool", [], 7, words=("featmap_names", "at least one")),
    case("vislib.models.mask_rcnn.make_pooler", "warp", 7, words=("pooler", "one of")),
    case("vislib.models.mask_rcnn.small_mask_rcnn", 1, words=("num_classes", ">= 2")),
    case("vislib.models.region_cnn.rcnn_features", "model", None, BOX, error=TypeError, words="model"),
    case(
        "vislib.models.region_cnn.rcnn_forward",
        REGION_CNN,
        torch.rand(3, 32, 32),
        BOX,
        batch_size=0,
        words=("batch_size", ">= 1"),
    ),
    case(
        "vislib.models.region_cnn.fast_rcnn_features",
        REGION_CNN,
        torch.rand(3, 32, 32),
        FLIPPED,
        words=("boxes", "x2 > x1"),
    ),
    case("vislib.models.region_cnn.fast_rcnn_forward", REGION_CNN, torch.rand(1, 32, 32), BOX, words=("image", "RGB")),
    case("vislib.models.residual.BasicBlock", 16, 16, groups=2, words=("groups", "1")),
    case("vislib.models.residual.Bottleneck", 16, 0, words=("planes", ">= 1")),
    case("vislib.models.residual.CifarResNet", depth=21, words=("depth", "6n + 2")),
    case("vislib.models.residual.CifarResNet", shortcut="C", words=("shortcut", "one of")),
    case("vislib.models.residual.PaddingShortcut", 16, 8, words=("out_channels", ">= 16")),
    case("vislib.models.residual.blocks_per_stage", 20, "wide", words=("block", "one of")),
    case("vislib.models.residual.conv1x1", 0, 4, words=("in_planes", ">= 1")),
    case("vislib.models.residual.conv3x3", 4, 4, stride=0, words=("stride", ">= 1")),
    case("vislib.models.segmentation.ConvBlock", 0, 8, words=("in_channels", ">= 1")),
    case("vislib.models.segmentation.Encoder", (16, 32), words=("channels", "3")),
    case("vislib.models.segmentation.FCNBaseline", 1, words=("num_classes", ">= 2")),
    case("vislib.models.segmentation.PSPNet", 3, bins=(0,), words=("bins", ">= 1")),
    case("vislib.models.segmentation.SegNet", 3, (16, 0, 64), words=("channels", ">= 1")),
    case("vislib.models.segmentation.TransposedConvNet", 0, words=("num_classes", ">= 2")),
    case("vislib.models.segmentation.stage_pictures", [("a", torch.zeros(1, 2, 4, 4))], 1, words=("index", "<= 0")),
    case("vislib.models.small_cnn.ConvBlock", 1, 8, "middle", "relu", True, words=("batchnorm", "one of")),
    case("vislib.models.yolo.ConvBlock", 3, 8, stride=0, words=("stride", ">= 1")),
    case(
        "vislib.ops.batchnorm.block_activations",
        torch.nn.Linear(2, 2),
        torch.rand(2, 1, 8, 8),
        0,
        True,
        words=("model", "conv"),
    ),
    case(
        "vislib.ops.batchnorm.batch_mean_samples",
        torch.nn.Linear(2, 2),
        torch.rand(4, 1, 8, 8),
        0,
        words=("batch_size", ">= 1"),
    ),
    case("vislib.ops.grouped_conv.channel_shuffle", torch.zeros(1, 6, 2, 2), 4, words=("groups", "divide")),
    case(
        "vislib.ops.grouped_conv.check_grouped_conv_arguments",
        torch.zeros(1, 6, 4, 4),
        torch.zeros(4, 3, 3, 3),
        None,
        4,
        words=("groups", "divide"),
    ),
    case(
        "vislib.ops.grouped_conv.grouped_conv2d",
        torch.zeros(1, 4, 4, 4),
        torch.zeros(4, 1, 3, 3),
        groups=2,
        words=("weight", "C_in / groups"),
    ),
    case("vislib.ops.masks.mask_iou", torch.zeros(1, 4, 4), torch.zeros(1, 4, 5), words=("masks2", "[4, 4]")),
    case("vislib.ops.masks.paste_masks", torch.rand(1, 1, 28, 28), NAN_BOX, (32, 32), words=("boxes", "finite")),
    case(
        "vislib.ops.masks.paste_masks",
        torch.rand(1, 1, 28, 28),
        BOX,
        (0, 32),
        words=("image_size", "positive integers"),
    ),
    case(
        "vislib.ops.masks.project_masks_on_boxes",
        torch.zeros(1, 8, 8),
        BOX,
        torch.tensor([1]),
        words=("matched_idxs", "0 .. 0"),
    ),
    case("vislib.ops.selective_search.selective_search", torch.rand(3, 16, 16), mode="slow", words=("mode", "one of")),
    case(
        "vislib.ops.selective_search.selective_search",
        torch.rand(3, 16, 16),
        max_proposals=0,
        words=("max_proposals", ">= 1"),
    ),
    case("vislib.progress.progress", [1], total=-1, words=("total", ">= 0")),
    case("vislib.runtime.notebook_results", [1.0], error=TypeError, words=("numbers", "mapping")),
    case("vislib.runtime.notebook_results", {"a": 1.0}, digits=-1, words=("digits", ">= 0")),
    case("vislib.runtime.seed_everything", -1, words=("seed", ">= 0")),
    case("vislib.runtime.torch_generator", 1.5, error=TypeError, words=("seed", "integer")),
    case("vislib.states.grouped_conv.connectivity_matrix", 6, 8, 4, words=("groups", "divide")),
    case("vislib.states.grouped_conv.connectivity_state", 16, 3, words=("groups", "divide")),
    case("vislib.states.grouped_conv.connectivity_state", 16, 4, "three layers", words=("layout", "one of")),
    case("vislib.states.grouped_conv.divisors", 0, words=("channels", ">= 1")),
    case("vislib.states.grouped_conv.shuffle_permutation", 8, 3, words=("groups", "divide")),
    case("vislib.states.mask_rcnn.InstanceExplorer", None, [], min_score=2.0, words=("min_score", "<= 1")),
    case("vislib.states.residual.gradient_flow_state", None, 20, True, 0, error=TypeError, words="records"),
    case("vislib.states.tide.OracleExplorer", None, error=TypeError, words=("errors", "TideErrors")),
    case(
        "vislib.training.classification.train_classifier",
        torch.nn.Linear(2, 2),
        SPLIT,
        steps=-1,
        lr=0.1,
        words=("steps", ">= 1"),
    ),
    case("vislib.training.faster_rcnn.predict", "model", [], error=TypeError, words="model"),
    case(
        "vislib.training.faster_rcnn.train_faster_rcnn",
        torch.nn.Linear(2, 2),
        [],
        epochs=1,
        error=TypeError,
        words=("model", "FasterRCNN"),
    ),
    case("vislib.training.grouped_conv.compare_groups", SPLIT, groups=(), words=("groups", "at least one")),
    case(
        "vislib.training.mask_rcnn.compare_poolers",
        lambda pooler: None,
        [],
        [],
        epochs=1,
        poolers=("warp",),
        words=("class_names", "classes"),
    ),
    case("vislib.training.mask_rcnn.evaluate", "model", [], error=TypeError, words=("model", "nn.Module")),
    case("vislib.training.mask_rcnn.predict", torch.nn.Linear(2, 2), [], error=TypeError, words=("model", "MaskRCNN")),
    case("vislib.training.mask_rcnn.to_coco_mask_results", [{"boxes": BOX}], [1], words=("predictions[0]", "missing")),
    case("vislib.training.mask_rcnn.to_coco_mask_results", [], [1], words=("predictions", "one entry per image")),
    case(
        "vislib.training.mask_rcnn.train_mask_rcnn",
        torch.nn.Linear(2, 2),
        [],
        epochs=1,
        error=TypeError,
        words=("model", "MaskRCNN"),
    ),
    case(
        "vislib.training.residual.GradientRecorder",
        torch.nn.Linear(2, 2),
        error=TypeError,
        words=("model", "CifarResNet"),
    ),
    case("vislib.training.residual.dataset_loss", RESNET, IMAGES, LABELS2, batch_size=0, words=("batch_size", ">= 1")),
    case("vislib.training.residual.degradation_experiment", SPLIT, depths=(21,), words=("depth", "6n + 2")),
    case("vislib.training.residual.learning_rate_at", 0, 10, 0.1, -1, words=("warmup_steps", ">= 0")),
    case("vislib.training.residual.learning_rate_at", 0, 10, NAN, 0, words=("lr", "finite")),
    case("vislib.training.residual.train_network", RESNET, SPLIT, steps=-1, words=("steps", ">= 1")),
    case(
        "vislib.training.segmentation.evaluate_segmenter",
        torch.nn.Identity(),
        None,
        3,
        error=TypeError,
        words=("dataset", "Dataset"),
    ),
    case(
        "vislib.training.segmentation.train_segmenter",
        torch.nn.Identity(),
        None,
        steps=1,
        error=TypeError,
        words=("dataset", "Dataset"),
    ),
    case("vislib.training.yolo.predict", torch.nn.Identity(), [], error=TypeError, words=("model", "TinyYolo")),
    case("vislib.training.yolo.prepare_data", [], "model", error=TypeError, words="model"),
    case(
        "vislib.training.yolo.train_detector",
        torch.nn.Identity(),
        [],
        epochs=1,
        error=TypeError,
        words=("model", "TinyYolo"),
    ),
    case("vislib.training.yolo.yolo_recipe", "quick", error=TypeError, words=("profile", "Profile")),
    case("vislib.widgets.grouped_conv.connectivity_widget", channels=12, words=("'channels'", "one of")),
    case("vislib.widgets.grouped_conv.connectivity_widget", layout="all", words=("'layout'", "one of")),
    case(
        "vislib.widgets.mask_rcnn.instance_explorer_widget",
        None,
        ["a"],
        error=TypeError,
        words=("explorer", "InstanceExplorer"),
    ),
    case("vislib.widgets.receptive_field.conv_layer_count", None, "vgg", error=TypeError, words="explorer"),
    case(
        "vislib.widgets.residual.gradient_flow_widget", None, error=TypeError, words=("records", "GradientFlowRecords")
    ),
    case("vislib.widgets.tide.oracle_widget", None, error=TypeError, words=("explorer", "OracleExplorer")),
    # ---------------------------------------------------------------- found by probing (issue 20's kinds)
    case(
        "vislib.analysis.grouped_conv.conv_counts",
        8,
        8,
        3,
        bias="yes",
        error=TypeError,
        words=("bias", "True or False"),
    ),
    case(
        "vislib.analysis.grouped_conv.count_multiply_adds",
        torch.nn.Conv2d(3, 1, 3),
        torch.zeros(1, 1, 8, 8),
        words=("input", "does not fit"),
    ),
    case("vislib.analysis.grouped_conv.time_grouped_layers", groups=(), words=("groups", "at least one")),
    case("vislib.models.grouped_conv.ResNeXtBottleneck", 16, 4, stride=0, words=("stride", ">= 1")),
    case(
        "vislib.models.grouped_conv.ResNeXtBottleneck",
        16,
        4,
        downsample="pad",
        error=TypeError,
        words=("downsample", "nn.Module"),
    ),
    case("vislib.models.grouped_conv.SmallResNeXt", planes=(), words=("planes", "at least one")),
    case(
        "vislib.models.mask_rcnn.make_pooler",
        "align",
        7,
        featmap_names="0",
        error=TypeError,
        words=("featmap_names", "list"),
    ),
    case("vislib.models.mask_rcnn.MultiScaleRoIPool", ["0"], 7, canonical_scale=0, words=("canonical_scale", ">= 1")),
    case(
        "vislib.ops.masks.paste_masks",
        torch.rand(1, 1, 28, 28),
        BOX,
        (100_000, 100_000),
        words=("image_size", "MAX_PASTED_PIXELS"),
    ),
    case(
        "vislib.ops.grouped_conv.grouped_conv2d",
        torch.zeros(1, 4, 4, 4),
        torch.zeros(4, 2, 3, 3),
        stride=0,
        groups=2,
        words=("stride", ">= 1"),
    ),
    case(
        "vislib.ops.grouped_conv.grouped_conv2d",
        torch.zeros(1, 4, 4, 4),
        torch.zeros(4, 2, 3, 3),
        padding=(1, -1),
        groups=2,
        words=("padding[1]", ">= 0"),
    ),
    case(
        "vislib.training.mask_rcnn.to_coco_mask_results",
        [{**DETECTION, "masks": torch.full((1, 4, 4), 0.3)}],
        [1],
        words=("predictions[0]['masks']", "binary"),
    ),
    case(
        "vislib.analysis.residual.loss_landscape_1d",
        RESNET,
        IMAGES,
        LABELS2.float(),
        [0.0, 1.0],
        error=TypeError,
        words=("labels", "integer"),
    ),
    case(
        "vislib.analysis.residual.loss_landscape_1d",
        RESNET,
        torch.rand(2, 3, 8, 8),
        LABELS2,
        [0.0, 1.0],
        words=("images", "1 channels"),
    ),
    case(
        "vislib.training.residual.dataset_loss", RESNET, torch.rand(2, 3, 8, 8), LABELS2, words=("images", "1 channels")
    ),
    case("vislib.training.residual.learning_rate_at", 20, 10, 0.1, 0, words=("step", "<= 10")),
    case("vislib.analysis.receptive_field.field_of_unit_2d", [CONV3], (0, 10**9), 8, words=("unit[1]", "<= 5")),
    case("vislib.analysis.receptive_field.build_stack", [CONV3], channels=10**5, words=("channels", "<= 512")),
    case(
        "vislib.analysis.receptive_field.gradient_map",
        torch.nn.Identity(),
        10**6,
        (0, 0),
        words=("input_size", "<= 4096"),
    ),
    case("vislib.analysis.receptive_field.input_support_2d", [CONV3], 10**6, (0, 0), words=("input_size", "<= 4096")),
    case("vislib.analysis.receptive_field.path_counts", [CONV3], 10**9, 0, words=("input_size", "<= 4096")),
    case("vislib.metrics.segmentation.confusion_matrix", LABELS, LABELS, 10**6, words=("num_classes", "<= 10000")),
    case("vislib.data.grouped_conv.load_ilsvrc_top5", 5, error=TypeError, words=("path", "str or pathlib.Path")),
    # 2**28 + 16,384 pixels without the memory: an expanded view of one pixel
    case(
        "vislib.metrics.boundary.boundary_map",
        torch.zeros(1, 1, 1, dtype=torch.long).expand(1, 2**14 + 1, 2**14),
        words=("labels", "MAX_PIXELS"),
    ),
    case(
        "vislib.metrics.boundary.boundary_f_score",
        torch.zeros(1, 1, 1, dtype=torch.long).expand(1, 2**14 + 1, 2**14),
        LABELS,
        words=("pred", "MAX_PIXELS"),
    ),
    case(
        "vislib.metrics.boundary.dilate",
        torch.zeros(1, 1, 1, dtype=torch.bool).expand(1, 2**14 + 1, 2**14),
        1,
        words=("mask", "MAX_PIXELS"),
    ),
    case("vislib.models.region_cnn.rcnn_forward", "model", None, BOX, error=TypeError, words=("model", "RegionCNN")),
    case("vislib.widgets.core.make_control", "n", None, 1, error=TypeError, words=("factory", "callable")),
    case("vislib.analysis.receptive_field.mass_radius", object(), (1, 1), error=TypeError, words=("weights", "2-D")),
]
