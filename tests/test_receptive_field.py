"""vislib.analysis.receptive_field: the arithmetic equals published values and torch, the pixel sets equal the
gradients."""

import dataclasses
import random
import time

import numpy as np
import pytest
import torch
from torch import nn

from vislib.analysis import receptive_field as rf
from vislib.analysis.receptive_field import Layer, conv, pool


def _random_stack(rng: random.Random, max_layers: int = 5, pools: bool = True) -> list[Layer]:
    layers = []
    for _ in range(rng.randint(1, max_layers)):
        if pools and rng.random() < 0.3:
            k = rng.randint(1, 4)
            layers.append(Layer("pool", k, stride=rng.randint(1, 3), padding=rng.randint(0, k // 2)))
        else:
            layers.append(
                Layer(
                    "conv",
                    rng.randint(1, 4),
                    stride=rng.randint(1, 3),
                    padding=rng.randint(0, 3),
                    dilation=rng.randint(1, 3),
                )
            )
    return layers


def _random_stacks(count: int, input_size: int, seed: int = 0, **options):
    """Random stacks that fit an input of ``input_size`` pixels."""
    rng, stacks = random.Random(seed), []
    while len(stacks) < count:
        layers = _random_stack(rng, **options)
        if rf.minimum_input_size(layers) <= input_size:
            stacks.append(layers)
    return stacks


def _table(layers):
    return [(info.size, info.jump, info.start) for info in rf.receptive_field(layers)]


# ----------------------------------------------------------------------------------------------------------
# Layer
# ----------------------------------------------------------------------------------------------------------


def test_layer_defaults_effective_kernel_and_frozen():
    layer = Layer("conv", 3)
    assert (layer.stride, layer.padding, layer.dilation, layer.name) == (1, 0, 1, "")
    assert layer.effective_kernel == 3
    assert Layer("conv", 3, dilation=2).effective_kernel == 5
    assert Layer("conv", 3, dilation=5).effective_kernel == 11
    assert Layer("conv", 1, dilation=7).effective_kernel == 1
    assert pool(2) == Layer("pool", 2, stride=2)
    assert type(Layer("conv", np.int64(3)).kernel_size) is int
    with pytest.raises(dataclasses.FrozenInstanceError):
        layer.stride = 2
    assert "conv 3x3, stride 2, padding 1, dilation 2" in conv(3, 2, 1, 2, name="c").describe()


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: Layer("fc", 3), ValueError, "Layer.kind must be one of 'conv', 'pool'; got 'fc'"),
        (lambda: Layer("conv", 0), ValueError, "Layer.kernel_size must be >= 1, got 0"),
        (lambda: Layer("conv", 3.0), TypeError, "Layer.kernel_size must be an integer"),
        (lambda: Layer("conv", 3, dilation=2.0), TypeError, "Layer.dilation must be an integer"),
        (lambda: Layer("conv", 3, dilation=0), ValueError, "Layer.dilation must be >= 1"),
        (lambda: Layer("conv", 3, stride=True), TypeError, "Layer.stride must be an integer"),
        (lambda: Layer("conv", 3, stride=0), ValueError, "Layer.stride must be >= 1"),
        (lambda: Layer("conv", 3, padding=-1), ValueError, "Layer.padding must be >= 0"),
        (lambda: Layer("conv", 3, name=3), TypeError, "Layer.name must be a string"),
        (lambda: Layer("pool", 3, padding=2), ValueError, "pool layer must be at most kernel_size // 2 = 1"),
    ],
)
def test_layer_validation_names_the_field(make, error, message):
    with pytest.raises(error, match=message):
        make()


# ----------------------------------------------------------------------------------------------------------
# Arithmetic: hand-derived and published values
# ----------------------------------------------------------------------------------------------------------


