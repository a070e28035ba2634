"""The start-here widget's numbers, checked against torch.nn and autograd."""

import numpy as np
import pytest
import torch

from vislib.analysis.nonlinearities import NONLINEARITIES, activate, activation_response, derivative

TORCH_MODULES = {"sigmoid": torch.nn.Sigmoid(), "tanh": torch.nn.Tanh(), "relu": torch.nn.ReLU()}


@pytest.mark.parametrize("name", NONLINEARITIES)
def test_function_and_derivative_equal_torch(name):
    z = torch.linspace(-9, 9, 1001, dtype=torch.float64, requires_grad=True)
    output = TORCH_MODULES[name](z)
    output.sum().backward()
    np.testing.assert_allclose(activate(z.detach().numpy(), name), output.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(derivative(z.detach().numpy(), name), z.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_saturation_grows_as_the_distribution_leaves_the_good_domain():
    centred = activation_response(0.0, 1.0, "sigmoid")
    shifted = activation_response(4.0, 1.0, "sigmoid")
    wide = activation_response(0.0, 5.0, "sigmoid")
    assert centred.saturated_fraction < 0.01
    assert shifted.saturated_fraction > 0.5 and wide.saturated_fraction > 0.4
    assert centred.mean_gradient_ratio > shifted.mean_gradient_ratio


def test_saturated_fraction_matches_the_normal_distribution():
    # sigmoid'(z) < 0.1 * 0.25  <=>  abs(z) > 2 artanh(sqrt(0.9)) = 3.637; for z = 2 N(0, 1), P = 0.069
    response = activation_response(0.0, 2.0, "sigmoid", samples=400_000)
    threshold = 2 * np.arctanh(np.sqrt(0.9))
    from math import erf, sqrt

    expected = 1 - erf(threshold / 2.0 / sqrt(2))
    assert response.saturated_fraction == pytest.approx(expected, abs=3e-3)


def test_relu_dead_fraction_is_the_negative_half():
    response = activation_response(0.0, 1.0, "relu", samples=200_000)
    assert response.saturated_fraction == pytest.approx(0.5, abs=5e-3)


def test_histograms_are_densities():
    response = activation_response(0.5, 1.0, "tanh")
    assert np.sum(response.z_density * np.diff(np.linspace(-8, 8, 81))) == pytest.approx(1.0, abs=1e-6)
    assert np.sum(response.output_density * np.diff(response.output_bin_edges)) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(mean=0, std=0), ValueError, "std must be >="),
        (dict(mean="0", std=1), TypeError, "mean must be a real number"),
        (dict(mean=0, std=1, nonlinearity="gelu"), ValueError, "nonlinearity must be one of"),
        (dict(mean=0, std=1, samples=1), ValueError, "samples must be >= 10"),
    ],
)
def test_bad_input_is_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        activation_response(**kwargs)
