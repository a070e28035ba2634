"""The segmentation models: shapes through every stage, the decoders' building blocks against torch.nn
oracles, pyramid pooling written out by hand, and bad input."""

import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vislib.analysis.parameters import count_parameters
from vislib.analysis.receptive_field import Layer, receptive_field
from vislib.models.segmentation import (
    MODELS,
    Encoder,
    FCNBaseline,
    PSPNet,
    PyramidPooling,
    SegNet,
    UNet,
    adaptive_pool_regions,
    build_segmenter,
    stage_pictures,
    strongest_channel,
)

CHANNELS = (4, 8, 12)


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("size", [(32, 32), (64, 48)])
def test_every_model_returns_full_resolution_scores(name, size):
    torch.manual_seed(0)
    model = build_segmenter(name, 5, CHANNELS).eval()
    images = torch.rand(2, 3, *size)
    with torch.no_grad():
        scores = model(images)
        stages = model.forward_stages(images)
    assert scores.shape == (2, 5, *size)
    assert torch.equal(stages[-1][1], scores)
    assert stages[0] == ("input", images)
    # The encoder halves the resolution three times: the coarsest map is 1/8 of the input.
    assert min(t.shape[-1] for _, t in stages) == size[1] // 8
    assert stages[4][0] == "bottleneck" and stages[4][1].shape == (2, CHANNELS[2], size[0] // 8, size[1] // 8)


def test_models_train_a_step_and_their_gradient_reaches_the_first_layer():
    for name in MODELS:
        torch.manual_seed(0)
        model = build_segmenter(name, 3, CHANNELS)
        loss = F.cross_entropy(model(torch.rand(2, 3, 32, 32)), torch.randint(0, 3, (2, 32, 32)))
        loss.backward()
        assert model.encoder.stage1[0].weight.grad.abs().sum() > 0, name


def test_encoder_outputs_and_receptive_field():
    encoder = Encoder(CHANNELS).eval()
    out = encoder(torch.rand(1, 3, 64, 64))
    assert [tuple(s.shape[1:]) for s in out.skips] == [(4, 64, 64), (8, 32, 32), (12, 16, 16)]
    assert [tuple(i.shape[1:]) for i in out.indices] == [(4, 32, 32), (8, 16, 16), (12, 8, 8)]
    # The documented 52 x 52 receptive field, by vislib.analysis.receptive_field (tested against gradients there).
    conv, pool = Layer("conv", 3, 1, 1), Layer("pool", 2, 2, 0)
    stack = [conv, conv, pool] * 3 + [conv]
    assert receptive_field(stack)[-1].size == 52


def test_segnet_unpools_with_the_encoders_indices():
    """MaxUnpool2d with MaxPool2d's indices puts each maximum back in place and zeros elsewhere."""
    x = torch.rand(2, 3, 8, 8)
    pooled, indices = nn.MaxPool2d(2, return_indices=True)(x)
    restored = nn.MaxUnpool2d(2)(pooled, indices)
    kept = restored != 0
    assert torch.equal(restored[kept], x[kept])
    assert kept.reshape(2, 3, 4, 2, 4, 2).sum(dim=(3, 5)).eq(1).all()  # one survivor per 2 x 2 window
    # In the model, each decoder stage unpools with the matching encoder pooling's indices.
    model = SegNet(3, CHANNELS).eval()
    seen = []
    original = model.unpool.forward
    model.unpool.forward = lambda value, where, output_size=None: seen.append(where) or original(value, where)
    images = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        model(images)
        expected = list(reversed(model.encoder(images).indices))
    assert len(seen) == 3 and all(torch.equal(a, b) for a, b in zip(seen, expected))


def test_unet_concatenates_the_encoder_skips():
    model = UNet(3, CHANNELS)
    assert model.decode3[0].in_channels == 2 * CHANNELS[2]
    assert model.decode2[0].in_channels == 2 * CHANNELS[1]
    assert model.decode1[0].in_channels == 2 * CHANNELS[0]


def test_fcn_baseline_is_a_bilinear_upsampling_of_coarse_scores():
    model = FCNBaseline(4, CHANNELS).eval()
    images = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        stages = dict(model.forward_stages(images))
        expected = F.interpolate(stages["coarse scores"], scale_factor=8, mode="bilinear", align_corners=False)
    assert torch.allclose(stages["scores (bilinear x8)"], expected, atol=1e-6)


def test_pyramid_pooling_by_hand():
    torch.manual_seed(0)
    module = PyramidPooling(8, bins=(1, 2, 3, 6)).eval()
    features = torch.rand(2, 8, 8, 8)
    with torch.no_grad():
        out = module(features)
        assert out.shape == (2, 8 + 4 * 2, 8, 8) and module.out_channels == 16
        assert torch.equal(out[:, :8], features)  # the features themselves come first
        for k, (b, branch) in enumerate(zip(module.bins, module.branches)):
            pooled = F.adaptive_avg_pool2d(features, b)
            _, conv, bn, _ = branch
            reduced = F.relu(bn(conv(pooled)))
            expected = F.interpolate(reduced, size=(8, 8), mode="bilinear", align_corners=False)
            assert torch.allclose(out[:, 8 + 2 * k : 10 + 2 * k], expected, atol=1e-6)
        # The 1 x 1 bin is the global average: the same context at every position.
        global_branch = out[:, 8:10]
        assert torch.allclose(global_branch, global_branch[:, :, :1, :1].expand_as(global_branch))
    assert [p.shape[-1] for p in module.pooled(features)] == [1, 2, 3, 6]


def test_pspnet_without_the_pyramid_differs_only_by_the_module():
    with_module, without = PSPNet(5, CHANNELS), PSPNet(5, CHANNELS, bins=())
    assert without.pyramid is None
    difference = count_parameters(with_module) - count_parameters(without)
    c3, branch = CHANNELS[2], CHANNELS[2] // 4
    # four branches (1x1 conv + BN) and the head's wider 3x3 conv
    assert difference == 4 * (c3 * branch + 2 * branch) + 3 * 3 * (4 * branch) * c3


@pytest.mark.parametrize("size, bins", [(8, 1), (8, 2), (8, 3), (8, 6), (7, 3), (60, 6), (5, 6)])
def test_adaptive_pool_regions_match_torch(size, bins):
    x = torch.rand(1, 1, 1, size, dtype=torch.float64)
    expected = F.adaptive_avg_pool2d(x, (1, bins))[0, 0, 0]
    regions = adaptive_pool_regions(size, bins)
    got = torch.stack([x[0, 0, 0, a:b].mean() for a, b in regions])
    assert torch.allclose(got, expected)
    assert regions[0][0] == 0 and regions[-1][1] == size


def test_pictures_of_stages():
    model = PSPNet(5, CHANNELS).eval()
    with torch.no_grad():
        stages = model.forward_stages(torch.rand(2, 3, 32, 32))
    pictures = stage_pictures(stages, index=1)
    assert [name for name, _, _ in pictures] == [name for name, _ in stages]
    assert pictures[0][1].shape == (3, 32, 32) and pictures[-1][1].dtype == torch.int64
    assert pictures[-1][2] == (5, 32, 32)
    features = torch.zeros(3, 4, 4)
    features[2, 0, 0] = 5.0
    assert torch.equal(strongest_channel(features), features[2])


def test_count_parameters_matches_a_sum():
    model = UNet(5, CHANNELS)
    assert count_parameters(model) == sum(math.prod(p.shape) for p in model.parameters())


def test_bad_input_gets_clear_errors():
    model = FCNBaseline(3, CHANNELS)
    with pytest.raises(ValueError, match="multiples of 8"):
        model(torch.rand(1, 3, 30, 32))
    with pytest.raises(ValueError, match="images must be a 4-D tensor"):
        model(torch.rand(3, 32, 32))
    with pytest.raises(TypeError, match="images must be a floating-point tensor"):
        model(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        FCNBaseline(1)
    with pytest.raises(ValueError, match="channels must hold three"):
        Encoder((8, 16))
    with pytest.raises(ValueError, match="name must be one of"):
        build_segmenter("DeepLab", 3)
    with pytest.raises(ValueError, match="bins must name at least one"):
        PyramidPooling(8, bins=())
    with pytest.raises(ValueError, match="features must have 8 channels"):
        PyramidPooling(8)(torch.rand(1, 4, 8, 8))
    with pytest.raises(ValueError, match="bins must be >= 1"):
        adaptive_pool_regions(8, 0)


# -- Exercise 1's checker ----------------------------------------------------------------------
def test_transposed_conv_checker_accepts_the_formula_and_explains_mistakes():
    from vislib.exercises.convolution import check_transposed_conv_output_size, transposed_conv_output_size_oracle

    assert transposed_conv_output_size_oracle(8, 2, 2) == 16
    assert check_transposed_conv_output_size(lambda n, k, s=1, p=0, op=0: (n - 1) * s - 2 * p + k + op) > 500
    mistakes = {
        "forgot output_padding": (lambda n, k, s, p, op: (n - 1) * s - 2 * p + k, "output_padding"),
        "convolution formula": (lambda n, k, s, p, op: (n + 2 * p - k) // s + 1, "ordinary convolution"),
        "size * stride": (lambda n, k, s, p, op: n * s - 2 * p + k + op, "(size - 1) * stride"),
        "adds padding": (lambda n, k, s, p, op: (n - 1) * s + 2 * p + k + op, "subtract 2 * padding"),
        "padding once": (lambda n, k, s, p, op: (n - 1) * s - p + k + op, "both sides"),
        "extra + 1": (lambda n, k, s, p, op: (n - 1) * s - 2 * p + k + op + 1, "No + 1"),
    }
    for wrong, hint in mistakes.values():
        with pytest.raises(AssertionError, match=re.escape(hint)):
            check_transposed_conv_output_size(wrong)
    with pytest.raises(AssertionError, match="must return an int"):
        check_transposed_conv_output_size(lambda *args: "16")
    with pytest.raises(TypeError, match="must be callable"):
        check_transposed_conv_output_size(16)


# -- the pictures draw onto the axes they are given -----------------------------------------------
def test_segmentation_plots_draw_without_pyplot():
    import matplotlib

    from vislib.plotting import new_figure
    from vislib.plotting.segmentation import (
        class_legend,
        plot_confusion_matrix,
        plot_label_map,
        plot_model_comparison,
        plot_overlay,
        plot_prediction_grid,
        plot_pyramid_bins,
        plot_stage_maps,
    )

    figures_before = len(matplotlib.pyplot.get_fignums()) if "matplotlib.pyplot" in __import__("sys").modules else 0
    model = PSPNet(3, CHANNELS).eval()
    images = torch.rand(2, 3, 32, 32)
    masks = torch.randint(0, 3, (2, 32, 32))
    with torch.no_grad():
        stages = model.forward_stages(images)
    figure, axes = new_figure(2, 5)
    plot_stage_maps(axes, stage_pictures(stages), num_classes=3)
    figure, axes = new_figure(1, 2)
    plot_stage_maps(axes, [("a", torch.arange(4.0).reshape(2, 2), (2, 2))] * 2, value_range=(0, 3), annotate=True)
    assert len(axes[0].texts) == 4
    figure, axes = new_figure(2, 4)
    plot_prediction_grid(axes, images, masks, {"m1": masks, "m2": masks}, 3)
    class_legend(axes[0, -1], ("background", "a", "b"))
    figure, axes = new_figure(2, 4)
    plot_pyramid_bins(axes, images[0], (1, 2, 3, 6), pooled=[torch.rand(b, b) for b in (1, 2, 3, 6)])
    figure, ax = new_figure()
    plot_confusion_matrix(ax, torch.tensor([[5, 1, 0], [2, 3, 0], [0, 0, 0]]), ("x", "y", "z"), title="t")
    assert len(ax.texts) == 9
    figure, ax = new_figure()
    plot_label_map(ax, masks[0], 3, "truth")
    plot_overlay(ax, images[0], {"a": masks[0] == 1, "b": masks[0] == 2}, "overlay")
    figure, axes = new_figure(1, 3)
    plot_model_comparison(axes, ["a", "b"], [0.5, 0.6], [0.3, 0.4], [0.7, 0.8], [1.0, 2.0], [1000, 2000])
    figure.canvas.draw()
    with pytest.raises(ValueError, match="num_classes must be in"):
        plot_label_map(ax, masks[0], 0)
    if "matplotlib.pyplot" in __import__("sys").modules:
        assert len(matplotlib.pyplot.get_fignums()) == figures_before