def test_hand_derived_values():
    # Three 3x3 stride-1 convolutions: 1 + 2 + 2 + 2 = 7.
    assert _table([conv(3, padding=1)] * 3) == [(3, 1, -1), (5, 1, -2), (7, 1, -3)]
    # A 3x3 stride-2 convolution, then a 3x3: the second adds (3 - 1) * 2 = 4 pixels.
    assert _table([conv(3, stride=2), conv(3)]) == [(3, 2, 0), (7, 2, 0)]
    # A dilated 3x3 with d=2 spans 5 pixels.
    assert _table([conv(3, dilation=2, padding=2)]) == [(5, 1, -2)]
    # Padding after a stride counts in input pixels: 3 * 2 more.
    assert _table([conv(2, stride=2), conv(3, padding=3)]) == [(2, 2, 0), (6, 2, -6)]
    info = rf.receptive_field([conv(4, padding=1)])[0]
    assert (info.stop, info.center) == (3, 0.5)


# VGG-16 and AlexNet v2 (TF-slim definitions) per end-point: (r, effective stride, effective padding), from
# the table of Araujo et al.'s library, tensorflow/contrib/receptive_field/RECEPTIVE_FIELD_TABLE.md.
VGG16_TABLE = {
    "conv1_1": (3, 1, 1),
    "pool1": (6, 2, 2),
    "conv2_1": (10, 2, 4),
    "pool2": (16, 4, 6),
    "conv3_1": (24, 4, 10),
    "conv3_2": (32, 4, 14),
    "pool3": (44, 8, 18),
    "conv4_1": (60, 8, 26),
    "conv4_2": (76, 8, 34),
    "pool4": (100, 16, 42),
    "conv5_1": (132, 16, 58),
    "conv5_2": (164, 16, 74),
    "pool5": (212, 32, 90),
}
ALEXNET_V2 = [
    conv(11, 4, name="conv1"),
    pool(3, 2, name="pool1"),
    conv(5, padding=2, name="conv2"),
    pool(3, 2, name="pool2"),
    conv(3, padding=1, name="conv3"),
    conv(3, padding=1, name="conv4"),
    conv(3, padding=1, name="conv5"),
    pool(3, 2, name="pool5"),
]
ALEXNET_V2_TABLE = {
    "conv1": (11, 4, 0),
    "pool1": (19, 8, 0),
    "conv2": (51, 8, 16),
    "conv3": (99, 16, 32),
    "conv4": (131, 16, 48),
    "conv5": (163, 16, 64),
    "pool5": (195, 32, 64),
}


@pytest.mark.parametrize(
    "layers, table",
    [(rf.PRESETS["VGG-16 to pool5"], VGG16_TABLE), (ALEXNET_V2, ALEXNET_V2_TABLE)],
    ids=["vgg16", "alexnet_v2"],
)
def test_published_architectures(layers, table):
    computed = {info.layer.name: (info.size, info.jump, -info.start) for info in rf.receptive_field(layers)}
    assert {name: computed[name] for name in table} == table


def test_vgg16_layout_and_pool5():
    layers = rf.PRESETS["VGG-16 to pool5"]
    assert [layer.kind for layer in layers].count("conv") == 13
    assert [layer.name for layer in layers if layer.kind == "pool"] == [f"pool{i}" for i in range(1, 6)]
    last = rf.receptive_field(layers)[-1]
    assert (last.size, last.jump) == (212, 32)
    assert rf.output_sizes(224, layers)[-1] == 7


def test_yu_koltun_context_module_table_1():
    sizes = [info.size for info in rf.receptive_field(rf.PRESETS["Yu-Koltun context module"])]
    assert sizes == [3, 5, 9, 17, 33, 65, 67, 67]


