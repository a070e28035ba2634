"""The argument checks every public function uses say what was expected."""

import math

import pytest
import torch

from vislib import _validation


def test_int_checks():
    assert _validation.check_int("n", 3, min_value=1) == 3
    with pytest.raises(TypeError, match=r"n must be an integer, got 2\.5"):
        _validation.check_int("n", 2.5)
    with pytest.raises(TypeError, match="n must be an integer"):
        _validation.check_int("n", True)
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        _validation.check_int("n", 0, min_value=1)


def test_number_checks():
    assert _validation.check_number("x", 1) == 1.0
    with pytest.raises(ValueError, match="x must be finite"):
        _validation.check_number("x", math.nan)
    with pytest.raises(TypeError, match="x must be a real number"):
        _validation.check_number("x", "1")
    with pytest.raises(ValueError, match="x must be <= 2"):
        _validation.check_number("x", 3, max_value=2)


def test_choice_lists_the_options():
    with pytest.raises(ValueError, match="mode must be one of 'a', 'b'; got 'c'"):
        _validation.check_choice("mode", "c", ["a", "b"])


def test_tensor_shape_patterns():
    boxes = torch.zeros(7, 4)
    assert _validation.check_tensor("boxes", boxes, shape=("N", 4), floating=True) is boxes
    with pytest.raises(ValueError, match=r"boxes must have shape \[N, 4\], got \[7, 5\]"):
        _validation.check_tensor("boxes", torch.zeros(7, 5), shape=("N", 4))
    with pytest.raises(ValueError, match=r"x must be a 4-D tensor, got shape \[2, 3\]"):
        _validation.check_tensor("x", torch.zeros(2, 3), ndim=4)
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got"):
        _validation.check_tensor("x", [[0.0]])
    with pytest.raises(TypeError, match="floating-point"):
        _validation.check_tensor("x", torch.zeros(2, dtype=torch.long), floating=True)
