"""R-CNN and Fast R-CNN (vislib.data.photos, ops.selective_search, ops.region_cnn, models.region_cnn,
analysis.region_cnn, metrics.proposals): selective search, warping, per-region vs shared-map features, recall.

Oracles: OpenCV's selective search called directly, ``torchvision.transforms.functional.resize``,
``torchvision.ops.roi_pool`` / ``roi_align`` and ``torchvision.ops.box_iou``.
"""

import ast
import functools
import math

import cv2
import numpy as np
import pytest
import torch
import torchvision.ops as tv
from torchvision.transforms import functional as TF

from vislib import ops
from vislib.analysis.region_cnn import time_rcnn_and_fast_rcnn
from vislib.data.photos import load_photo
from vislib.metrics.proposals import proposal_recall, recall_at_counts
from vislib.models.region_cnn import RegionCNN, fast_rcnn_features, fast_rcnn_forward, rcnn_features, rcnn_forward
from vislib.ops.region_cnn import crop_box, warp_regions
from vislib.ops.selective_search import selective_search
from vislib.plotting import new_figure
from vislib.plotting.faster_rcnn import plot_anchors, plot_proposals_and_detections
from vislib.plotting.region_cnn import plot_proposals, plot_rcnn_timing, plot_recall_at_counts, plot_warped_regions

PHOTO_SIZE = 96


@pytest.fixture(scope="module")
def photo():
    return load_photo("astronaut", size=PHOTO_SIZE)


@pytest.fixture(scope="module")
def proposals(photo):
    return selective_search(photo, mode="single", max_proposals=40)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return RegionCNN(num_classes=5, width=8, hidden=32).eval()


def random_boxes(count, height, width, seed=0):
    g = torch.Generator().manual_seed(seed)
    corner = torch.rand(count, 2, generator=g) * torch.tensor([width - 4.0, height - 4.0])
    extent = 2 + torch.rand(count, 2, generator=g) * torch.tensor([width / 2, height / 2])
    boxes = torch.cat([corner, corner + extent], dim=1)
    return torch.minimum(boxes, torch.tensor([width, height, width, height], dtype=torch.float32))


# --------------------------------------------------------------------------- layering


@pytest.mark.parametrize(
    "module",
    [
        "vislib/data/photos.py",
        "vislib/ops/selective_search.py",
        "vislib/ops/region_cnn.py",
        "vislib/models/region_cnn.py",
        "vislib/analysis/region_cnn.py",
        "vislib/metrics/proposals.py",
    ],
)
def test_modules_are_computations_only(repository, module):
    tree = ast.parse((repository / module).read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    assert not [
        name for name in imported if name.startswith(("matplotlib", "ipywidgets", "IPython", "vislib.plotting"))
    ]


# --------------------------------------------------------------------------- photos and selective search


def test_load_photo_is_rgb_in_unit_range():
    photo = load_photo("astronaut", size=64)
    assert photo.shape == (3, 64, 64) and photo.dtype == torch.float32
    assert 0 <= float(photo.min()) and float(photo.max()) <= 1
    full = load_photo("chelsea")
    assert full.shape[0] == 3 and full.shape[1:] == (300, 451)  # scikit-image's cat, unresized


def test_selective_search_boxes_are_valid_xyxy_inside_the_image(photo, proposals):
    assert proposals.dtype == torch.float32 and proposals.ndim == 2 and proposals.shape[1] == 4
    assert 0 < len(proposals) <= 40
    x1, y1, x2, y2 = proposals.unbind(1)
    assert bool(((x2 > x1) & (y2 > y1)).all())
    assert bool(((x1 >= 0) & (y1 >= 0) & (x2 <= PHOTO_SIZE) & (y2 <= PHOTO_SIZE)).all())
    assert torch.equal(proposals, proposals.round())  # OpenCV's rectangles are whole pixels


def test_selective_search_is_deterministic_and_seeded(photo):
    first = selective_search(photo, mode="single", max_proposals=None, seed=3)
    again = selective_search(photo, mode="single", max_proposals=None, seed=3)
    other = selective_search(photo, mode="single", max_proposals=None, seed=4)
    assert torch.equal(first, again)
    # The seed only changes the ranking: the same regions come back.
    assert sorted(map(tuple, first.tolist())) == sorted(map(tuple, other.tolist()))
    assert torch.equal(selective_search(photo, mode="single", max_proposals=10, seed=3), first[:10])


def test_selective_search_returns_what_opencv_finds(photo):
    picture = (photo * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    search = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    search.setBaseImage(cv2.cvtColor(np.ascontiguousarray(picture), cv2.COLOR_RGB2BGR))
    search.switchToSingleStrategy()
    rects = np.asarray(search.process(), dtype=np.float32)
    expected = sorted(tuple(v) for v in np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], 1).tolist())
    found = selective_search(photo, mode="single", max_proposals=None)
    assert sorted(map(tuple, found.tolist())) == expected
    # a uint8 [H, W, 3] array is accepted as well
    assert torch.equal(selective_search(picture, mode="single", max_proposals=None), found)


