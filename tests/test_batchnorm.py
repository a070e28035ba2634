"""vislib.ops.batchnorm equals torch.nn.BatchNorm2d / F.batch_norm."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vislib.models.small_cnn import SmallCNN
from vislib.ops import batchnorm

SHAPES = [(64, 16, 32, 32), (2, 3, 4, 5), (1, 4, 3, 3), (7, 1, 1, 2), (5, 6, 1, 1)]


def _reference(channels, momentum=0.1, eps=1e-5):
    torch.manual_seed(channels)
    bn = nn.BatchNorm2d(channels, momentum=momentum, eps=eps)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.normal_()
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 1.5)
    return bn


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("momentum, eps", [(0.1, 1e-5), (0.3, 1e-3)])
def test_training_mode_output_and_running_statistics(shape, momentum, eps):
    bn = _reference(shape[1], momentum, eps)
    running_mean, running_var = bn.running_mean.clone(), bn.running_var.clone()
    x = torch.randn(shape) * 3 + 1
    expected = bn.train()(x)
    ours = batchnorm.batch_norm(x, running_mean, running_var, bn.weight, bn.bias, True, momentum, eps)
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(running_mean, bn.running_mean, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(running_var, bn.running_var, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_evaluation_mode_uses_running_statistics(shape):
    bn = _reference(shape[1])
    x = torch.randn(shape)
    expected = bn.eval()(x)
    running_mean, running_var = bn.running_mean.clone(), bn.running_var.clone()
    ours = batchnorm.batch_norm(x, running_mean, running_var, bn.weight, bn.bias, False)
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-5)
    assert torch.equal(running_mean, bn.running_mean) and torch.equal(running_var, bn.running_var)


def test_gradients_equal_torch():
    x = torch.randn(4, 3, 5, 5, requires_grad=True)
    weight = torch.rand(3, requires_grad=True)
    bias = torch.randn(3, requires_grad=True)
    upstream = torch.randn(4, 3, 5, 5)
    (batchnorm.batch_norm(x, None, None, weight, bias, True) * upstream).sum().backward()
    ours = [t.grad.clone() for t in (x, weight, bias)]
    for t in (x, weight, bias):
        t.grad = None
    (F.batch_norm(x, None, None, weight, bias, True) * upstream).sum().backward()
    for mine, theirs in zip(ours, (x.grad, weight.grad, bias.grad)):
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-4)


def test_statistics_of_the_lecture_example():
    x = torch.randn(64, 16, 32, 32)
    mean, biased, unbiased = batchnorm.batch_statistics(x)
    assert mean.shape == biased.shape == unbiased.shape == (16,)
    torch.testing.assert_close(biased, x.var(dim=(0, 2, 3), unbiased=False))
    torch.testing.assert_close(unbiased, biased * 65536 / 65535)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: batchnorm.batch_norm(torch.zeros(3), None, None, training=True), ValueError, r"\[N, C, \*\]"),
        (
            lambda: batchnorm.batch_norm(torch.zeros(2, 3, 2, 2), torch.zeros(4), torch.ones(4)),
            ValueError,
            r"running_mean must have shape \[3\]",
        ),
        (lambda: batchnorm.batch_norm(torch.zeros(2, 3, 2, 2), None, None), ValueError, "needs running_mean"),
        (
            lambda: batchnorm.batch_norm(torch.zeros(2, 3, 2, 2, dtype=torch.long), None, None, training=True),
            TypeError,
            "floating-point",
        ),
        (lambda: batchnorm.batch_norm(torch.zeros(2, 3, 2, 2), None, None, training="yes"), TypeError, "training"),
        (lambda: batchnorm.batch_statistics(torch.zeros(1, 3, 1, 1)), ValueError, "at least 2 values"),
        (lambda: batchnorm.fold_batchnorm(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(3)), ValueError, "3 features"),
    ],
)
def test_bad_input_is_explained(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    "conv_options",
    [dict(bias=False), dict(bias=True, stride=2, padding=1), dict(bias=True, groups=2, padding=2, dilation=2)],
)
def test_folding_equals_conv_then_bn_in_evaluation_mode(conv_options):
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 6, 3, **conv_options)
    bn = _reference(6).eval()
    x = torch.randn(2, 4, 11, 11)
    folded = batchnorm.fold_batchnorm(conv, bn)
    torch.testing.assert_close(folded(x), bn(conv(x)), atol=1e-5, rtol=1e-4)


def test_block_activations_normalize_per_channel_and_keep_running_statistics():
    torch.manual_seed(0)
    model = SmallCNN("before", width=4)
    norm = model.blocks[0].norm
    before = norm.running_mean.clone(), norm.running_var.clone(), norm.num_batches_tracked.clone()
    images = torch.rand(16, 1, 12, 12)
    captured = batchnorm.block_activations(model, images, layer=0, training=True)
    normalized = captured["normalized"]
    torch.testing.assert_close(normalized.mean(dim=(0, 2, 3)), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(normalized.var(dim=(0, 2, 3), unbiased=False), torch.ones(4), atol=1e-3, rtol=0)
    assert all(
        torch.equal(a, b) for a, b in zip(before, (norm.running_mean, norm.running_var, norm.num_batches_tracked))
    )
    assert model.training
    with pytest.raises(ValueError, match="layer must be between 0 and 2"):
        batchnorm.block_activations(model, images, layer=3, training=False)


def test_batch_means_get_less_noisy_with_larger_batches():
    torch.manual_seed(0)
    model = SmallCNN("before", width=4)
    images = torch.rand(256, 1, 12, 12)
    spread = {b: batchnorm.batch_mean_samples(model, images, b, draws=300).std().item() for b in (2, 32, 256)}
    assert spread[2] > 3 * spread[32] and spread[256] < 1e-5


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batch_norm_accepts_what_functional_batch_norm_accepts(shape):
    # F.batch_norm takes any [N, C, *] input (a linear layer's [N, C] output, a 1-D signal's [N, C, L]).
    torch.manual_seed(0)
    x = torch.randn(*shape)
    mean, var = torch.zeros(shape[1]), torch.ones(shape[1])
    expected_mean, expected_var = mean.clone(), var.clone()
    ours = batchnorm.batch_norm(x, mean, var, training=True, momentum=0.2)
    theirs = torch.nn.functional.batch_norm(x, expected_mean, expected_var, training=True, momentum=0.2)
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(mean, expected_mean)
    torch.testing.assert_close(var, expected_var)
    assert torch.equal(
        batchnorm.batch_norm(x, mean, var, training=1), batchnorm.batch_norm(x, mean, var, training=True)
    )
