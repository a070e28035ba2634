"""Notebook 03's exercise checkers accept a right answer and name the usual mistakes."""

import pytest
import torch
import torch.nn.functional as F

from vislib.analysis.grouped_conv import conv_counts
from vislib.exercises.grouped_conv import check_grouped_conv2d, check_grouped_conv_counts
from vislib.ops.grouped_conv import grouped_conv2d


def _split(
    input, weight, bias, stride, padding, dilation, groups, *, inputs=None, filters=None, biases=None, keep=None
):
    """A split-convolve-concatenate with pieces a mistaken student might pick."""
    if input.shape[1] % groups or weight.shape[0] % groups:
        raise ValueError("groups must divide the channels")
    inputs = inputs(input, groups) if inputs else input.chunk(groups, dim=1)
    filters = filters(weight, groups) if filters else weight.chunk(groups, dim=0)
    biases = (
        biases(bias, groups)
        if biases and bias is not None
        else (bias.chunk(groups) if bias is not None else [None] * groups)
    )
    outputs = [F.conv2d(x, w, b, stride, padding, dilation) for x, w, b in zip(inputs, filters, biases)]
    return torch.cat(outputs[:keep] if keep else outputs, dim=1)


def test_the_library_version_passes():
    assert check_grouped_conv2d(grouped_conv2d) == 8
    assert check_grouped_conv2d(lambda *args: _split(*args)) == 8


@pytest.mark.parametrize(
    "mistake, message",
    [
        (dict(filters=lambda w, g: [w[i::g] for i in range(g)]), "not every groups-th filter"),
        (dict(inputs=lambda x, g: [x[:, i::g] for i in range(g)]), "not every groups-th channel"),
        (dict(biases=lambda b, g: [None] * g), "You forgot the bias"),
        (dict(biases=lambda b, g: [b[: len(b) // g]] * g), "split the bias like the filters"),
        (dict(keep=1), "Only one group's output came back"),
        (dict(filters=lambda w, g: w.chunk(g, dim=1)), "do not split it along dim 1"),
    ],
)
def test_usual_mistakes_are_named(mistake, message):
    with pytest.raises(AssertionError, match=message):
        check_grouped_conv2d(lambda *args: _split(*args, **mistake))


def test_silent_uneven_groups_and_lost_gradients_are_caught():
    def unchecked(input, weight, bias, stride, padding, dilation, groups):
        outputs = [
            F.conv2d(x, w, None, stride, padding, dilation)
            for x, w in zip(input.chunk(groups, dim=1), weight.chunk(groups, dim=0))
        ]
        out = torch.cat(outputs, dim=1)
        return out if bias is None else out + bias.view(1, -1, 1, 1)

    with pytest.raises(AssertionError, match="4 groups cannot split 6 channels evenly"):
        check_grouped_conv2d(unchecked)

    def detached(*args):
        return grouped_conv2d(*(a.detach() if isinstance(a, torch.Tensor) else a for a in args))

    with pytest.raises(AssertionError, match="carries no gradient"):
        check_grouped_conv2d(detached)
    with pytest.raises(TypeError, match="grouped_conv2d must be callable"):
        check_grouped_conv2d(42)


def _counts(c_in, c_out, kernel, groups, height, width, bias=True):
    c = conv_counts(c_in, c_out, kernel, groups, (height, width), bias)
    return c.parameters, c.multiply_adds


def test_the_counts_formula_passes():
    assert check_grouped_conv_counts(_counts) == 6
    assert (
        check_grouped_conv_counts(
            lambda ci, co, k, g, h, w, bias: (co * ci // g * k * k + co * bias, co * ci // g * k * k * h * w)
        )
        == 6
    )


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda ci, co, k, g, h, w, bias: (co * ci * k * k + co * bias, co * ci // g * k * k * h * w),
            "divide by groups",
        ),
        (lambda ci, co, k, g, h, w, bias: (co * ci // g * k * k, co * ci // g * k * k * h * w), "Add the bias"),
        (
            lambda ci, co, k, g, h, w, bias: (co * ci // g * k * k + co * bias, co * ci * k * k * h * w),
            "not C_in x k x k",
        ),
        (
            lambda ci, co, k, g, h, w, bias: (co * ci // g * k * k + co * bias, co * ci // g * k * k),
            "multiply by height x width",
        ),
        (
            lambda ci, co, k, g, h, w, bias: (co * ci // g * k * k + co * bias, 2 * co * ci // g * k * k * h * w),
            "Count a multiply-add once",
        ),
        (lambda ci, co, k, g, h, w, bias: 7, "must return a pair"),
    ],
)
def test_count_mistakes_are_named(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_grouped_conv_counts(wrong)


def test_an_unwritten_exercise_reaches_the_student_as_not_implemented():
    def unwritten(*args):
        raise NotImplementedError("Exercise: write the body of my_grouped_conv2d")

    with pytest.raises(NotImplementedError, match="my_grouped_conv2d"):
        check_grouped_conv2d(unwritten)
    with pytest.raises(NotImplementedError):
        check_grouped_conv_counts(unwritten)
