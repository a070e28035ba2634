"""What a grouped convolution costs: parameters, multiply-adds, and measured time per forward pass.

A ``k x k`` convolution from ``C_in`` to ``C_out`` channels in ``G`` groups has

* ``C_out * (C_in / G) * k * k`` weights (each filter sees only its group's ``C_in / G`` channels),
  plus ``C_out`` biases if it has a bias;
* ``C_out * (C_in / G) * k * k`` multiply-adds per output position, so
  ``H_out * W_out`` times that per image.

Both fall by the factor ``G``. ``conv_counts`` is that formula; ``count_multiply_adds`` counts the same
thing by forward hooks on a real model (the output shapes it actually produces), and the tests prove
both equal to ``weight.numel()`` and to PyTorch's ``torch.utils.flop_counter.FlopCounterMode``.
Whether the time falls by ``G`` as well is a measurement: ``time_forward`` and ``time_grouped_layers``.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from vislib._validation import check_bool, check_choice, check_int, check_type
from vislib.runtime import single_thread

__all__ = [
    "ConvCounts",
    "LayerTiming",
    "conv_counts",
    "count_multiply_adds",
    "depthwise_separable_counts",
    "module_counts",
    "time_forward",
    "time_grouped_layers",
]


@dataclass(frozen=True)
class ConvCounts:
    """Weights, biases and multiply-adds (per image) of one convolution layer."""

    weights: int
    biases: int
    multiply_adds: int

    @property
    def parameters(self) -> int:
        return self.weights + self.biases

    def __add__(self, other: ConvCounts) -> ConvCounts:
        return ConvCounts(
            self.weights + other.weights, self.biases + other.biases, self.multiply_adds + other.multiply_adds
        )


def conv_counts(
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    groups: int = 1,
    output_size: int | tuple[int, int] = 1,
    bias: bool = True,
) -> ConvCounts:
    """The parameters and multiply-adds (per image) of ``nn.Conv2d(in_channels, out_channels, kernel_size,
    groups=groups, bias=bias)`` producing an ``output_size`` (``H_out x W_out``) map.

    Bias additions are not counted as multiply-adds (as ``FlopCounterMode`` does not count them).
    """
    in_channels = check_int("in_channels", in_channels, min_value=1)
    out_channels = check_int("out_channels", out_channels, min_value=1)
    groups = check_int("groups", groups, min_value=1)
    bias = check_bool("bias", bias)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide both in_channels={in_channels} and out_channels={out_channels}")
    kh, kw = _pair("kernel_size", kernel_size)
    height, width = _pair("output_size", output_size)
    per_position = out_channels * (in_channels // groups) * kh * kw
    return ConvCounts(
        weights=per_position, biases=out_channels if bias else 0, multiply_adds=per_position * height * width
    )


def depthwise_separable_counts(
    in_channels: int, out_channels: int, kernel_size: int = 3, output_size: int | tuple[int, int] = 1
) -> dict[str, ConvCounts]:
    """MobileNet's depthwise separable convolution (arXiv 1704.04861) against the dense one it replaces.

    ``{"dense": k x k conv, "depthwise": k x k conv with groups = in_channels, "pointwise": 1 x 1 conv,
    "separable": depthwise + pointwise}``, all without biases.
    """
    dense = conv_counts(in_channels, out_channels, kernel_size, 1, output_size, bias=False)
    depthwise = conv_counts(in_channels, in_channels, kernel_size, in_channels, output_size, bias=False)
    pointwise = conv_counts(in_channels, out_channels, 1, 1, output_size, bias=False)
    return {"dense": dense, "depthwise": depthwise, "pointwise": pointwise, "separable": depthwise + pointwise}


def module_counts(conv: nn.Conv2d, output_size: int | tuple[int, int] = 1) -> ConvCounts:
    """``conv_counts`` for an existing ``nn.Conv2d``, read from its attributes."""
    check_type("conv", conv, nn.Conv2d, "a torch.nn.Conv2d")
    return conv_counts(
        conv.in_channels, conv.out_channels, conv.kernel_size, conv.groups, output_size, conv.bias is not None
    )


def count_multiply_adds(model: nn.Module, input: Tensor) -> dict[str, int]:
    """Multiply-adds per image of every ``nn.Conv2d`` and ``nn.Linear`` in ``model``, counted by forward hooks.

    Each hook reads the layer's real output shape during one forward pass of ``input`` ``[N, ...]``:
    a convolution costs ``(C_in / groups) * kH * kW`` multiply-adds per output value, a linear layer
    ``in_features``. Returns ``{module name: multiply-adds per image}`` in the order the layers ran, and
    ``"total"``.
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_type("input", input, Tensor, "a torch.Tensor [N, ...]")
    counts: dict[str, int] = {}

    def hook(name):
        def record(module, inputs, output):
            values_per_image = output.numel() // output.shape[0]
            if isinstance(module, nn.Conv2d):
                per_value = (module.in_channels // module.groups) * module.kernel_size[0] * module.kernel_size[1]
            else:
                per_value = module.in_features
            counts[name] = counts.get(name, 0) + values_per_image * per_value

        return record

    handles = [
        module.register_forward_hook(hook(name))
        for name, module in model.named_modules()
        if isinstance(module, (nn.Conv2d, nn.Linear))
    ]
    try:
        with torch.no_grad():
            model(input)
    except RuntimeError as error:  # torch's shape / dtype message, named
        raise ValueError(f"input of shape {list(input.shape)} does not fit the model: {error}") from error
    finally:
        for handle in handles:
            handle.remove()
    counts["total"] = sum(counts.values())
    return counts


def time_forward(model: nn.Module, input: Tensor, repeats: int = 10, warmup: int = 2, clock: str = "auto") -> float:
    """Median seconds of one forward pass of ``input`` through ``model`` (no gradients, evaluation mode).

    ``clock``: ``"wall"`` (elapsed time; on a GPU after synchronizing), ``"cpu"`` (the CPU time of the calling
    thread, with PyTorch on one thread: what the pass costs this core, hardly changed by other programs sharing
    the machine, whose preemptions make wall times jump by whole scheduler slices), or ``"auto"``: ``"cpu"``
    for a CPU input, ``"wall"`` for a GPU one.
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_type("input", input, Tensor, "a torch.Tensor")
    repeats = check_int("repeats", repeats, min_value=1)
    warmup = check_int("warmup", warmup, min_value=0)
    check_choice("clock", clock, ("auto", "wall", "cpu"))
    if clock == "auto":
        clock = "wall" if input.is_cuda else "cpu"
    if clock == "cpu" and input.is_cuda:
        raise ValueError("clock='cpu' measures CPU work; for a GPU input use clock='wall'")
    was_training = model.training
    model.eval()
    seconds = []
    with torch.no_grad(), single_thread() if clock == "cpu" else contextlib.nullcontext():
        now = time.thread_time if clock == "cpu" else time.perf_counter
        for step in range(warmup + repeats):
            _synchronize(input)
            start = now()
            model(input)
            _synchronize(input)
            if step >= warmup:
                seconds.append(now() - start)
    model.train(was_training)
    return statistics.median(seconds)


@dataclass(frozen=True)
class LayerTiming:
    """One grouped layer measured: its groups, its arithmetic, and its time per forward pass."""

    groups: int
    parameters: int
    multiply_adds: int  # per forward pass (the whole batch)
    seconds: float  # median time per forward pass (see time_forward's clock)

    @property
    def multiply_adds_per_second(self) -> float:
        return self.multiply_adds / self.seconds


def time_grouped_layers(
    in_channels: int = 256,
    out_channels: int = 256,
    size: int = 32,
    batch: int = 8,
    groups: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256),
    kernel_size: int = 3,
    repeats: int = 10,
    device=None,
    seed: int = 0,
    clock: str = "auto",
) -> list[LayerTiming]:
    """Time ``nn.Conv2d(in_channels, out_channels, kernel_size, padding=k // 2, groups=g)`` for each ``g``
    on a ``[batch, in_channels, size, size]`` input: multiply-adds fall by ``g``; does the time?
    ``clock`` as for ``time_forward``."""
    in_channels = check_int("in_channels", in_channels, min_value=1)
    out_channels = check_int("out_channels", out_channels, min_value=1)
    size = check_int("size", size, min_value=1)
    batch = check_int("batch", batch, min_value=1)
    check_type("groups", groups, (list, tuple, range), "a sequence of group counts")
    if not len(groups):
        raise ValueError("groups must hold at least one group count, got an empty sequence")
    device = torch.device(device) if device is not None else torch.device("cpu")
    generator = torch.Generator().manual_seed(check_int("seed", seed, min_value=0))
    x = torch.randn(batch, in_channels, size, size, generator=generator).to(device)
    timings = []
    for g in groups:
        g = check_int("groups", g, min_value=1)
        layer = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, groups=g, bias=False).to(
            device
        )
        counts = module_counts(layer, size)
        timings.append(
            LayerTiming(
                g, counts.parameters, counts.multiply_adds * batch, time_forward(layer, x, repeats=repeats, clock=clock)
            )
        )
    return timings


def _synchronize(tensor: Tensor) -> None:
    if tensor.is_cuda:
        torch.cuda.synchronize(tensor.device)


def _pair(name: str, value) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (height, width), got {value!r}")
        return check_int(f"{name}[0]", value[0], min_value=1), check_int(f"{name}[1]", value[1], min_value=1)
    value = check_int(name, value, min_value=1)
    return value, value
