"""A small torchvision Mask R-CNN (vislib.models.mask_rcnn, vislib.training.mask_rcnn, vislib.states.mask_rcnn,
vislib.plotting.mask_rcnn, vislib.widgets.mask_rcnn).

Oracles: torchvision's ``roi_pool`` and ``MultiScaleRoIAlign`` (scales, levels), ``MaskRCNN``'s own output,
``vislib.metrics.coco.coco_evaluate`` (equal to pycocotools), ``pycocotools.mask``.
"""

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils
from torchvision.ops import MultiScaleRoIAlign, roi_pool

from vislib.data.shapes import ShapesDataset, to_coco
from vislib.metrics.coco import coco_evaluate
from vislib.models.mask_rcnn import MultiScaleRoIPool, make_pooler, small_mask_rcnn
from vislib.training.mask_rcnn import LOSS_PARTS, MaskRCNNTrainingRun, predict, to_coco_mask_results, train_mask_rcnn

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
        mask_layers=(8,),
    )
    options.update(kwargs)
    return small_mask_rcnn(5, SIZE, **options)


@pytest.fixture(scope="module")
def trained(data):
    model = tiny_model()
    run = train_mask_rcnn(model, data, epochs=2, batch_size=4, lr=2e-3, warmup_steps=2)
    return model, run


# --------------------------------------------------------------------------- poolers


def test_roi_pool_pooler_equals_torchvision_roi_pool_at_the_inferred_scale():
    generator = torch.Generator().manual_seed(0)
    features = {"0": torch.randn(2, 4, 16, 16, generator=generator)}
    boxes = [torch.tensor([[3.0, 5.0, 60.0, 40.0], [10.2, 11.7, 30.3, 90.0]]), torch.tensor([[0.0, 0.0, 127.0, 127.0]])]
    pooler = MultiScaleRoIPool(["0"], 7, 2)
    got = pooler(features, boxes, [(128, 128), (128, 128)])
    assert pooler.scales == [1 / 8]
    assert torch.equal(got, roi_pool(features["0"], boxes, 7, 1 / 8))
    align = MultiScaleRoIAlign(["0"], 7, 2)
    assert align(features, boxes, [(128, 128)] * 2).shape == got.shape  # the same interface and shape


def test_roi_pool_pooler_assigns_levels_as_multiscale_roi_align():
    generator = torch.Generator().manual_seed(1)
    features = {
        "a": torch.randn(1, 3, 32, 32, generator=generator),
        "b": torch.randn(1, 3, 16, 16, generator=generator),
    }
    corners = torch.rand(30, 2, generator=generator) * 100
    boxes = [torch.cat([corners, corners + 4 + torch.rand(30, 2, generator=generator) * 150], dim=1)]
    pooler = MultiScaleRoIPool(["a", "b"], 5, canonical_scale=64)
    got = pooler(features, boxes, [(256, 256)])
    align = MultiScaleRoIAlign(["a", "b"], 5, 2, canonical_scale=64)
    align(features, boxes, [(256, 256)])
    assert pooler.scales == align.scales
    levels = align.map_levels(boxes)
    assert levels.unique().numel() == 2  # both levels used
    for k, level in enumerate(levels.tolist()):
        name = ["a", "b"][level]
        expected = roi_pool(features[name], [boxes[0][k : k + 1]], 5, align.scales[level])
        assert torch.equal(got[k : k + 1], expected)


def test_the_model_uses_the_chosen_pooler_for_boxes_and_masks():
    for pooler, kind in (("align", MultiScaleRoIAlign), ("pool", MultiScaleRoIPool)):
        model = tiny_model(pooler=pooler)
        assert type(model.roi_heads.box_roi_pool) is kind and type(model.roi_heads.mask_roi_pool) is kind
        assert model.roi_heads.mask_roi_pool.output_size == (14, 14) and model.mask_size == 28
        assert model.pooler == pooler
    with pytest.raises(ValueError, match="pooler must be one of 'align', 'pool'"):
        tiny_model(pooler="max")
    with pytest.raises(ValueError, match="pooler must be one of"):
        make_pooler("warp", 7)
    with pytest.raises(ValueError, match="multiple of the backbone's stride"):
        small_mask_rcnn(5, 60)
    with pytest.raises(ValueError, match="mask_layers must hold at least one"):
        tiny_model(mask_layers=())


