"""Atrous convolution (vislib.ops.dilation, vislib.states.receptive_field), its widget and its exercise checks:
dilated convolution equals the zero-inserted kernel, the output-size formula equals torch,
the explorer's state equals vislib.analysis.receptive_field."""

import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vislib.analysis import receptive_field as rf
from vislib.analysis.receptive_field import (
    average_gradient_map,
    cached_gradient_map,
    conv,
    mass_radius,
    pool,
    with_dilations,
)
from vislib.data.photos import ASTRONAUT_HEAD, load_grey_photo
from vislib.exercises.dilation import _dilated_cases, check_dilated_output_size, dilated_output_size_oracle
from vislib.exercises.receptive_field import (
    RECEPTIVE_FIELD_STACKS,
    _rf_variant,
    check_receptive_field_sizes,
    receptive_field_sizes_oracle,
)
from vislib.ops.dilation import (
    dilate_kernel,
    dilated_output_size,
    same_padding,
    sampling_grid,
    sampling_offsets,
    valid_tap_fraction,
)
from vislib.states.receptive_field import ReceptiveFieldExplorer


@pytest.mark.parametrize("seed", range(12))
def test_dilated_convolution_equals_zero_inserted_kernel(seed):
    rng = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    k_h, k_w = rng.randint(1, 4), rng.randint(1, 4)
    dilation, stride, padding = rng.randint(1, 4), rng.randint(1, 3), rng.randint(0, 4)
    c_in, c_out, groups = rng.choice([(2, 4, 1), (3, 6, 3), (1, 1, 1)])
    span_h, span_w = dilation * (k_h - 1) + 1, dilation * (k_w - 1) + 1
    x = torch.randn(
        2, c_in, max(span_h, rng.randint(5, 20)), max(span_w, rng.randint(5, 20)), generator=g, dtype=torch.float64
    )
    w = torch.randn(c_out, c_in // groups, k_h, k_w, generator=g, dtype=torch.float64)
    dense = dilate_kernel(w, dilation)
    assert dense.shape == (c_out, c_in // groups, span_h, span_w)
    assert torch.count_nonzero(dense) == torch.count_nonzero(w)
    dilated = F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
    torch.testing.assert_close(F.conv2d(x, dense, stride=stride, padding=padding, groups=groups), dilated)


def test_dilate_kernel_positions_and_bad_input():
    w = torch.arange(1.0, 10.0).reshape(3, 3)
    out = dilate_kernel(w, 2)
    assert out.shape == (5, 5) and torch.equal(out[::2, ::2], w) and out[1].abs().sum() == 0
    assert torch.equal(dilate_kernel(w, 1), w)
    with pytest.raises(ValueError, match="dilation"):
        dilate_kernel(w, 0)
    with pytest.raises(TypeError, match="weight"):
        dilate_kernel(w.numpy(), 2)


def test_sampling_positions():
    assert sampling_offsets(3, 1).tolist() == [-1, 0, 1]
    assert sampling_offsets(3, 4).tolist() == [-4, 0, 4]
    assert sampling_offsets(5, 2).tolist() == [-4, -2, 0, 2, 4]
    rows, cols = sampling_grid((10, 20), 3, 2)
    assert sorted(set(rows.tolist())) == [8, 10, 12] and sorted(set(cols.tolist())) == [18, 20, 22]
    assert len(rows) == 9 and (rows[4], cols[4]) == (10, 20)
    # The positions are where a dilated convolution reads: a one-hot weight at tap (i, j) picks them.
    x = torch.arange(30 * 30, dtype=torch.float64).reshape(1, 1, 30, 30)
    for tap, (r, c) in enumerate(zip(rows, cols)):
        w = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
        w.view(-1)[tap] = 1
        out = F.conv2d(x, w, padding=2, dilation=2)
        assert out[0, 0, 10, 20].item() == x[0, 0, r, c].item()
    with pytest.raises(ValueError, match="center"):
        sampling_grid((1, 2, 3))


def test_dilated_output_size_equals_conv2d():
    for size, k, s, p, d in _dilated_cases():
        expected = torch.nn.Conv2d(1, 1, k, s, p, d)(torch.zeros(1, 1, size, size)).shape[-1] if size < 20 else None
        got = dilated_output_size(size, k, s, p, d)
        assert got == dilated_output_size_oracle(size, k, s, p, d)
        if expected is not None:
            assert got == expected
        assert got == rf.output_size(size, conv(k, s, p, d))
    with pytest.raises(ValueError, match="spans 13 pixels"):
        dilated_output_size(8, 3, dilation=6)
    with pytest.raises(TypeError, match="stride"):
        dilated_output_size(8, 3, stride=1.5)
    assert same_padding(3, 6) == 6 and same_padding(5, 2) == 4


def test_valid_tap_fraction_equals_brute_force():
    for size in (4, 8, 12):
        for rate in (1, 2, 4, 8, 12):
            ones = torch.ones(1, 1, size, size)
            counts = F.conv2d(ones, torch.ones(1, 1, 3, 3), padding=rate, dilation=rate)
            assert valid_tap_fraction(size, 3, rate) == pytest.approx(counts.mean().item() / 9)
    assert valid_tap_fraction(8, 3, 8) == pytest.approx(1 / 9)


def test_with_dilations_keeps_same_padding():
    stack = rf.PRESETS["gridding (2, 2, 2)"]
    edited = with_dilations(stack, [1, 0, 5])
    assert [layer.dilation for layer in edited] == [1, 2, 5]
    assert [layer.padding for layer in edited] == [1, 2, 5]
    assert rf.output_sizes(64, edited)[-1] == 64
    assert [info.size for info in rf.receptive_field(edited)] == [3, 7, 17]
    strided = with_dilations([conv(3, 2, 0), pool(2), conv(3, 1, 1)], [3, 2, 4])
    assert strided[0].padding == 0 and strided[0].dilation == 3  # not same-padded: padding kept
    assert strided[1] == pool(2) and strided[2].dilation == 2 and strided[2].padding == 2
    with pytest.raises(ValueError, match=r"dilations\[0\]"):
        with_dilations(stack, [-1])


def test_explorer_state_equals_receptive_field_functions():
    explorer = ReceptiveFieldExplorer(64)
    rng = random.Random(0)
    for _ in range(25):
        preset = rng.choice(list(explorer.presets))
        dilations = [rng.choice([0, 1, 2, 3, 5]) for _ in range(4)]
        row, col = rng.randrange(64), rng.randrange(64)
        state = explorer.state(preset, *dilations, row=row, col=col)
        layers = list(state.layers)
        assert state.layers == explorer.stack(preset, dilations)
        out = rf.output_sizes(64, layers)[-1]
        assert state.output_size == out and all(0 <= u < out for u in state.unit)
        assert state.field == rf.field_of_unit_2d(layers, state.unit)
        np.testing.assert_array_equal(state.support, rf.input_support_2d(layers, 64, state.unit))
        # The cached gradient is gradient_map's; for ones weights it counts paths (Luo et al.), divided by the
        # window size of each average pooling on the way.
        expected = np.outer(rf.path_counts(layers, 64, state.unit[0]), rf.path_counts(layers, 64, state.unit[1]))
        pooling = np.prod([layer.kernel_size**2 for layer in layers if layer.kind == "pool"])
        np.testing.assert_allclose(state.gradient * pooling, expected, rtol=1e-9)
        np.testing.assert_array_equal(state.gradient > 0, state.support)
        assert state.size == rf.receptive_field(layers)[-1].size
        assert state.holes >= 0 and state.reached <= state.field_pixels
        assert 1 <= state.effective_size <= 2 * 64 + 1
    # The unit is the one whose field centre is nearest the chosen pixel.
    state = explorer.state("strided encoder", row=40, col=9)
    centers = [rf.receptive_field(list(state.layers))[-1].center + i * 8 for i in range(state.output_size)]
    assert state.unit == (
        int(np.argmin(np.abs(np.subtract(centers, 40)))),
        int(np.argmin(np.abs(np.subtract(centers, 9)))),
    )


def test_explorer_teaches_gridding():
    explorer = ReceptiveFieldExplorer(64)
    gridding = explorer.state("gridding (2, 2, 2)", row=32, col=32)
    hybrid = explorer.state("hybrid (1, 2, 5)", row=32, col=32)
    assert (gridding.size, hybrid.size) == (13, 17)
    assert gridding.reached == 7 * 7 and gridding.holes == 13 * 13 - 49
    assert hybrid.holes == 0 and hybrid.reached == 17 * 17
    edited = explorer.state("gridding (2, 2, 2)", d1=1, d3=5, row=32, col=32)
    assert edited.dilations == (1, 2, 5) and edited.holes == 0


def test_explorer_bad_input_and_cache():
    explorer = ReceptiveFieldExplorer(64)
    with pytest.raises(ValueError, match="preset"):
        explorer.state("no such stack")
    with pytest.raises(ValueError, match="row"):
        explorer.state("hybrid (1, 2, 5)", row=64)
    with pytest.raises(ValueError, match="needs an input of at least"):
        ReceptiveFieldExplorer(16)
    small = ReceptiveFieldExplorer(16, presets={"three": [conv(3)] * 3})  # unpadded: dilation 8 needs 49 px
    with pytest.raises(ValueError, match="do not fit"):
        small.state("three", 8, 8, 8, row=3, col=3)
    cached_gradient_map.cache_clear()
    explorer.warm_up()
    hits = cached_gradient_map.cache_info().hits
    explorer.state("hybrid (1, 2, 5)", row=32, col=32)
    assert cached_gradient_map.cache_info().hits == hits + 1
    assert not explorer.state("hybrid (1, 2, 5)", row=32, col=32).gradient.flags.writeable


def test_average_gradient_map_and_mass_radius():
    layers = rf.PRESETS["plain 3x3 x4"]
    erf = average_gradient_map(layers, 32, (16, 16), seeds=2, channels=2)
    support = rf.input_support_2d(layers, 32, (16, 16))
    assert erf.shape == (32, 32) and np.all(erf[~support] == 0) and erf.max() > 0
    weights = np.zeros((9, 9))
    weights[4, 4] = 1
    assert mass_radius(weights, (4, 4)) == 0
    weights[4, 8] = 1
    assert mass_radius(weights, (4, 4), 0.9) == 4
    assert mass_radius(weights, (4, 4), 0.5) == 0
    assert load_grey_photo("astronaut", 32, crop=ASTRONAUT_HEAD).shape == (32, 32)


def _pixels(jpeg: bytes) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=float)


def test_widget_fast_path_matches_a_full_redraw():
    from vislib.widgets.receptive_field import receptive_field_widget

    widget = receptive_field_widget()
    rng = random.Random(1)
    for _ in range(12):
        widget.set(
            preset=rng.choice(list(widget.controls["preset"].options)),
            d1=rng.choice([0, 1, 2]),
            d2=rng.choice([0, 2, 4]),
            row=rng.randrange(64),
            col=rng.randrange(64),
        )
    fresh = receptive_field_widget(preset=widget.values()["preset"])
    fresh.set(**widget.values())
    assert widget.last_state.field == fresh.last_state.field
    assert np.mean(np.abs(_pixels(widget.image.value) - _pixels(fresh.image.value)) > 24) < 0.002  # JPEG noise

    # A dilation slider for a conv layer the stack lacks is disabled, with a note.
    widget.set(preset="gridding (2, 2, 2)")
    assert widget.controls["d4"].disabled and not widget.controls["d3"].disabled
    notes = [child.value for child in widget.widget.children if "conv layers" in getattr(child, "value", "")]
    assert notes and "conv4 dilation slider is disabled" in notes[0]
    widget.set(preset="plain 3x3 x4")
    assert not any(widget.controls[f"d{i}"].disabled for i in range(1, 5))
    assert not any("conv layers" in getattr(child, "value", "") for child in widget.widget.children)


def test_exercise_checks_accept_references_and_name_mistakes():
    assert check_dilated_output_size(dilated_output_size) > 300

    def no_dilation(n, k, s=1, p=0, d=1):
        return (n + 2 * p - k) // s + 1

    def d_times_k(n, k, s=1, p=0, d=1):
        return (n + 2 * p - d * k) // s + 1

    def no_padding(n, k, s=1, p=0, d=1):
        return (n - d * (k - 1) - 1) // s + 1

    def true_division(n, k, s=1, p=0, d=1):
        return (n + 2 * p - d * (k - 1) - 1) / s + 1

    for wrong, message in (
        (no_dilation, "forget the dilation"),
        (d_times_k, "not d \\* k"),
        (no_padding, "forget the padding"),
        (true_division, "integer division"),
    ):
        with pytest.raises(AssertionError, match=message):
            check_dilated_output_size(wrong)

    assert check_receptive_field_sizes(receptive_field_sizes_oracle) == len(RECEPTIVE_FIELD_STACKS)
    hand_derived = {
        ((3, 1, 2),) * 3: [5, 9, 13],
        ((3, 1, 1), (3, 1, 2), (3, 1, 5)): [3, 7, 17],
        ((3, 1, 1), (3, 1, 2), (3, 1, 4), (3, 1, 8)): [3, 7, 15, 31],
        ((3, 2, 1), (3, 1, 1), (3, 2, 1), (3, 1, 1)): [3, 7, 11, 19],
    }
    for layers, sizes in hand_derived.items():
        assert receptive_field_sizes_oracle(list(layers)) == sizes
    for options, message in (
        ({"use_dilation": False}, "forget the dilation"),
        ({"use_jump": False}, "jump"),
        ({"jump_after": True}, "after adding"),
        ({"start": 0}, "r = 1"),
    ):
        with pytest.raises(AssertionError, match=message):
            check_receptive_field_sizes(lambda layers, o=options: _rf_variant(layers, **o))
    with pytest.raises(AssertionError, match="one per layer"):
        check_receptive_field_sizes(lambda layers: [])
