"""The residual notebook's exercise checks: the right answers pass, the usual mistakes are named."""

import pytest
import torch

from vislib.exercises.residual import (
    check_basic_block_forward,
    check_gradient_ratio_prediction,
    measure_plain_gradient_ratio,
)


def correct(block, x):
    out = torch.relu(block.bn1(block.conv1(x)))
    out = block.bn2(block.conv2(out))
    shortcut = block.downsample(x) if block.downsample is not None else x
    return torch.relu(out + shortcut)


def relu_before_addition(block, x):
    out = torch.relu(block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x))))))
    return out + (block.downsample(x) if block.downsample is not None else x)


def no_final_relu(block, x):
    out = block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x)))))
    return out + (block.downsample(x) if block.downsample is not None else x)


def bn_after_relu(block, x):
    out = block.bn1(torch.relu(block.conv1(x)))
    out = block.bn2(torch.relu(block.conv2(out)))
    return torch.relu(out + (block.downsample(x) if block.downsample is not None else x))


def no_shortcut(block, x):
    return torch.relu(block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x))))))


def no_downsample(block, x):
    out = block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x)))))
    return torch.relu(out + x)


def test_the_correct_forward_pass_passes_every_case():
    assert check_basic_block_forward(correct) == 10


@pytest.mark.parametrize(
    "wrong, message",
    [
        (relu_before_addition, "ReLU is applied before the addition"),
        (no_final_relu, "final ReLU after the addition is missing"),
        (bn_after_relu, "BN is in the wrong place"),
        (no_shortcut, "the shortcut is missing"),
        (no_downsample, "block.downsample"),
    ],
)
def test_usual_mistakes_are_named(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_basic_block_forward(wrong)


def test_an_unwritten_exercise_shows_its_own_message():
    def unwritten(block, x):
        raise NotImplementedError("Exercise: write the body of basic_block_forward()")

    with pytest.raises(NotImplementedError, match="Exercise: write the body"):
        check_basic_block_forward(unwritten)


def test_a_non_callable_is_refused():
    with pytest.raises(TypeError, match="basic_block_forward must be callable"):
        check_basic_block_forward("relu(F(x) + x)")


def test_the_measured_ratio_says_the_last_block_gets_far_less_gradient():
    ratios = measure_plain_gradient_ratio(depth=56, seeds=(0,), batch_size=64)
    assert ratios[0] > 100


def test_gradient_ratio_predictions_are_judged_against_the_measurement():
    measured = [1000.0, 2000.0]
    geometric_mean = (1000.0 * 2000.0) ** 0.5
    assert check_gradient_ratio_prediction(lambda: ("last", 1000), measured) == pytest.approx(geometric_mean)
    with pytest.raises(AssertionError, match="the last block's gradient is the smaller one"):
        check_gradient_ratio_prediction(lambda: ("first", 1000), measured)
    with pytest.raises(AssertionError, match="the factor 10 is off"):
        check_gradient_ratio_prediction(lambda: ("last", 10), measured)
    with pytest.raises(AssertionError, match="must return a pair"):
        check_gradient_ratio_prediction(lambda: "last", measured)
    with pytest.raises(AssertionError, match='must be "first" or "last"'):
        check_gradient_ratio_prediction(lambda: ("middle", 10), measured)
    assert check_gradient_ratio_prediction(lambda: ("first", 4), [0.25]) == pytest.approx(0.25)