def test_presets():
    assert {
        "plain 3x3 x4",
        "strided encoder",
        "DeepLab-style dilated tail",
        "gridding (2, 2, 2)",
        "hybrid (1, 2, 5)",
    } <= set(rf.PRESETS)
    last = {name: rf.receptive_field(layers)[-1] for name, layers in rf.PRESETS.items()}
    assert (last["plain 3x3 x4"].size, last["plain 3x3 x4"].jump) == (9, 1)
    assert (last["strided encoder"].size, last["strided encoder"].jump) == (43, 8)
    assert (
        last["DeepLab-style dilated tail"].size,
        last["gridding (2, 2, 2)"].size,
        last["hybrid (1, 2, 5)"].size,
    ) == (31, 13, 17)
    for layers in rf.PRESETS.values():  # every preset runs on the widget's 128-pixel input
        assert len(rf.input_support(layers, 128, 0)) == 128


# ----------------------------------------------------------------------------------------------------------
# Sizes equal torch
# ----------------------------------------------------------------------------------------------------------


def test_output_size_equals_torch_on_random_configurations():
    rng = random.Random(1)
    for _ in range(300):
        k, s, d, n = rng.randint(1, 5), rng.randint(1, 4), rng.randint(1, 3), rng.randint(1, 30)
        x = torch.zeros(1, 1, n, n)
        p = rng.randint(0, 4)
        layer = Layer("conv", k, s, p, d)
        if n + 2 * p < layer.effective_kernel:
            with pytest.raises(ValueError, match="needs an input of at least"):
                rf.output_size(n, layer)
            continue
        assert rf.output_size(n, layer) == nn.Conv2d(1, 1, k, s, p, d)(x).shape[-1]
        p = rng.randint(0, k // 2)
        layer = Layer("pool", k, s, p, d)
        if n + 2 * p >= layer.effective_kernel:
            assert rf.output_size(n, layer) == nn.MaxPool2d(k, s, p, d)(x).shape[-1]


@pytest.mark.parametrize("name", sorted(rf.PRESETS))
def test_output_sizes_equal_the_built_stack(name):
    layers = rf.PRESETS[name]
    model = rf.build_stack(layers)
    shape = model(torch.zeros(1, 1, 64, 48, dtype=torch.float64)).shape
    assert (shape[-2], shape[-1]) == (rf.output_sizes(64, layers)[-1], rf.output_sizes(48, layers)[-1])


def test_minimum_input_size_is_tight():
    for layers in _random_stacks(100, input_size=10**6, seed=2) + list(rf.PRESETS.values()):
        smallest = rf.minimum_input_size(layers)
        assert rf.output_sizes(smallest, layers)[-1] >= 1
        if smallest > 1:
            with pytest.raises(ValueError, match=f"needs at least {smallest}"):
                rf.output_sizes(smallest - 1, layers)


# ----------------------------------------------------------------------------------------------------------
# Exact pixel sets
# ----------------------------------------------------------------------------------------------------------


def test_gridding_and_hybrid_dilation():
    grid = rf.input_support(rf.PRESETS["gridding (2, 2, 2)"], 32, 16)
    assert np.flatnonzero(grid).tolist() == list(range(10, 23, 2))  # 7 of the 13 pixels, every other one
    hybrid = rf.input_support(rf.PRESETS["hybrid (1, 2, 5)"], 32, 16)
    assert np.flatnonzero(hybrid).tolist() == list(range(8, 25))  # all 17
    tail = rf.input_support(rf.PRESETS["DeepLab-style dilated tail"], 64, 32)
    assert np.flatnonzero(tail).tolist() == list(range(17, 48))  # all 31


def test_support_of_a_strided_stack_with_gaps():
    # A 1x1 stride-2 layer reads every other pixel; the 3x3 after it cannot fill the gaps.
    assert np.flatnonzero(rf.input_support([conv(1, stride=2), conv(3)], 12, 2)).tolist() == [4, 6, 8]


def test_support_is_clipped_at_the_border_and_can_be_empty():
    support = rf.input_support([conv(3, padding=1)] * 3, 10, 0)
    assert np.flatnonzero(support).tolist() == [0, 1, 2, 3]  # the field [-3, 4) minus the padding
    assert rf.field_of_unit([conv(3, padding=1)] * 3, 0) == (-3, 4)
    assert not rf.input_support([conv(1, padding=2)], 5, 0).any()  # this unit reads only padding


@pytest.mark.parametrize("seed", range(4))
def test_field_of_unit_is_the_extent_of_the_support(seed):
    size = 40
    for layers in _random_stacks(25, size, seed=seed):
        last = rf.receptive_field(layers)[-1]
        for unit in range(rf.output_sizes(size, layers)[-1]):
            start, stop = rf.field_of_unit(layers, unit, size)
            assert stop - start == last.size
            support = rf.input_support(layers, size, unit)
            assert not support[: max(start, 0)].any() and not support[max(stop, 0) :].any()
            if 0 <= start and stop <= size:  # no border clipping: the extent is exactly r
                inside = np.flatnonzero(support)
                assert (inside[0], inside[-1] + 1) == (start, stop)
                counts = rf.path_counts(layers, size, unit)
                assert counts.sum() == np.prod([layer.kernel_size for layer in layers])  # one path per tap choice
                np.testing.assert_array_equal(counts > 0, support)


@pytest.mark.parametrize(
    "name",
    [
        "plain 3x3 x4",
        "strided encoder",
        "DeepLab-style dilated tail",
        "hybrid (1, 2, 5)",
        "Yu-Koltun context module",
        "VGG-16 to pool5",
    ],
)
def test_without_gaps_the_support_holds_exactly_r_pixels(name):
    layers = rf.PRESETS[name]
    last = rf.receptive_field(layers)[-1]
    size = 512
    unit = rf.output_sizes(size, layers)[-1] // 2
    start, stop = rf.field_of_unit(layers, unit)
    assert 0 <= start and stop <= size
    assert rf.input_support(layers, size, unit).sum() == last.size


def test_2d_helpers_are_outer_products():
    layers = rf.PRESETS["gridding (2, 2, 2)"]
    support = rf.input_support_2d(layers, (20, 30), (3, 17))
    assert support.shape == (20, 30) and support.dtype == bool
    np.testing.assert_array_equal(support, np.outer(rf.input_support(layers, 20, 3), rf.input_support(layers, 30, 17)))
    assert rf.field_of_unit_2d(layers, (3, 17)) == ((-3, 10), (11, 24))
    assert rf.input_support_2d(layers, 20, (3, 5)).shape == (20, 20)


# ----------------------------------------------------------------------------------------------------------
# Gradient maps (Luo et al. 2016) equal the exact pixel sets
# ----------------------------------------------------------------------------------------------------------

GRADIENT_STACKS = {
    "gridding (2, 2, 2)": rf.PRESETS["gridding (2, 2, 2)"],
    "hybrid (1, 2, 5)": rf.PRESETS["hybrid (1, 2, 5)"],
    "strided encoder": rf.PRESETS["strided encoder"],
    "strided gaps": [conv(1, stride=2), conv(3, dilation=2, padding=1), conv(2, stride=3)],
    "dilated after stride": [conv(3, stride=2, padding=1), conv(3, dilation=2, padding=2), conv(3, dilation=3)],
    "with pools": [conv(3, padding=1), pool(2), conv(3, dilation=2, padding=2), pool(3, 2, 1), conv(3)],
}


def _units(layers, height, width):
    rows, cols = rf.output_sizes(height, layers)[-1], rf.output_sizes(width, layers)[-1]
    return {(0, 0), (rows - 1, cols - 1), (rows // 2, cols // 3), (rows - 1, 0)}


@pytest.mark.parametrize("name", sorted(GRADIENT_STACKS))
def test_gradient_support_equals_input_support(name):
    layers, height, width = GRADIENT_STACKS[name], 37, 30
    model = rf.build_stack(layers)
    for unit in _units(layers, height, width):
        gradient = rf.gradient_map(model, (height, width), unit)
        assert gradient.shape == (height, width) and gradient.dtype == np.float64
        np.testing.assert_array_equal(gradient > 0, rf.input_support_2d(layers, (height, width), unit))
        counts = np.outer(rf.path_counts(layers, height, unit[0]), rf.path_counts(layers, width, unit[1]))
        # Ones weights: the gradient counts paths; an average pool divides by its window's k * k.
        window = np.prod([layer.kernel_size**2 for layer in layers if layer.kind == "pool"])
        np.testing.assert_allclose(gradient, counts / window, rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", range(3))
def test_gradient_support_equals_input_support_on_random_stacks(seed):
    size = 24
    for layers in _random_stacks(6, size, seed=10 + seed, max_layers=4):
        model = rf.build_stack(layers)
        for unit in _units(layers, size, size):
            np.testing.assert_array_equal(
                rf.gradient_map(model, size, unit) > 0, rf.input_support_2d(layers, size, unit)
            )


def test_gradient_counts_paths_times_channel_paths():
    layers = rf.PRESETS["hybrid (1, 2, 5)"]
    one = rf.gradient_map(rf.build_stack(layers, channels=1), 24, (12, 12))
    three = rf.gradient_map(rf.build_stack(layers, channels=3), 24, (12, 12))
    np.testing.assert_array_equal(three, one * 3 ** (len(layers) + 1))  # C choices per conv, C input channels
    assert one.max() == 4.0 and one[12, 12] == 1.0  # paths pile up off-centre here: see path_counts


def test_random_weights_linear_stack_has_the_same_support():
    for name in ("gridding (2, 2, 2)", "with pools", "strided gaps"):
        layers = GRADIENT_STACKS[name]
        model = rf.build_stack(layers, channels=2, seed=3, weights="random")
        for unit in _units(layers, 30, 30):
            np.testing.assert_array_equal(rf.gradient_map(model, 30, unit) > 0, rf.input_support_2d(layers, 30, unit))


def test_nonlinear_and_max_pool_maps_are_inside_the_support():
    layers = GRADIENT_STACKS["with pools"]
    support = rf.input_support_2d(layers, 30, (4, 4))
    relu = rf.build_stack(layers, channels=1, seed=0, weights="random", relu=True)
    assert not rf.gradient_map(relu, 30, (4, 4), image="zeros").any()  # ReLU'(0) = 0 in torch
    for model in (relu, rf.build_stack(layers, pooling="max")):
        active = rf.gradient_map(model, 30, (4, 4)) > 0
        assert active.any() and not (active & ~support).any() and active.sum() < support.sum()
    # Max pooling passes the gradient to one pixel per window: 9 of the 64 pixels behind two 2x2 pools.
    pools_first = [pool(2), conv(3, padding=1), pool(2)]
    assert (rf.gradient_map(rf.build_stack(pools_first, pooling="max"), 30, (4, 4)) > 0).sum() == 9
    assert rf.input_support_2d(pools_first, 30, (4, 4)).sum() == 64
    assert isinstance(rf.build_stack(layers, pooling="max")[1], nn.MaxPool2d)
    assert isinstance(rf.build_stack(layers)[1], nn.AvgPool2d)
    assert sum(isinstance(m, nn.ReLU) for m in relu) == 2  # after every conv but the last


def test_linear_gradient_does_not_depend_on_the_image_and_leaves_the_model_alone():
    model = rf.build_stack(rf.PRESETS["strided encoder"], channels=2, weights="random")
    before = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():  # works inside no_grad too
        maps = [rf.gradient_map(model, 33, (2, 2), seed=s) for s in (0, 1)]
    zeros = rf.gradient_map(model, 33, (2, 2), image="zeros")
    np.testing.assert_allclose(maps[0], maps[1], rtol=1e-12)
    np.testing.assert_allclose(maps[0], zeros, rtol=1e-12)
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_build_stack_is_reproducible_and_mirrors_the_layers():
    layers = [conv(3, 2, 1, 1), conv(3, 1, 2, 2)]
    a, b = (rf.build_stack(layers, channels=2, seed=5, weights="random") for _ in range(2))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    first = a[0]
    assert (first.kernel_size, first.stride, first.padding, first.dilation) == ((3, 3), (2, 2), (1, 1), (1, 1))
    assert first.bias is None and first.weight.dtype == torch.float64


# ----------------------------------------------------------------------------------------------------------
# Bad input and speed
# ----------------------------------------------------------------------------------------------------------

SMALL = [conv(3, padding=1, name="conv1"), conv(3, dilation=5, name="conv2"), conv(3, name="conv3")]


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: rf.receptive_field([]), ValueError, "layers must hold at least one Layer"),
        (lambda: rf.receptive_field(conv(3)), TypeError, "layers must be a list of Layer"),
        (lambda: rf.receptive_field([conv(3), (3, 1)]), TypeError, r"layers\[1\] must be a Layer"),
        (lambda: rf.input_support(SMALL, 32, 20), ValueError, r"unit must be between 0 and 19 .*20 units.*got 20"),
        (lambda: rf.input_support(SMALL, 32, -1), ValueError, "unit must be >= 0"),
        (lambda: rf.path_counts(SMALL, 32, 1.5), TypeError, "unit must be an integer"),
        (
            lambda: rf.input_support(SMALL, 10, 0),
            ValueError,
            r"input_size 10 is too small for this stack \(it needs at least 13\): layer 1 'conv2' \(conv 3x3",
        ),
        (lambda: rf.output_sizes(0, SMALL), ValueError, "input_size must be >= 1"),
        (lambda: rf.field_of_unit(SMALL, 20, 32), ValueError, "index must be <= 19"),
        (lambda: rf.field_of_unit(SMALL, -1), ValueError, "index must be >= 0"),
        (lambda: rf.input_support_2d(SMALL, (32, 32, 3), (0, 0)), ValueError, r"\(height, width\) pair"),
        (lambda: rf.input_support_2d(SMALL, 32, (0,)), ValueError, r"unit must be a \(row, col\) pair"),
        (lambda: rf.build_stack(SMALL, weights="zeros"), ValueError, "weights must be one of 'ones', 'random'"),
        (lambda: rf.build_stack(SMALL, channels=0), ValueError, "channels must be >= 1"),
        (
            lambda: rf.build_stack([Layer("pool", 2, dilation=2, name="p")]),
            ValueError,
            "layer 0 'p'.*AvgPool2d has no dilation",
        ),
        (lambda: rf.gradient_map(rf.build_stack(SMALL), 32, (0, 20)), ValueError, r"unit \(0, 20\) is outside"),
        (lambda: rf.gradient_map(rf.build_stack(SMALL), 8, (0, 0)), ValueError, "cannot process an input of 8 x 8"),
        (lambda: rf.gradient_map(rf.build_stack(SMALL), 32, (0, 0), image="ones"), ValueError, "image must be"),
        (lambda: rf.gradient_map(SMALL, 32, (0, 0)), TypeError, "model must be a torch.nn.Module"),
    ],
)
def test_bad_input_is_explained(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_arithmetic_and_support_are_cheap_enough_for_a_slider():
    layers = [conv(3, padding=d, dilation=d) for d in (1, 2, 4, 8, 1, 2, 4, 8, 1, 2)]
    for function in (
        lambda: rf.receptive_field(layers),
        lambda: rf.input_support(layers, 128, 64),
        lambda: rf.input_support_2d(layers, 128, (64, 64)),
    ):
        times = []
        for _ in range(50):
            begin = time.perf_counter()
            function()
            times.append(time.perf_counter() - begin)
        assert np.median(times) < 5e-3  # measured: well under 0.5 ms
