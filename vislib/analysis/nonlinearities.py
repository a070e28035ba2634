"""Where pre-activations land on a nonlinearity, and how much gradient they get.

The start-here widget and the batch-norm notebook use this to show why
"mean 0, variance 1 before the activation" is the good domain (Ioffe &
Szegedy 2015, arXiv 1502.03167): shift or widen the distribution of
pre-activations ``z`` and a sigmoid or tanh saturates (its derivative
vanishes), while a ReLU dies (``z < 0``: derivative exactly 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vislib._validation import check_choice, check_int, check_number

__all__ = [
    "activate",
    "activation_response",
    "ActivationResponse",
    "derivative",
    "NONLINEARITIES",
    "OUTPUT_RANGES",
    "SATURATION_LEVEL",
    "Z_BIN_EDGES",
]

NONLINEARITIES = ("sigmoid", "tanh", "relu")

#: A unit is "saturated" where the derivative is below this fraction of its maximum.
SATURATION_LEVEL = 0.1

#: Histogram bins for pre-activations and for each nonlinearity's outputs.
Z_BIN_EDGES = np.linspace(-8.0, 8.0, 81)
OUTPUT_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, 8.0)}


def activate(z: np.ndarray, nonlinearity: str) -> np.ndarray:
    """``nonlinearity(z)`` elementwise."""
    check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
    z = np.asarray(z, dtype=np.float64)
    if nonlinearity == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if nonlinearity == "tanh":
        return np.tanh(z)
    return np.maximum(z, 0.0)


def derivative(z: np.ndarray, nonlinearity: str) -> np.ndarray:
    """d nonlinearity(z) / dz elementwise (ReLU's derivative at 0 is 0, as in PyTorch)."""
    check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
    z = np.asarray(z, dtype=np.float64)
    if nonlinearity == "sigmoid":
        s = activate(z, "sigmoid")
        return s * (1.0 - s)
    if nonlinearity == "tanh":
        return 1.0 - np.tanh(z) ** 2
    return (z > 0).astype(np.float64)


@lru_cache(maxsize=8)
def _standard_normal(samples: int, seed: int) -> np.ndarray:
    values = np.random.default_rng(seed).standard_normal(samples)
    values.setflags(write=False)
    return values


@dataclass(frozen=True)
class ActivationResponse:
    """Pre-activations ``z ~ N(mean, std^2)`` pushed through one nonlinearity."""

    nonlinearity: str
    mean: float
    std: float
    z: np.ndarray  # the samples
    outputs: np.ndarray  # nonlinearity(z)
    gradients: np.ndarray  # nonlinearity'(z)
    saturated_fraction: float  # share of samples with derivative < SATURATION_LEVEL * max
    mean_gradient_ratio: float  # mean derivative / the derivative's maximum
    curve_z: np.ndarray  # a grid for drawing the function itself
    curve_outputs: np.ndarray
    curve_gradients: np.ndarray
    z_density: np.ndarray  # histogram of z over Z_BIN_EDGES, as a density
    output_bin_edges: np.ndarray  # over the nonlinearity's output range
    output_density: np.ndarray


def activation_response(
    mean: float, std: float, nonlinearity: str = "sigmoid", *, samples: int = 20_000, seed: int = 0
) -> ActivationResponse:
    """Sample ``z ~ N(mean, std^2)`` and measure how ``nonlinearity`` treats it."""
    mean = check_number("mean", mean, min_value=-50, max_value=50)
    std = check_number("std", std, min_value=1e-6, max_value=50)
    check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
    samples = check_int("samples", samples, min_value=10, max_value=10_000_000)
    seed = check_int("seed", seed, min_value=0)
    z = mean + std * _standard_normal(samples, seed)
    gradients = derivative(z, nonlinearity)
    peak = derivative(np.array([0.0 if nonlinearity != "relu" else 1.0]), nonlinearity)[0]
    curve_z = np.linspace(-8.0, 8.0, 401)
    outputs = activate(z, nonlinearity)
    output_bin_edges = np.linspace(*OUTPUT_RANGES[nonlinearity], 61)
    return ActivationResponse(
        nonlinearity=nonlinearity,
        mean=mean,
        std=std,
        z=z,
        outputs=outputs,
        gradients=gradients,
        saturated_fraction=float(np.mean(gradients < SATURATION_LEVEL * peak)),
        mean_gradient_ratio=float(np.mean(gradients) / peak),
        curve_z=curve_z,
        curve_outputs=activate(curve_z, nonlinearity),
        curve_gradients=derivative(curve_z, nonlinearity),
        z_density=np.histogram(z, bins=Z_BIN_EDGES, density=True)[0],
        output_bin_edges=output_bin_edges,
        output_density=np.histogram(outputs, bins=output_bin_edges, density=True)[0],
    )
