"""Grouped convolutions (notebook 03): every number proven against torch.nn / torchvision / FlopCounterMode."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from vislib.analysis.grouped_conv import (
    conv_counts,
    count_multiply_adds,
    depthwise_separable_counts,
    module_counts,
    time_forward,
    time_grouped_layers,
)
from vislib.analysis.parameters import count_parameters
from vislib.data.grouped_conv import load_ilsvrc_top5
from vislib.models.grouped_conv import (
    ResNeXtBottleneck,
    SmallResNeXt,
    bottleneck_width,
    figure3_forms,
    matched_base_width,
)
from vislib.ops.grouped_conv import channel_shuffle, grouped_conv2d
from vislib.states.grouped_conv import (
    LAYOUTS,
    connectivity_matrix,
    connectivity_state,
    divisors,
    group_table,
    shuffle_permutation,
)


def _flops_multiply_adds(module, x):
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(x)
    return counter.get_total_flops() // 2


# -- the op ---------------------------------------------------------------------------------------
CASES = [  # (batch, c_in, h, w, c_out, kernel, groups, stride, padding, dilation, bias)
    (1, 256, 32, 32, 128, 3, 32, 1, 1, 1, False),  # the slide
    (2, 4, 9, 7, 6, 3, 2, 1, 1, 1, True),
    (3, 6, 8, 8, 6, 3, 6, 2, 1, 1, True),  # depthwise, stride 2
    (2, 6, 8, 8, 12, 3, 6, 1, 0, 1, False),  # depthwise with a channel multiplier of 2
    (1, 8, 11, 9, 4, (3, 1), 4, (2, 1), (1, 0), 1, True),  # rectangular kernel, pair stride and padding
    (2, 12, 10, 10, 24, 5, 3, 1, 4, 2, True),  # dilation
    (4, 16, 5, 5, 16, 1, 8, 1, 0, 1, True),  # 1 x 1
    (1, 3, 6, 6, 5, 3, 1, 1, 1, 1, True),  # one group: an ordinary convolution
]


@pytest.mark.parametrize("case", CASES)
def test_grouped_conv2d_equals_f_conv2d_in_values_and_gradients(case):
    batch, c_in, h, w, c_out, kernel, groups, stride, padding, dilation, bias = case
    generator = torch.Generator().manual_seed(0)
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    tensors = [
        torch.randn(batch, c_in, h, w, generator=generator, dtype=torch.float64),
        torch.randn(c_out, c_in // groups, kh, kw, generator=generator, dtype=torch.float64),
        torch.randn(c_out, generator=generator, dtype=torch.float64) if bias else None,
    ]
    mine = [t.clone().requires_grad_(True) if t is not None else None for t in tensors]
    theirs = [t.clone().requires_grad_(True) if t is not None else None for t in tensors]
    out = grouped_conv2d(*mine, stride=stride, padding=padding, dilation=dilation, groups=groups)
    expected = F.conv2d(*theirs, stride=stride, padding=padding, dilation=dilation, groups=groups)
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-10)
    upstream = torch.randn(expected.shape, generator=generator, dtype=torch.float64)
    out.backward(upstream)
    expected.backward(upstream)
    for a, b in zip(mine, theirs):
        if a is not None:
            torch.testing.assert_close(a.grad, b.grad, rtol=1e-10, atol=1e-10)


def test_grouped_conv2d_equals_nn_conv2d_on_the_slides_layer():
    torch.manual_seed(0)
    conv = nn.Conv2d(256, 128, 3, padding=1, groups=32)
    x = torch.randn(2, 256, 32, 32)
    assert conv.weight.shape == (128, 8, 3, 3)
    torch.testing.assert_close(
        grouped_conv2d(x, conv.weight, conv.bias, padding=1, groups=32), conv(x), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize(
    "args, error, message",
    [
        (((2, 6, 5, 5), (4, 2, 3, 3)), ValueError, r"groups=4 must divide the input's 6 channels"),
        (((2, 8, 5, 5), (6, 2, 3, 3)), ValueError, r"groups=4 must divide the 6 filters \(weight.shape\[0\]\)"),
        (
            ((2, 8, 5, 5), (8, 8, 3, 3)),
            ValueError,
            r"weight must have shape \[C_out, C_in / groups, kH, kW\] = "
            r"\[8, 2, kH, kW\]",
        ),
        (((8, 5, 5), (8, 2, 3, 3)), ValueError, r"input must be a 4-D tensor \[N, C_in, H, W\].*input\[None\]"),
        (((2, 8, 5, 5), (8, 2, 3)), ValueError, r"weight must be a 4-D tensor"),
    ],
)
def test_bad_input_is_explained(args, error, message):
    x, w = (torch.zeros(shape) for shape in args)
    with pytest.raises(error, match=message):
        grouped_conv2d(x, w, groups=4)


def test_bad_bias_groups_and_types_are_explained():
    x, w = torch.zeros(1, 8, 5, 5), torch.zeros(8, 2, 3, 3)
    with pytest.raises(ValueError, match=r"bias must have shape \[C_out\] = \[8\]"):
        grouped_conv2d(x, w, torch.zeros(2), groups=4)
    with pytest.raises(TypeError, match="groups must be an integer"):
        grouped_conv2d(x, w, groups=4.0)
    with pytest.raises(ValueError, match="groups must be >= 1"):
        grouped_conv2d(x, w, groups=0)
    with pytest.raises(TypeError, match="input must be a torch.Tensor"):
        grouped_conv2d(np.zeros((1, 8, 5, 5)), w, groups=4)


@pytest.mark.parametrize("channels, groups", [(8, 2), (12, 3), (16, 16), (6, 1)])
def test_channel_shuffle_equals_torchvisions(channels, groups):
    from torchvision.models.shufflenetv2 import channel_shuffle as torchvision_shuffle

    x = torch.randn(2, channels, 3, 4)
    torch.testing.assert_close(channel_shuffle(x, groups), torchvision_shuffle(x, groups), rtol=0, atol=0)
    source = shuffle_permutation(channels, groups)
    torch.testing.assert_close(channel_shuffle(x, groups), x[:, torch.as_tensor(source)], rtol=0, atol=0)
    with pytest.raises(ValueError, match="must divide x's"):
        channel_shuffle(torch.zeros(1, 6, 2, 2), 4)


# -- counts ---------------------------------------------------------------------------------------
def test_the_slides_counts():
    dense = conv_counts(256, 128, 3, 1, 32, bias=False)
    grouped = conv_counts(256, 128, 3, 32, 32, bias=False)
    assert (dense.parameters, grouped.parameters) == (294_912, 9_216)
    assert dense.multiply_adds == 294_912 * 32 * 32 and grouped.multiply_adds == 9_216 * 32 * 32
    assert dense.parameters // grouped.parameters == 32


@pytest.mark.parametrize(
    "c_in, c_out, kernel, groups, size, bias",
    [
        (256, 128, 3, 32, 32, False),
        (64, 64, 3, 64, 8, True),
        (12, 18, 5, 3, 7, True),
        (32, 64, 1, 1, 4, True),
        (16, 16, (3, 1), 4, 6, False),
    ],
)
def test_counts_equal_the_modules_parameters_and_pytorchs_flop_counter(c_in, c_out, kernel, groups, size, bias):
    pad = (kernel[0] // 2, kernel[1] // 2) if isinstance(kernel, tuple) else kernel // 2
    conv = nn.Conv2d(c_in, c_out, kernel, padding=pad, groups=groups, bias=bias)
    counts = module_counts(conv, size)
    assert counts == conv_counts(c_in, c_out, kernel, groups, size, bias)
    assert counts.weights == conv.weight.numel()
    assert counts.parameters == sum(p.numel() for p in conv.parameters())
    x = torch.zeros(1, c_in, size, size)
    assert counts.multiply_adds == _flops_multiply_adds(conv, x)
    assert count_multiply_adds(conv, x)["total"] == counts.multiply_adds


def test_hook_counts_equal_the_flop_counter_on_whole_networks():
    for model, x in (
        (SmallResNeXt(8, 14), torch.zeros(3, 1, 16, 16)),
        (torchvision.models.resnext50_32x4d(weights=None).layer1, torch.zeros(2, 64, 16, 16)),
    ):
        counted = count_multiply_adds(model, x)
        assert counted["total"] * x.shape[0] == _flops_multiply_adds(model, x)
        assert counted["total"] == sum(v for k, v in counted.items() if k != "total")


def test_depthwise_separable_counts():
    counts = depthwise_separable_counts(256, 128, 3, 32)
    assert counts["depthwise"].weights == nn.Conv2d(256, 256, 3, groups=256).weight.numel() == 2_304
    assert counts["pointwise"].weights == 256 * 128
    assert counts["separable"].weights == 2_304 + 32_768
    assert counts["dense"].multiply_adds / counts["separable"].multiply_adds == pytest.approx(
        1 / (1 / 128 + 1 / 9)
    )  # MobileNet's ratio 1/N + 1/k^2


def test_counting_rejects_groups_that_do_not_divide():
    with pytest.raises(ValueError, match="groups=3 must divide both in_channels=8"):
        conv_counts(8, 9, 3, 3)
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        conv_counts(8, 8, (3, 3, 3))


def test_timing_measures_for_real():
    timings = time_grouped_layers(16, 16, size=8, batch=2, groups=(1, 4, 16), repeats=2)
    assert [t.groups for t in timings] == [1, 4, 16]
    assert [t.multiply_adds for t in timings] == [16 * 16 * 9 * 64 * 2 // g for g in (1, 4, 16)]
    assert all(t.seconds > 0 and t.multiply_adds_per_second > 0 for t in timings)
    model = nn.Conv2d(4, 4, 3)
    model.train()
    threads = torch.get_num_threads()
    for clock in ("auto", "cpu", "wall"):
        assert time_forward(model, torch.zeros(1, 4, 8, 8), repeats=2, warmup=0, clock=clock) > 0
    assert model.training and torch.get_num_threads() == threads  # mode and thread count restored
    with pytest.raises(ValueError, match="clock must be one of 'auto', 'wall', 'cpu'"):
        time_forward(model, torch.zeros(1, 4, 8, 8), clock="gpu")


# -- models ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [0, 1])
def test_resnext_bottleneck_loads_torchvisions_state_dict_and_gives_the_same_output(index):
    torch.manual_seed(0)
    reference = torchvision.models.resnext50_32x4d(weights=None).layer1[index]
    for module in reference.modules():  # non-trivial batch-norm statistics and affine parameters
        if isinstance(module, nn.BatchNorm2d):
            with torch.no_grad():
                module.running_mean.normal_()
                module.running_var.uniform_(0.5, 2)
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_()
    assert reference.conv2.weight.shape == (128, 4, 3, 3)
    inplanes = 64 if index == 0 else 256
    downsample = None
    if index == 0:
        downsample = nn.Sequential(nn.Conv2d(64, 256, 1, bias=False), nn.BatchNorm2d(256))
    mine = ResNeXtBottleneck(inplanes, 64, downsample=downsample, groups=32, base_width=4)
    assert bottleneck_width(64, 4, 32) == 128
    mine.load_state_dict(reference.state_dict())  # strict: every name and shape matches
    x = torch.randn(2, inplanes, 14, 14)
    for train in (False, True):
        reference.train(train), mine.train(train)
        torch.testing.assert_close(mine(x.clone()), reference(x.clone()), rtol=1e-5, atol=1e-5)


def test_figure3_forms_are_equal_with_shared_weights():
    paths, concatenated, grouped = figure3_forms(256, 32, 4, seed=0)
    x = torch.randn(2, 256, 8, 8)
    with torch.no_grad():
        a, b, c = paths(x), concatenated(x), grouped(x)
    torch.testing.assert_close(a, c, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(b, c, rtol=1e-4, atol=1e-4)
    assert count_parameters(paths) == count_parameters(concatenated) == count_parameters(grouped) == 70_144
    assert grouped.conv2.weight.shape == (128, 4, 3, 3)


def test_the_resnet_bottleneck_of_the_same_budget():
    resnet = torchvision.models.resnet50(weights=None).layer1[1]  # 256 -> 64 -> 64 -> 256
    convs = sum(m.weight.numel() for m in resnet.modules() if isinstance(m, nn.Conv2d))
    assert convs == 69_632  # the paper's "~70k" for both blocks


def test_small_resnexts_have_matched_parameters_and_check_their_input():
    budget = count_parameters(SmallResNeXt(1, 64))
    for groups in (1, 4, 8, 32):
        model = SmallResNeXt(groups, matched_base_width(groups, budget))
        assert abs(count_parameters(model) - budget) / budget < 0.1
        assert model.blocks[0].conv2.groups == groups
        assert model(torch.zeros(2, 1, 16, 16)).shape == (2, 10)
    with pytest.raises(ValueError, match=r"x must have shape \[N, 1, H, W\]"):
        SmallResNeXt(4, 24)(torch.zeros(2, 3, 16, 16))
    with pytest.raises(ValueError, match="the groups would be empty"):
        SmallResNeXt(4, 2)


def test_compare_groups_trains_each_net_and_summarizes():
    from vislib.data.digits import load_digits
    from vislib.training.grouped_conv import compare_groups

    data = load_digits(16)
    comparison = compare_groups(data, (1, 8), seeds=(0, 1), steps=2, timing_repeats=1, show_progress=False)
    assert len(comparison.runs) == 4
    summary = comparison.summary()
    assert [s.groups for s in summary] == [1, 8]
    assert all(len(s.accuracies) == 2 and 0 <= s.mean <= 1 and s.spread >= 0 and s.forward_seconds > 0 for s in summary)
    assert summary[0].parameters == count_parameters(SmallResNeXt(1, 64))


# -- the widget's state ------------------------------------------------------------------------------
def _dependence(channels, groups, layout):
    """Which inputs each output of real 1 x 1 grouped convolutions depends on, from the Jacobian."""
    torch.manual_seed(0)
    first = nn.Conv2d(channels, channels, 1, groups=groups, bias=False)
    second = nn.Conv2d(channels, channels, 1, groups=groups, bias=False)
    with torch.no_grad():  # no accidental zeros
        first.weight.uniform_(0.5, 1.5), second.weight.uniform_(0.5, 1.5)

    def network(x):
        h = first(x)
        if layout == LAYOUTS[0]:
            return h
        if layout == LAYOUTS[2]:
            h = channel_shuffle(h, groups)
        return second(h)

    jacobian = torch.autograd.functional.jacobian(
        lambda v: network(v.view(1, channels, 1, 1)).flatten(), torch.ones(channels)
    )
    return (jacobian != 0).numpy()


@pytest.mark.parametrize(
    "channels, groups, layout", list(itertools.product([8, 16], [1, 2, 4, 8], LAYOUTS)) + [(12, 3, LAYOUTS[2])]
)
def test_connectivity_state_equals_the_dependence_of_real_convolutions(channels, groups, layout):
    state = connectivity_state(channels, groups, layout)
    np.testing.assert_array_equal(state.reach, _dependence(channels, groups, layout))
    weight = nn.Conv2d(channels, channels, 3, groups=groups).weight
    np.testing.assert_array_equal(state.first, _dependence(channels, groups, LAYOUTS[0]))
    assert state.counts.weights == weight.numel()
    assert state.crosses_groups == (groups > 1 and layout == LAYOUTS[2] and channels // groups > 1)


def test_connectivity_matrix_of_unequal_channels_equals_a_real_layers_dependence():
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 12, 1, groups=4, bias=False)
    with torch.no_grad():
        conv.weight.uniform_(0.5, 1.5)
    jacobian = torch.autograd.functional.jacobian(lambda v: conv(v.view(1, 8, 1, 1)).flatten(), torch.ones(8))
    np.testing.assert_array_equal(connectivity_matrix(8, 12, 4), (jacobian != 0).numpy())
    with pytest.raises(ValueError, match="groups=3 must divide both the 8 input channels and the 12 filters"):
        connectivity_matrix(8, 12, 3)


def test_the_table_and_the_shuffle_spread():
    table = group_table(16, LAYOUTS[2])
    assert [row.groups for row in table] == divisors(16) == [1, 2, 4, 8, 16]
    assert [row.counts.weights for row in table] == [16 * 16 * 9 // g for g in (1, 2, 4, 8, 16)]
    shuffled = {row.groups: row.reached_fraction for row in table}
    stacked = {row.groups: row.reached_fraction for row in group_table(16, LAYOUTS[1])}
    assert shuffled[4] == 1.0 and stacked[4] == 0.25  # 4 groups of 4: the shuffle reaches every input
    assert shuffled[16] == stacked[16] == 1 / 16  # depthwise: nothing to shuffle between
    with pytest.raises(ValueError, match=r"groups=3 must divide the 16 channels; choose one of \[1, 2, 4, 8, 16\]"):
        connectivity_state(16, 3)
    with pytest.raises(ValueError, match="layout must be one of"):
        connectivity_state(16, 4, "three layers")


def test_the_widget_redraws_and_refuses_bad_groups():
    from vislib.widgets.grouped_conv import connectivity_widget

    widget = connectivity_widget()
    before = widget.image.value
    widget.set(groups=8, layout=LAYOUTS[2])
    assert widget.image.value != before and widget.last_state.groups == 8
    assert widget.set(channels=8, groups=16) == {}
    assert "groups=16 must divide the 8 channels" in widget.message.value
    widget.set(groups=2)
    assert widget.message.value == "" and widget.last_state.channels == 8


def test_plots_draw():
    from vislib.plotting import new_figure
    from vislib.plotting.grouped_conv import (
        plot_accuracy_by_groups,
        plot_connectivity,
        plot_ilsvrc_top5,
        plot_time_against_multiply_adds,
    )
    from vislib.training.grouped_conv import GroupSummary

    figure, axes = new_figure(1, 3)
    plot_connectivity(axes, connectivity_state(8, 2, LAYOUTS[2]))
    figure, ax = new_figure()
    plot_ilsvrc_top5(ax, load_ilsvrc_top5())
    plot_accuracy_by_groups(
        ax,
        [
            GroupSummary(1, 64, 30000, 3_000_000, (0.9, 0.92), 0.01),
            GroupSummary(4, 26, 31000, 3_100_000, (0.93,), 0.02),
        ],
    )
    figure, axes = new_figure(1, 2)
    plot_time_against_multiply_adds(axes, time_grouped_layers(8, 8, size=4, batch=1, groups=(1, 8), repeats=1))
    figure.canvas.draw()


# -- the ImageNet table ----------------------------------------------------------------------------------
def test_ilsvrc_table_has_a_source_for_every_number():
    rows = load_ilsvrc_top5()
    entries = sorted((r for r in rows if r["kind"] == "entry"), key=lambda r: r["year"])
    assert [r["year"] for r in entries] == list(range(2012, 2018))
    assert entries[0]["model"].startswith("AlexNet") and entries[-1]["model"] == "SENet"
    errors = [r["top5_error_percent"] for r in entries]
    assert errors == sorted(errors, reverse=True)
    assert {r["kind"] for r in rows} == {"entry", "baseline", "human"}
    for row in rows:
        assert row["source"] and row["checked"] in ("source text", "secondary", "not re-checked")
    with pytest.raises(FileNotFoundError, match="assets/ilsvrc_top5.csv"):
        load_ilsvrc_top5("/nonexistent.csv")


def test_figure3_forms_are_reproducible_and_leave_the_random_state_alone():
    state = torch.random.get_rng_state()
    first, second = figure3_forms(16, 4, 2, seed=5), figure3_forms(16, 4, 2, seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(first[2].conv2.weight, second[2].conv2.weight)
    with pytest.raises(ValueError, match="cardinality must be >= 1"):
        figure3_forms(16, 0, 2)
