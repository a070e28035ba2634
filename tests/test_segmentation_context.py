"""Notebook 04's experiments: the context scenes, how far a segmenter's score looks, and the controlled
comparison over seeds (a shared, frozen encoder)."""

import numpy as np
import pytest
import torch

from vislib.analysis.receptive_field import Layer, input_support_2d, receptive_field
from vislib.analysis.segmentation import pixel_gradient_map, score_field_size, segmenter_layers
from vislib.data.segmentation import CONTEXT_CLASSES, ContextShapesDataset, frame_distance
from vislib.metrics.boundary import boundary_f_score, trimap_miou
from vislib.metrics.segmentation import mean_iou
from vislib.models.segmentation import FCNBaseline, PSPNet, SegNet, UNet
from vislib.plotting import new_figure
from vislib.plotting.segmentation import plot_context_reach, plot_seed_comparison
from vislib.training.segmentation import compare_segmenters, segmentation_tensors, share_encoder


def test_context_scenes_label_shapes_by_their_frame_only():
    dataset = ContextShapesDataset(24, image_size=64, frame_width=4, seed=3)
    scenes = set()
    for index in range(len(dataset)):
        image, target = dataset[index]
        mask, scene = target["semantic_mask"], target["scene"]
        scenes.add(scene)
        assert image.shape == (3, 64, 64) and mask.shape == (64, 64) and mask.dtype == torch.int64
        assert set(mask.unique().tolist()) == {0, scene + 1}  # every shape pixel carries the scene's class
        frame = torch.from_numpy(frame_distance(64, 4) == 0)
        assert not mask[frame].any()  # the frame is background
        red, blue = image[0][frame].mean(), image[2][frame].mean()
        assert (red > blue) if scene == 0 else (blue > red), index  # warm frames are red, cool ones blue
    assert scenes == {0, 1}
    # The same image every time (seeded per index), and different seeds differ.
    assert torch.equal(dataset[5][0], ContextShapesDataset(24, image_size=64, frame_width=4, seed=3)[5][0])
    assert not torch.equal(dataset[5][0], ContextShapesDataset(24, image_size=64, frame_width=4, seed=4)[5][0])
    assert len(CONTEXT_CLASSES) == 3


def test_context_shapes_stay_in_the_middle():
    size, margin = 128, 0.3
    dataset = ContextShapesDataset(16, image_size=size, margin=margin, seed=0)
    masks = segmentation_tensors(dataset)[1]
    distance = frame_distance(size, 6)
    # Centres lie at least margin * size from the border; the largest shape (a star, 1.2 * 0.12 * size) reaches
    # closer by its radius.
    smallest = margin * size - 1.2 * 0.12 * size - 6
    assert distance[(masks > 0).any(dim=0).numpy()].min() >= np.floor(smallest) - 1  # polygon rounding


def test_frame_distance_is_the_chessboard_distance_to_the_frame():
    size, width = 20, 3
    frame = np.zeros((size, size), bool)
    frame[:width], frame[-width:], frame[:, :width], frame[:, -width:] = True, True, True, True
    points = np.argwhere(frame)
    expected = np.array([[np.abs(points - (r, c)).max(axis=1).min() for c in range(size)] for r in range(size)])
    np.testing.assert_array_equal(frame_distance(size, width), expected)


def test_score_field_is_what_the_gradient_reaches():
    """Without a pyramid a score depends on exactly the pixels of its field (the theoretical field, measured
    by autograd); with one, the global bin reaches far beyond it."""
    torch.manual_seed(0)
    no_pyramid = PSPNet(3, (4, 8, 8), bins=())
    layers = segmenter_layers(no_pyramid)
    assert receptive_field(layers)[-1].size == 52 + 16  # the encoder's 52 px, plus the 3x3 head conv at stride 8
    assert score_field_size(no_pyramid) == 68 + 8  # bilinear upsampling mixes neighbouring coarse units
    assert score_field_size(FCNBaseline(3, (4, 8, 8))) == 52 + 8
    image = torch.rand(3, 128, 128)
    for row, col in [(64, 64), (61, 70)]:
        reached = torch.nonzero(pixel_gradient_map(no_pyramid, image, row, col, 1) > 0)
        extent = reached.max(dim=0).values - reached.min(dim=0).values + 1
        assert extent.tolist() == [76, 76]
    # On the coarse grid, the unit at (8, 8) reads exactly input_support_2d's pixels.
    support = input_support_2d(layers, 128, (8, 8))
    assert support.sum() == 68 * 68
    pyramid = PSPNet(3, (4, 8, 8))
    reached = pixel_gradient_map(pyramid, image, 64, 64, 1) > 0
    assert reached.float().mean() > (76 / 128) ** 2  # the pyramid's bins look beyond the field


