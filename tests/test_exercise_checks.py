"""The exercise checkers accept right answers and explain wrong ones."""

import pytest

from vislib.checks import check_conv_output_size, conv_output_size_oracle


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


def test_not_a_function():
    with pytest.raises(TypeError, match="conv_output_size must be callable"):
        check_conv_output_size(3)