def test_the_mask_rcnn_is_notebook_08s_faster_rcnn_plus_a_mask_branch():
    """One builder for both (models.faster_rcnn._rcnn_arguments): under one seed the backbone and the box
    branch get the same weights, and the transform, anchors, RPN and box sampling the same settings."""
    from vislib.models.faster_rcnn import small_faster_rcnn

    options = dict(
        width=8,
        out_channels=16,
        representation_size=32,
        box_batch_size_per_image=16,
        rpn_pre_nms_top_n=(100, 50),
        rpn_post_nms_top_n=(40, 20),
    )
    torch.manual_seed(0)
    faster = small_faster_rcnn(5, SIZE, **options)
    mask = tiny_model(**options)
    for part in ("backbone", "roi_heads.box_head", "roi_heads.box_predictor"):
        ours, theirs = mask.get_submodule(part).state_dict(), faster.get_submodule(part).state_dict()
        assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours), part
    assert type(mask.roi_heads.box_roi_pool) is type(faster.roi_heads.box_roi_pool)
    assert mask.roi_heads.box_roi_pool.output_size == faster.roi_heads.box_roi_pool.output_size == (7, 7)
    for attribute in ("image_size", "num_classes", "anchor_sizes", "aspect_ratios"):
        assert getattr(mask, attribute) == getattr(faster, attribute)
    assert (mask.transform.min_size, mask.transform.image_std) == (
        faster.transform.min_size,
        faster.transform.image_std,
    )
    assert mask.rpn._post_nms_top_n == faster.rpn._post_nms_top_n == {"training": 40, "testing": 20}
    assert mask.roi_heads.score_thresh == faster.roi_heads.score_thresh
    assert mask.roi_heads.fg_bg_sampler.batch_size_per_image == faster.roi_heads.fg_bg_sampler.batch_size_per_image
    assert mask.roi_heads.detections_per_img == 20 and faster.roi_heads.detections_per_img == 100


def test_the_mask_head_predicts_one_28x28_mask_per_class():
    model = tiny_model()
    model.eval()
    with torch.no_grad():
        features = model.roi_heads.mask_head(torch.zeros(3, 16, 14, 14))
        logits = model.roi_heads.mask_predictor(features)
    assert logits.shape == (3, 5, 28, 28)  # [RoIs, classes incl. background, 28, 28]


# --------------------------------------------------------------------------- training and prediction


def test_training_records_five_losses_and_learns(trained):
    model, run = trained
    assert isinstance(run, MaskRCNNTrainingRun)
    assert set(run.loss_parts) == set(LOSS_PARTS) and "loss_mask" in LOSS_PARTS
    assert run.epochs == 2 and run.steps == 4 and not run.diverged
    assert all(len(values) == run.steps for values in run.loss_parts.values())
    assert all(np.isfinite(run.losses))
    assert not model.training


def test_training_is_reproducible(data):
    runs = [train_mask_rcnn(tiny_model(), data, epochs=1, batch_size=4, seed=3) for _ in range(2)]
    assert runs[0].losses == runs[1].losses