def test_pixel_gradient_map_is_the_input_gradient_of_one_score():
    torch.manual_seed(0)
    model = UNet(3, (4, 8, 8)).eval()
    image = torch.rand(3, 32, 32)
    x = image[None].clone().requires_grad_(True)
    model(x)[0, 2, 10, 11].backward()
    expected = x.grad[0].abs().sum(dim=0)
    model.train()
    assert torch.allclose(pixel_gradient_map(model, image, 10, 11, 2), expected)
    assert model.training  # its mode is restored
    predicted = int(model.eval()(image[None])[0, :, 3, 4].argmax())
    assert torch.equal(pixel_gradient_map(model, image, 3, 4), pixel_gradient_map(model, image, 3, 4, predicted))
    with pytest.raises(TypeError, match="model"):
        segmenter_layers(model)  # U-Net has no single path to its scores


def test_share_encoder_copies_and_freezes():
    torch.manual_seed(0)
    source, target = FCNBaseline(3, (4, 8, 8)), SegNet(3, (4, 8, 8))
    share_encoder(target, source.encoder)
    for a, b in zip(source.encoder.state_dict().values(), target.encoder.state_dict().values()):
        assert torch.equal(a, b)
    assert not any(p.requires_grad for p in target.encoder.parameters())
    assert all(p.requires_grad for p in target.classifier.parameters())
    share_encoder(target, source.encoder, freeze=False)
    assert all(p.requires_grad for p in target.encoder.parameters())


@pytest.fixture(scope="module")
def tiny_data():
    images = torch.rand(12, 3, 32, 32)
    masks = (images[:, 0] > 0.5).long() + (images[:, 1] > 0.7).long()
    return (images[:8], masks[:8]), (images[8:], masks[8:])


def test_compare_segmenters_trains_every_model_per_seed_on_a_frozen_shared_encoder(tiny_data):
    train, val = tiny_data
    architectures = {"FCN": lambda: FCNBaseline(3, (4, 4, 8)), "U-Net": lambda: UNet(3, (4, 4, 8))}
    result = compare_segmenters(
        architectures,
        train,
        val,
        steps=3,
        seeds=[0, 1],
        batch_size=4,
        shared_encoder=architectures["FCN"],
        encoder_steps=2,
        encoder_eval_every=1,
    )
    assert result.names == ["FCN", "U-Net"] and result.seeds == [0, 1]
    assert len(result.encoder_runs) == 2 and result.encoder_runs[0].eval_steps == [0, 1, 2]
    for name in result.names:
        assert len(result.scores[name]) == 2
        predicted = result.predictions[name]
        last = result.scores[name][-1]
        assert last["miou"] == pytest.approx(result.runs[name].final.mean_iou)
        assert last["miou"] == pytest.approx(mean_iou(result.runs[name].final.confusion))
        assert last["trimap_miou"] == pytest.approx(trimap_miou(predicted, val[1], 3, width=2), nan_ok=True)
        assert last["boundary_f"] == pytest.approx(boundary_f_score(predicted, val[1], tolerance=1).f_score)
        assert last["seconds_per_step"] == pytest.approx(last["seconds"] / 3)
        assert result.values(name, "miou") == [s["miou"] for s in result.scores[name]]
    # Both models of the last seed carry the same frozen encoder, and training left it unchanged.
    for a, b in zip(
        result.models["FCN"].encoder.state_dict().values(), result.models["U-Net"].encoder.state_dict().values()
    ):
        assert torch.equal(a, b)
    values = result.values("U-Net", "boundary_f")
    assert result.text("U-Net", "boundary_f") == f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"
    with pytest.raises(ValueError, match="metric"):
        result.values("U-Net", "accuracy")


def test_compare_segmenters_is_reproducible_and_seeds_differ(tiny_data):
    train, val = tiny_data
    architectures = {"FCN": lambda: FCNBaseline(3, (4, 4, 8))}
    first = compare_segmenters(architectures, train, val, steps=2, seeds=[0, 1], batch_size=4)
    again = compare_segmenters(architectures, train, val, steps=2, seeds=[0, 1], batch_size=4)
    assert first.values("FCN", "miou") == again.values("FCN", "miou")
    assert torch.equal(first.predictions["FCN"], again.predictions["FCN"])
    with pytest.raises(ValueError, match="encoder_steps"):
        compare_segmenters(architectures, train, val, steps=2, shared_encoder=architectures["FCN"])


def test_the_pictures_draw():
    figure, axes = new_figure(1, 3, figsize=(13, 4.8))
    gradient = torch.rand(64, 64)
    gradient[:10] = 0
    plot_context_reach(axes, torch.rand(3, 64, 64), (32, 30), 40, {"a": gradient, "b": torch.rand(64, 64)}, 4)
    assert "40 x 40" in axes[0].get_title() and "reaches 84%" in axes[1].get_title()
    figure, ax = new_figure(figsize=(5, 4))
    plot_seed_comparison(ax, ["a", "b"], [[0.5, 0.6, 0.55], [0.7, 0.72, 0.71]], "boundary F")
    assert ax.get_title() == "boundary F (3 seeds)" and len(ax.patches) == 2
    # Layer is what segmenter_layers lists.
    assert all(isinstance(layer, Layer) for layer in segmenter_layers(FCNBaseline(3)))
