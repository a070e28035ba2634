"""The gradient-flow widget's state: pure indexing into precomputed training records.

:class:`GradientFlowRecords` holds, for each depth and for the plain and the
residual network, the per-block gradient sizes at the recorded steps and the
loss curve (numpy arrays, copied out of the training runs once).
:func:`gradient_flow_state` picks what one position of the controls shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vislib._validation import check_choice, check_int, check_type

__all__ = [
    "gradient_flow_state",
    "GradientFlowRecords",
    "GradientFlowState",
    "NetworkRecord",
    "QUANTITIES",
    "QUANTITY_LABELS",
]

QUANTITIES = ("output_grad", "weight_grad")
QUANTITY_LABELS = {
    "output_grad": "RMS of dL/d(block output), log scale",
    "weight_grad": "norm of dL/dW (block's convs), log scale",
}


@dataclass(frozen=True)
class NetworkRecord:
    """One network's recordings: gradients ``[S, B]`` at ``steps`` ``[S]``, the loss at every step ``[T]``."""

    steps: np.ndarray
    output_grad: np.ndarray
    weight_grad: np.ndarray
    losses: np.ndarray


@dataclass(frozen=True)
class GradientFlowRecords:
    """``networks[(depth, residual)]`` -> :class:`NetworkRecord`; every network recorded at the same steps."""

    networks: dict
    depths: tuple[int, ...]
    steps: np.ndarray

    @classmethod
    def from_experiment(cls, experiment, seed: int | None = None) -> GradientFlowRecords:
        """The records of one seed of a :class:`~vislib.training.residual.DegradationExperiment`."""
        networks = {}
        for depth in experiment.depths:
            for residual in (False, True):
                run = experiment.run(depth, residual, seed)
                if run.gradients is None:
                    raise ValueError("the experiment was run without gradient recording (record_every=None)")
                networks[depth, residual] = NetworkRecord(
                    steps=run.gradients.steps,
                    output_grad=run.gradients.output_grad,
                    weight_grad=run.gradients.weight_grad,
                    losses=np.asarray(run.losses, dtype=np.float64),
                )
        longest = max((record.steps for record in networks.values()), key=len)
        return cls(networks=networks, depths=tuple(experiment.depths), steps=longest)


@dataclass(frozen=True)
class GradientFlowState:
    depth: int
    residual: bool
    quantity: str
    quantity_label: str
    step: int  # the recorded step shown (the last one recorded at or before the requested step)
    gradient: np.ndarray  # [B] the chosen network at that step
    twin_gradient: np.ndarray  # [B] the other network (residual <-> plain) at that step
    gradient_limits: tuple[float, float]  # y-range over all steps and both networks of this depth
    losses: np.ndarray  # [T] the chosen network's whole loss curve
    twin_losses: np.ndarray  # [T'] the twin's
    first_to_last: float  # gradient[0] / gradient[-1]
    loss: float  # the chosen network's loss at ``step``
    diverged: bool  # the chosen network stopped before the last recorded step


def gradient_flow_state(
    records: GradientFlowRecords, depth: int, residual: bool, step: int, quantity: str = "output_grad"
) -> GradientFlowState:
    """What the widget shows for one depth, network and training step."""
    check_type("records", records, GradientFlowRecords, "GradientFlowRecords")
    check_choice("depth", depth, records.depths)
    check_type("residual", residual, bool, "True or False")
    step = check_int("step", step, min_value=0, max_value=int(records.steps[-1]))  # the last recorded step
    check_choice("quantity", quantity, QUANTITIES)
    chosen, twin = records.networks[depth, residual], records.networks[depth, not residual]
    index = max(int(np.searchsorted(chosen.steps, step, side="right")) - 1, 0)
    twin_index = min(max(int(np.searchsorted(twin.steps, step, side="right")) - 1, 0), len(twin.steps) - 1)
    values = getattr(chosen, quantity)
    both = np.concatenate([values.ravel(), getattr(twin, quantity).ravel()])
    both = both[both > 0]
    limits = (float(both.min()) / 1.5, float(both.max()) * 1.5) if both.size else (1e-6, 1.0)
    shown_step = int(chosen.steps[index])
    gradient = values[index]
    return GradientFlowState(
        depth=depth,
        residual=residual,
        quantity=quantity,
        quantity_label=QUANTITY_LABELS[quantity],
        step=shown_step,
        gradient=gradient,
        twin_gradient=getattr(twin, quantity)[twin_index],
        gradient_limits=limits,
        losses=chosen.losses,
        twin_losses=twin.losses,
        first_to_last=float(gradient[0] / gradient[-1]) if gradient[-1] > 0 else float("inf"),
        loss=float(chosen.losses[min(shown_step, len(chosen.losses) - 1)]),
        diverged=len(chosen.losses) < int(records.steps[-1]) + 1,
    )