def test_training_rejects_bad_input(data):
    from vislib.models.faster_rcnn import small_faster_rcnn

    with pytest.raises(TypeError, match="no mask branch"):
        train_mask_rcnn(small_faster_rcnn(5, SIZE), data, epochs=1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        train_mask_rcnn(tiny_model(), data, epochs=0)
    with pytest.raises(ValueError, match="'masks'"):
        train_mask_rcnn(
            tiny_model(), [(data[0][0], {"boxes": data[0][1]["boxes"], "labels": data[0][1]["labels"]})], epochs=1
        )


def test_on_epoch_is_called_and_monitor_scores_masks(data):
    from vislib.plotting.monitor import TrainingMonitor

    held_out = ShapesDataset(4, image_size=SIZE, seed=2)
    monitor = TrainingMonitor(
        lambda m: predict(m, held_out), to_coco(held_out), held_out.classes, live=False, masks=True
    )
    run = train_mask_rcnn(tiny_model(), data, epochs=2, batch_size=4, on_epoch=monitor)
    assert len(monitor.history.epochs) == 2 and len(run.on_epoch_seconds) == 2
    assert len(monitor.history.mask_ap50) == 2 and len(monitor.history.mask_ap) == 2
    assert all(0 <= v <= 1 for v in monitor.history.mask_ap50)


def test_predictions_are_the_models_output_and_score_like_pycocotools(trained):
    model, _ = trained
    held_out = ShapesDataset(6, image_size=SIZE, seed=2)
    model.roi_heads.score_thresh = 0.0  # keep detections even untrained
    try:
        predictions = predict(model, held_out, keep_mask_probs=True, batch_size=4)
        with torch.no_grad():
            outputs = model([held_out[i][0] for i in range(len(held_out))])
    finally:
        model.roi_heads.score_thresh = 0.05
    assert len(predictions) == len(held_out)
    for prediction, output in zip(predictions, outputs):
        assert torch.equal(prediction["boxes"], output["boxes"])
        assert torch.equal(prediction["masks"], output["masks"][:, 0] > 0.5)
        assert prediction["mask_probs"].shape == (len(output["boxes"]), 28, 28)
        assert prediction["masks"].dtype == torch.bool and prediction["masks"].shape[1:] == (SIZE, SIZE)
    ground_truth = to_coco(held_out)
    image_ids = [image["id"] for image in ground_truth["images"]]
    results = to_coco_mask_results(predictions, image_ids)
    assert len(results) == sum(len(p["boxes"]) for p in predictions) > 0
    first = results[0]
    decoded = mask_utils.decode(mask_utils.frPyObjects(first["segmentation"], SIZE, SIZE))
    assert np.array_equal(decoded.astype(bool), predictions[0]["masks"][0].numpy())
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = ground_truth
        coco.createIndex()
        detections = coco.loadRes(
            [{**r, "segmentation": mask_utils.frPyObjects(r["segmentation"], SIZE, SIZE)} for r in results]
        )
        evaluator = COCOeval(coco, detections, "segm")
        evaluator.evaluate(), evaluator.accumulate(), evaluator.summarize()
    ours = coco_evaluate(ground_truth, results, iou_type="segm").summary
    assert np.allclose(list(ours.values()), evaluator.stats, atol=1e-9)


def test_to_coco_mask_results_rejects_missing_masks():
    with pytest.raises(ValueError, match="has no 'masks'"):
        to_coco_mask_results(
            [{"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": torch.zeros(0, dtype=torch.int64)}], [0]
        )
    with pytest.raises(ValueError, match="one mask per box"):
        to_coco_mask_results(
            [
                {
                    "boxes": torch.zeros(1, 4),
                    "scores": torch.zeros(1),
                    "labels": torch.ones(1, dtype=torch.int64),
                    "masks": torch.zeros(2, 8, 8, dtype=torch.bool),
                }
            ],
            [0],
        )


# --------------------------------------------------------------------------- the instance explorer


@pytest.fixture(scope="module")
def explorer(trained):
    from vislib.states.mask_rcnn import InstanceExplorer

    model, _ = trained
    samples = [ShapesDataset(6, image_size=SIZE, seed=2)[i] for i in range(6)]
    return InstanceExplorer(model, samples, min_score=0.0)


def test_explorer_state_thresholds_the_pasted_mask_and_measures_its_iou(explorer):
    from vislib.ops.masks import paste_masks

    state = explorer.state(0, 0, 0.5)
    entry = explorer.entries[0]
    pasted = paste_masks(torch.from_numpy(entry["probs"][:1]), torch.from_numpy(entry["boxes"][:1]), (SIZE, SIZE))
    assert np.allclose(state.pasted_probs, pasted[0, 0].numpy())
    assert np.array_equal(state.mask, state.pasted_probs > 0.5)
    assert state.mask_probs.shape == (28, 28)
    if state.truth_index >= 0:

        def encode(m):
            return mask_utils.encode(np.asfortranarray(m[:, :, None].astype(np.uint8)))

        expected = mask_utils.iou(encode(state.mask), encode(state.truth_mask), [0])[0, 0]
        assert abs(state.mask_iou - expected) < 1e-12
    lower = explorer.state(0, 0, 0.1)
    assert lower.mask.sum() >= state.mask.sum()  # a lower threshold keeps more pixels
    assert explorer.state(0, 10_000, 0.5).detection == state.num_detections - 1
    codes = state.overlap
    assert set(np.unique(codes)) <= {0, 1, 2, 3}
    assert (codes == 1).sum() == (state.mask & state.truth_mask).sum()


def test_explorer_rejects_bad_input(explorer):
    with pytest.raises(ValueError, match="image_index must be <="):
        explorer.state(len(explorer.entries), 0, 0.5)
    with pytest.raises(ValueError, match="threshold must be <= 1"):
        explorer.state(0, 0, 1.5)


def test_widget_redraws_and_does_not_leak(explorer):
    import matplotlib.pyplot as plt

    from vislib.widgets.mask_rcnn import instance_explorer_widget

    widget = instance_explorer_widget(explorer, ShapesDataset(1).classes)
    before = len(plt.get_fignums())
    for k in range(20):
        widget.set(image_index=k % len(explorer.entries), detection=k % 3, threshold=0.05 + 0.045 * k)
    assert len(plt.get_fignums()) == before


def test_static_plots_draw(trained, explorer):
    from vislib.ops.masks import project_masks_on_boxes
    from vislib.plotting.figures import new_figure
    from vislib.plotting.mask_rcnn import plot_label_kinds, plot_mask_targets, plot_pooler_ablation, plot_predictions

    image, target = ShapesDataset(1, image_size=SIZE, seed=4)[0]
    figure, axes = new_figure(1, 3)
    plot_label_kinds(axes, image, target, ShapesDataset(1).classes)
    proposals = target["boxes"][:1].repeat(2, 1) + torch.tensor([[0.0, 0, 0, 0], [-3.0, -2, 4, 3]])
    targets = project_masks_on_boxes(target["masks"], proposals, torch.zeros(2, dtype=torch.long))
    figure, axes = new_figure(2, 2)
    plot_mask_targets(axes, image, target["masks"][0], proposals, targets)
    figure, ax = new_figure()
    prediction = predict(trained[0], [image])[0]
    plot_predictions(ax, image, prediction, ShapesDataset(1).classes, min_score=0.0)
    figure, ax = new_figure()
    plot_pooler_ablation(
        ax,
        {
            "RoI Align": {"AP": [0.5, 0.6], "AP50": [0.9, 0.8], "AP75": [0.5, 0.4]},
            "RoI Pool": {"AP": [0.3, 0.4], "AP50": [0.8, 0.8], "AP75": [0.2, 0.3]},
        },
    )
    assert len(ax.patches) == 6


def test_compare_poolers_trains_each_pooler_per_seed_with_the_same_budget(data):
    from vislib.training.mask_rcnn import compare_poolers

    held_out = ShapesDataset(3, image_size=SIZE, seed=2)
    comparison = compare_poolers(
        lambda pooler: tiny_model(pooler=pooler), data, held_out, seeds=(0, 1), epochs=1, batch_size=4
    )
    assert comparison.poolers == ("align", "pool") and comparison.seeds == (0, 1)
    for pooler in comparison.poolers:
        assert len(comparison.values(pooler, "AP50")) == 2 and len(comparison.seconds[pooler]) == 2
        values = comparison.values(pooler, "AP75")
        assert comparison.mean(pooler, "AP75") == pytest.approx(np.mean(values))
        assert comparison.spread(pooler, "AP75") == pytest.approx(np.std(values, ddof=1))
    with pytest.raises(ValueError, match="at least one value"):
        compare_poolers(lambda pooler: tiny_model(pooler=pooler), data, held_out, seeds=(), epochs=1)


def test_compare_poolers_loads_its_runs_from_the_local_cache_the_second_time(data, tmp_path, monkeypatch):
    from vislib.training.mask_rcnn import compare_poolers

    monkeypatch.setenv("VISLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("VISLIB_RETRAIN", raising=False)
    held_out = ShapesDataset(3, image_size=SIZE, seed=2)

    def ablation(**options):
        return compare_poolers(
            lambda pooler: tiny_model(pooler=pooler), data, held_out, seeds=(0,), epochs=1, batch_size=4, **options
        )

    first = ablation()
    after_first = torch.rand(3)
    second = ablation()
    after_second = torch.rand(3)
    assert first.sources == ["trained", "trained"] and second.sources == ["cache", "cache"]
    assert (first.mask, first.box, first.final_losses) == (second.mask, second.box, second.final_losses)
    assert torch.equal(after_first, after_second)  # the random state after a cache hit is the trained one's
    assert ablation(cache=False).mask == first.mask  # uncached training gives the same numbers
    monkeypatch.setenv("VISLIB_RETRAIN", "1")
    assert ablation().sources == ["trained", "trained"]