def test_min_size_drops_small_proposals(photo):
    boxes = selective_search(photo, mode="single", max_proposals=None, min_size=20)
    assert len(boxes) and bool(((boxes[:, 2:] - boxes[:, :2]) >= 20).all())


# --------------------------------------------------------------------------- warping and the two ways


def test_warp_regions_equals_torchvision_resize_of_each_crop(photo):
    boxes = torch.tensor([[0.0, 0.0, 96.0, 96.0], [10.2, 5.7, 30.1, 80.0], [50.0, 60.0, 53.0, 62.0]])
    warped = warp_regions(photo, boxes, 24)
    assert warped.shape == (3, 3, 24, 24)
    for box, region in zip(boxes.tolist(), warped):
        x1, y1, x2, y2 = box
        crop = photo[:, math.floor(y1) : math.ceil(y2), math.floor(x1) : math.ceil(x2)]
        torch.testing.assert_close(region, TF.resize(crop, [24, 24]), rtol=0, atol=1e-6)
    assert warp_regions(photo, boxes[:0], 24).shape == (0, 3, 24, 24)


def test_rcnn_features_equal_the_network_on_torchvision_resized_crops(photo, proposals, model):
    boxes = proposals[:12]
    crops = [crop_box(photo, box) for box in boxes.tolist()]
    resized = torch.stack([TF.resize(crop, [model.region_size] * 2) for crop in crops])
    with torch.no_grad():
        expected = model.trunk(resized)
        scores = model(resized)
    features = rcnn_features(model, photo, boxes, batch_size=5)  # several batches
    assert features.shape == (12, model.channels, model.pooled_size, model.pooled_size)
    torch.testing.assert_close(features, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(rcnn_forward(model, photo, boxes), scores, rtol=1e-5, atol=1e-5)


def test_crop_box_takes_every_pixel_the_box_touches(photo):
    crop = crop_box(photo, [1.5, 2.0, 4.2, 7.0])
    torch.testing.assert_close(crop, photo[:, 2:7, 1:5])
    assert crop_box(photo, [-3.0, -3.0, 200.0, 5.0]).shape == (3, 5, PHOTO_SIZE)  # clipped


@pytest.mark.parametrize("which", ["roi_pool", "roi_align"])
def test_fast_rcnn_features_equal_torchvision_roi_ops_on_the_backbone_map(photo, proposals, model, which):
    with torch.no_grad():
        feature_map = model.trunk(photo[None])
    if which == "roi_pool":
        expected = tv.roi_pool(feature_map, [proposals], model.pooled_size, 1 / 8)
        pool = None
    else:
        expected = tv.roi_align(feature_map, [proposals], model.pooled_size, 1 / 8, sampling_ratio=2, aligned=True)
        pool = functools.partial(tv.roi_align, sampling_ratio=2, aligned=True)
    features = fast_rcnn_features(model, photo, proposals, pool=pool)
    assert features.shape == (len(proposals), model.channels, model.pooled_size, model.pooled_size)
    torch.testing.assert_close(features, expected, rtol=0, atol=0)
    with torch.no_grad():
        torch.testing.assert_close(fast_rcnn_forward(model, photo, proposals, pool=pool), model.head(expected))


def test_fast_rcnn_with_vislib_roi_pool_gives_the_same_features(photo, proposals, model):
    ours = fast_rcnn_features(model, photo, proposals[:8], pool=ops.roi_pool)
    torch.testing.assert_close(ours, fast_rcnn_features(model, photo, proposals[:8]), rtol=1e-6, atol=1e-6)


def test_region_cnn_shapes():
    net = RegionCNN(num_classes=3, width=4, pooled_size=5, hidden=8)
    assert net.region_size == 40 and net.channels == 16
    assert net(torch.rand(2, 3, 40, 40)).shape == (2, 3)
    assert net.trunk(torch.rand(1, 3, 80, 48)).shape == (1, 16, 10, 6)  # stride 8


def test_timing_measures_both_ways_and_fast_rcnn_is_faster(photo, proposals, model):
    timing = time_rcnn_and_fast_rcnn(model, photo, proposals, repeats=1, proposal_seconds=0.25)
    assert timing.num_regions == len(proposals) and timing.image_size == (PHOTO_SIZE, PHOTO_SIZE)
    assert timing.region_size == model.region_size and timing.proposal_seconds == 0.25
    for name in ("warp_seconds", "rcnn_cnn_seconds", "trunk_seconds", "pool_seconds", "head_seconds"):
        assert getattr(timing, name) > 0, name
    assert timing.rcnn_seconds == pytest.approx(timing.warp_seconds + timing.rcnn_cnn_seconds)
    assert timing.rcnn_seconds_per_region == pytest.approx(timing.rcnn_seconds / len(proposals))
    assert timing.fast_seconds == pytest.approx(timing.trunk_seconds + timing.pool_seconds + timing.head_seconds)
    assert timing.speedup == pytest.approx(timing.rcnn_seconds / timing.fast_seconds)
    # 40 regions of 56 x 56 px are ~13x the pixels of one 96 x 96 image: the per-region CNN loses clearly
    assert timing.speedup > 1
    assert math.isnan(time_rcnn_and_fast_rcnn(model, photo, proposals[:4], repeats=1).proposal_seconds)


# --------------------------------------------------------------------------- recall


def test_proposal_recall_equals_a_direct_computation_with_torchvision():
    g = torch.Generator().manual_seed(1)
    for seed in range(5):
        truth = random_boxes(6, 100, 120, seed=seed)
        found = torch.cat([random_boxes(30, 100, 120, seed=seed + 100), truth[:3] + torch.rand(3, 4, generator=g)])
        for threshold in (0.3, 0.5, 0.7):
            expected = (tv.box_iou(truth, found).max(dim=1).values >= threshold).float().mean().item()
            assert proposal_recall(found, truth, threshold) == pytest.approx(expected)
    assert proposal_recall(truth, truth) == 1.0
    assert proposal_recall(torch.zeros(0, 4), truth) == 0.0
    assert math.isnan(proposal_recall(truth, torch.zeros(0, 4)))


def test_recall_at_counts_keeps_the_first_k_proposals_of_each_image():
    images = [(random_boxes(40, 80, 80, seed=s), random_boxes(1 + s % 4, 80, 80, seed=50 + s)) for s in range(6)]
    found = [torch.cat([p[:10], t + 0.5, p[10:]]) for p, t in images]  # the objects appear at rank 10
    truth = [t for _, t in images]
    counts = [1, 5, 10, 11, 20, 100]
    recall = recall_at_counts(found, truth, counts)
    total = sum(len(t) for t in truth)
    for value, k in zip(recall, counts):
        covered = sum(
            int((tv.box_iou(t, p[:k]).max(dim=1).values >= 0.5).sum()) if k else 0 for p, t in zip(found, truth)
        )
        assert value == pytest.approx(covered / total)
    assert recall[-1] == 1.0 and np.all(np.diff(recall) >= 0)
    assert np.isnan(recall_at_counts([torch.zeros(0, 4)], [torch.zeros(0, 4)], [5])).all()


# --------------------------------------------------------------------------- bad input


def test_bad_input_is_refused_with_clear_errors(photo, proposals, model):
    with pytest.raises(ValueError, match="name"):
        load_photo("camera")
    with pytest.raises(ValueError, match=r"image must be an RGB image"):
        selective_search(torch.rand(1, 32, 32))
    with pytest.raises(ValueError, match="uint8"):
        selective_search(np.zeros((32, 32, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="mode"):
        selective_search(photo, mode="slow")
    with pytest.raises(ValueError, match="max_proposals"):
        selective_search(photo, max_proposals=0)
    with pytest.raises(TypeError, match="boxes must be a torch.Tensor"):
        warp_regions(photo, [[0, 0, 5, 5]])
    with pytest.raises(ValueError, match=r"boxes must have shape \[K, 4\]"):
        warp_regions(photo, torch.zeros(3, 5))
    with pytest.raises(ValueError, match="x2 > x1"):
        warp_regions(photo, torch.tensor([[5.0, 5.0, 5.0, 9.0]]))
    with pytest.raises(ValueError, match="outside"):
        warp_regions(photo, torch.tensor([[100.0, 5.0, 120.0, 9.0]]))
    with pytest.raises(ValueError, match="size"):
        warp_regions(photo, proposals, size=0)
    with pytest.raises(TypeError, match="model must be a vislib.models.region_cnn.RegionCNN"):
        rcnn_features(torch.nn.Conv2d(3, 3, 1), photo, proposals)
    with pytest.raises(TypeError, match="pool must be callable"):
        fast_rcnn_features(model, photo, proposals, pool="roi_pool")
    with pytest.raises(ValueError, match=r"regions must have shape"):
        model(torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match="repeats"):
        time_rcnn_and_fast_rcnn(model, photo, proposals, repeats=0)
    with pytest.raises(ValueError, match="proposal_seconds"):
        time_rcnn_and_fast_rcnn(model, photo, proposals, proposal_seconds=-1.0)
    with pytest.raises(ValueError, match="iou_threshold"):
        proposal_recall(proposals, proposals, iou_threshold=1.5)
    with pytest.raises(ValueError, match="proposals has 2 images but ground_truth has 1"):
        recall_at_counts([proposals, proposals], [proposals], [1])
    with pytest.raises(ValueError, match="counts"):
        recall_at_counts([proposals], [proposals], [-1])
    with pytest.raises(ValueError, match="num_classes"):
        RegionCNN(num_classes=0)


# --------------------------------------------------------------------------- pictures


def test_pictures_draw_onto_given_axes(photo, proposals, model):
    from vislib.models.faster_rcnn import anchor_grid

    figure, axes = new_figure(2, 3, figsize=(12, 7))
    plot_proposals(axes[0, 0], photo, proposals, count=20, numbered=4, title="proposals")
    assert len(axes[0, 0].collections) == 1 and len(axes[0, 0].collections[0].get_paths()) == 20
    warped = warp_regions(photo, proposals[:10], 24)
    plot_warped_regions(axes[0, 1], warped, ncols=4, boxes=proposals[:10])
    assert axes[0, 1].images[0].get_array().shape == (3 * 26 + 2, 4 * 26 + 2, 3)
    timing = time_rcnn_and_fast_rcnn(model, photo, proposals[:8], repeats=1, proposal_seconds=0.1)
    plot_rcnn_timing(axes[0, 2], timing)
    assert len(axes[0, 2].patches) == 7  # 3 + 4 stages, selective search in both bars
    anchors, centres = anchor_grid(64, 8, (8, 16), (0.5, 1.0, 2.0))
    plot_anchors(axes[1, 0], photo, anchors, centres, (8, 16), (0.5, 1.0, 2.0), locations=[0, 27])
    assert len(axes[1, 0].patches) == 2 * 6 + 1
    proposals_dict = {"boxes": proposals[:5], "scores": torch.linspace(1, 0.2, 5)}
    detections = {"boxes": proposals[:3], "scores": torch.tensor([0.9, 0.6, 0.1]), "labels": torch.tensor([1, 2, 3])}
    plot_proposals_and_detections(
        axes[1, 1:],
        photo,
        proposals_dict,
        detections,
        ("circle", "square", "triangle", "star"),
        ground_truth={"boxes": proposals[:1]},
    )
    assert len(axes[1, 2].patches) == 1 + 2  # the ground truth and two detections over 0.5
    assert axes[1, 2].get_title().startswith("head: 2 detections,")
    single = {"boxes": proposals[:1], "scores": torch.tensor([0.9]), "labels": torch.tensor([1])}
    plot_proposals_and_detections(axes[1, 1:], photo, {"boxes": proposals[:1], "scores": torch.ones(1)}, single, ("a",))
    assert axes[1, 2].get_title().startswith("head: 1 detection,")  # singular
    assert axes[1, 1].get_title() == "RPN: best 1 of 1 proposal"
    for ax in axes.ravel():
        assert ax.get_title() or ax.get_xlabel()
    figure.canvas.draw()
    figure2, ax = new_figure()
    plot_recall_at_counts(ax, [1, 10, 100], {"selective search": [0.1, 0.5, 0.9]})
    assert ax.get_xscale() == "log" and ax.get_ylabel().startswith("recall")
    with pytest.raises(ValueError, match="one value per count"):
        plot_recall_at_counts(ax, [1, 10], {"rpn": [0.5]})
    with pytest.raises(ValueError, match="warped must be"):
        plot_warped_regions(ax, torch.rand(3, 24, 24))
    with pytest.raises(ValueError, match="anchors has"):
        plot_anchors(ax, photo, anchors[:-1], centres, (8, 16), (0.5, 1.0, 2.0), locations=[0])
