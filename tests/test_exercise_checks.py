"""The exercise checkers accept right answers and explain wrong ones."""

import pytest

from vislib.exercises.convolution import check_conv_output_size, conv_output_size_oracle


def right(size, kernel, stride=1, padding=0):
    return (size + 2 * padding - kernel) // stride + 1


def test_the_formula_passes_on_every_case():
    assert check_conv_output_size(right) > 300


def test_oracle_is_nn_conv2d():
    assert conv_output_size_oracle(224, 7, 2, 3) == 112
    assert conv_output_size_oracle(32, 3, 1, 1) == 32


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda n, k, s, p: (n - k) // s + 1, "forget the padding"),
        (lambda n, k, s, p: (n + p - k) // s + 1, "use 2 \\* padding"),
        (lambda n, k, s, p: (n + 2 * p - k) // s, r"forget the \+1"),
        (lambda n, k, s, p: (n + 2 * p - k) / s + 1, "fraction"),
        (lambda n, k, s, p: -(-(n + 2 * p - k) // s) + 1, "Round down, not up"),
        (lambda n, k, s, p: n + 2 * p - k + 1, "divide by the stride"),
        (lambda n, k, s, p: "7", "must return an int"),
    ],
)
def test_common_mistakes_get_a_hint(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_conv_output_size(wrong)


def test_forgetting_the_factor_2_on_the_padding_is_not_diagnosed_as_a_missing_plus_1():
    # With stride 1 and padding 1, (n + p - k) // s + 1 gives one too few, as forgetting the +1 does.
    with pytest.raises(AssertionError) as raised:
        check_conv_output_size(lambda n, k, s, p: (n + p - k) // s + 1)
    assert "2 * padding" in str(raised.value) and "+1" not in str(raised.value)


def test_an_unexplained_mistake_gets_no_misleading_hint():
    # One too few whenever padding == 1: two usual mistakes give that number in the first failing case, and
    # neither reproduces the function everywhere, so the checker names none.
    with pytest.raises(AssertionError) as raised:
        check_conv_output_size(lambda n, k, s, p: right(n, k, s, p) - (p == 1))
    assert "Did you" not in str(raised.value) and "both sides" not in str(raised.value)


def test_not_a_function():
    with pytest.raises(TypeError, match="conv_output_size must be callable"):
        check_conv_output_size(3)


# -- batch norm -------------------------------------------------------------------
import torch  # noqa: E402

from vislib.exercises.batchnorm import check_batch_norm, check_fold_batchnorm  # noqa: E402
from vislib.ops import batchnorm  # noqa: E402


def _bn_over(dims, unbiased=False, update_var_unbiased=True, eval_uses_batch=False, affine=True):
    def batch_norm(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
        if training or eval_uses_batch:
            mean = x.mean(dim=dims, keepdim=True)
            var = x.var(dim=dims, keepdim=True, unbiased=unbiased)
            if training:
                n = x.numel() // x.shape[1]
                channel_mean = x.mean(dim=(0, 2, 3))
                channel_var = x.var(dim=(0, 2, 3), unbiased=False) * (n / (n - 1) if update_var_unbiased else 1)
                running_mean.mul_(1 - momentum).add_(momentum * channel_mean)
                running_var.mul_(1 - momentum).add_(momentum * channel_var)
        else:
            mean, var = running_mean.reshape(1, -1, 1, 1), running_var.reshape(1, -1, 1, 1)
        y = (x - mean) / torch.sqrt(var + eps)
        return y * weight.reshape(1, -1, 1, 1) + bias.reshape(1, -1, 1, 1) if affine else y

    return batch_norm


def test_vislib_batch_norm_passes_its_own_check():
    assert check_batch_norm(batchnorm.batch_norm) == 6
    assert check_batch_norm(_bn_over((0, 2, 3))) == 6


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_bn_over((1, 2, 3)), "normalized each image on its own"),
        (_bn_over((2, 3)), "instance norm"),
        (_bn_over((0,)), "over the batch only"),
        (_bn_over((0, 2, 3), unbiased=True), "unbiased variance"),
        (_bn_over((0, 2, 3), update_var_unbiased=False), "running_var differs"),
        (_bn_over((0, 2, 3), eval_uses_batch=True), "normalize with running_mean and running_var"),
        (_bn_over((0, 2, 3), affine=False), "learned scale and shift"),
    ],
)
def test_batch_norm_mistakes_are_named(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_batch_norm(wrong)


def test_fold_check():
    assert check_fold_batchnorm(batchnorm.fold_batchnorm) == 4

    def forgets_conv_bias(conv, bn):
        without = torch.nn.Conv2d(
            conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride, padding=conv.padding, bias=False
        )
        without.weight = conv.weight
        return batchnorm.fold_batchnorm(without, bn)

    with pytest.raises(AssertionError, match="conv's own bias"):
        check_fold_batchnorm(forgets_conv_bias)
