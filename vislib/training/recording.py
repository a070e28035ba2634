"""Recording per-layer activation statistics while a network trains.

An :class:`ActivationRecorder` hooks every block of a
:class:`~vislib.models.small_cnn.SmallCNN` and, at the steps it is told to,
records each block's activations at two stages:

* ``"before"`` normalization: the convolution's output;
* ``"after"`` normalization: the input of the nonlinearity (the
  pre-activation). Without batch norm the two are the same values.

For each (step, block, stage) it keeps the exact mean and standard deviation
and a fixed-size random sample of the values; :meth:`ActivationRecorder.history`
turns those into histograms on bins fixed per (block, stage), so that a
widget only has to index precomputed arrays.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vislib._validation import check_int, check_type

__all__ = ["ActivationHistory", "ActivationRecorder", "BINS", "STAGE_LABELS", "STAGES"]

STAGES = ("before", "after")
#: What each stage is, for the widget's controls: true for a network with and one without BN.
STAGE_LABELS = {"before": "conv output", "after": "input of the nonlinearity f"}
#: What each stage is in a network with BN, and in one without (where nothing normalizes: both stages are the
#: convolution's output).
NETWORK_STAGE_LABELS = {
    "batchnorm": {"before": "conv output, before BN", "after": "after BN: the input of f"},
    "plain": {"before": "conv output", "after": "input of f = the conv output (no BN)"},
}
BINS = 60


@dataclass(frozen=True)
class ActivationHistory:
    """Recorded statistics; arrays are indexed ``[step, block, stage]``.

    ``steps[S]``: the training steps recorded. ``mean``, ``std``,
    ``percentiles`` (15th, 50th, 85th, as in the paper's Figure 1):
    ``[S, L, 2]`` (and ``[S, L, 2, 3]``). ``bin_edges[L, 2, BINS + 1]``: fixed
    per block and stage across steps. ``density[S, L, 2, BINS]``: histograms
    of the sampled values (values outside the bins are counted in the
    outermost bins).
    """

    steps: np.ndarray
    layer_names: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    percentiles: np.ndarray
    bin_edges: np.ndarray
    density: np.ndarray

    def step_index(self, step: int) -> int:
        """Index of the recorded step closest to ``step``."""
        return int(np.argmin(np.abs(self.steps - step)))


class ActivationRecorder:
    """Forward hooks on every block (a module with ``conv`` and ``act`` children)."""

    def __init__(self, model: nn.Module, samples: int = 4096, seed: int = 0):
        check_type("model", model, nn.Module, "a torch.nn.Module")
        self.samples = check_int("samples", samples, min_value=100, max_value=1_000_000)
        self.blocks = [m for m in model.modules() if hasattr(m, "conv") and hasattr(m, "act")]
        if not self.blocks:
            raise ValueError("model has no blocks with `conv` and `act` children to record (see SmallCNN)")
        self.generator = torch.Generator().manual_seed(check_int("seed", seed, min_value=0))
        self._step: int | None = None
        self._records: dict[int, dict[tuple[int, int], tuple[float, float, np.ndarray]]] = {}
        self._handles = []
        for index, block in enumerate(self.blocks):
            self._handles.append(block.conv.register_forward_hook(self._hook(index, 0)))
            self._handles.append(
                block.act.register_forward_pre_hook(
                    lambda module, inputs, index=index: self._store(index, 1, inputs[0])
                )
            )

    def _hook(self, block: int, stage: int):
        def hook(module, inputs, output):
            self._store(block, stage, output)

        return hook

    def _store(self, block: int, stage: int, values: torch.Tensor) -> None:
        if self._step is None:
            return
        flat = values.detach().flatten().float().cpu()
        picks = torch.randint(len(flat), (self.samples,), generator=self.generator)
        std = flat.std().item() if len(flat) > 1 else 0.0
        self._records.setdefault(self._step, {})[(block, stage)] = (flat.mean().item(), std, flat[picks].numpy())

    @contextlib.contextmanager
    def recording(self, step: int):
        """Record the activations of the forward passes inside this block as training step ``step``."""
        self._step = check_int("step", step, min_value=0)
        try:
            yield
        finally:
            self._step = None

    def has_records(self) -> bool:
        """Whether anything was recorded yet."""
        return bool(self._records)

    def configuration(self) -> dict:
        """What the recordings depend on besides the training: samples per record, blocks, the sampler's state."""
        return {"samples": self.samples, "blocks": len(self.blocks), "generator": self.generator.get_state()}

    def remove(self) -> None:
        """Detach the hooks from the model."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def history(self) -> ActivationHistory:
        """Everything recorded so far, as arrays with histograms on fixed bins."""
        if not self._records:
            raise ValueError("nothing recorded yet: train with recorder=... first")
        steps = np.array(sorted(self._records))
        layers, stages = len(self.blocks), len(STAGES)
        mean = np.zeros((len(steps), layers, stages))
        std = np.zeros_like(mean)
        percentiles = np.zeros((len(steps), layers, stages, 3))
        samples = np.zeros((len(steps), layers, stages, self.samples), dtype=np.float32)
        for s, step in enumerate(steps):
            for (block, stage), (m, d, values) in self._records[step].items():
                mean[s, block, stage], std[s, block, stage] = m, d
                samples[s, block, stage] = values
        percentiles[:] = np.moveaxis(np.percentile(samples, [15, 50, 85], axis=-1), 0, -1)
        bin_edges = np.zeros((layers, stages, BINS + 1))
        density = np.zeros((len(steps), layers, stages, BINS))
        for block in range(layers):
            for stage in range(stages):
                low, high = np.percentile(samples[:, block, stage], [0.5, 99.5])
                if high - low < 1e-6:
                    low, high = low - 0.5, high + 0.5
                edges = np.linspace(low, high, BINS + 1)
                bin_edges[block, stage] = edges
                for s in range(len(steps)):
                    clipped = np.clip(samples[s, block, stage], low, high)
                    density[s, block, stage] = np.histogram(clipped, bins=edges, density=True)[0]
        return ActivationHistory(
            steps=steps,
            layer_names=tuple(f"block {i + 1}" for i in range(layers)),
            mean=mean,
            std=std,
            percentiles=percentiles,
            bin_edges=bin_edges,
            density=density,
        )
