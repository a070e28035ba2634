"""The state of the activation-distribution widget: pure indexing into recorded histories."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vislib._validation import check_choice, check_int, check_type
from vislib.training.recording import STAGES, ActivationHistory

__all__ = ["activation_distribution_state", "ActivationDistributionState", "NetworkSlice"]


@dataclass(frozen=True)
class NetworkSlice:
    """One network's recorded activations for one block and stage."""

    bin_edges: np.ndarray  # [B + 1], fixed over training
    density: np.ndarray  # [B] at the chosen step
    mean: np.ndarray  # [S] over training
    std: np.ndarray  # [S]
    percentiles: np.ndarray  # [S, 3]: 15th, 50th, 85th


@dataclass(frozen=True)
class ActivationDistributionState:
    layer: int
    stage: str
    step_index: int
    step: int
    steps: np.ndarray
    layer_name: str
    plain: NetworkSlice
    batchnorm: NetworkSlice


def _slice(history: ActivationHistory, layer: int, stage: int, step_index: int) -> NetworkSlice:
    return NetworkSlice(
        bin_edges=history.bin_edges[layer, stage],
        density=history.density[step_index, layer, stage],
        mean=history.mean[:, layer, stage],
        std=history.std[:, layer, stage],
        percentiles=history.percentiles[:, layer, stage],
    )


def activation_distribution_state(
    plain: ActivationHistory, batchnorm: ActivationHistory, layer: int, step_index: int, stage: str
) -> ActivationDistributionState:
    """What the widget shows for one block, one recorded step and one stage, for both networks."""
    check_type("plain", plain, ActivationHistory, "an ActivationHistory")
    check_type("batchnorm", batchnorm, ActivationHistory, "an ActivationHistory")
    if not np.array_equal(plain.steps, batchnorm.steps):
        raise ValueError("plain and batchnorm must be recorded at the same steps")
    layer = check_int("layer", layer, min_value=0, max_value=len(plain.layer_names) - 1)
    step_index = check_int("step_index", step_index, min_value=0, max_value=len(plain.steps) - 1)
    stage_index = STAGES.index(check_choice("stage", stage, STAGES))
    return ActivationDistributionState(
        layer=layer,
        stage=stage,
        step_index=step_index,
        step=int(plain.steps[step_index]),
        steps=plain.steps,
        layer_name=plain.layer_names[layer],
        plain=_slice(plain, layer, stage_index, step_index),
        batchnorm=_slice(batchnorm, layer, stage_index, step_index),
    )
