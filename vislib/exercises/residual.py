"""Checks for the residual-connections notebook's exercises.

* :func:`check_basic_block_forward`: a student's ``basic_block_forward(block, x)``
  against a ``torchvision.models.resnet.BasicBlock`` (train and eval mode,
  stride 1 and 2, with and without a projection shortcut), naming the usual
  mistakes: ReLU before the addition, a missing downsample on the shortcut,
  BN in the wrong place, no final ReLU, no shortcut at all.
* :func:`check_gradient_ratio_prediction`: a student's prediction of which end
  of a 56-layer plain network has the smaller gradient at initialization, and
  by how much, against the measured ratio.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock as TorchvisionBasicBlock

from vislib._validation import check_callable, check_int, check_number
from vislib.analysis.residual import gradients_at_initialization
from vislib.data.digits import load_digits
from vislib.models.residual import CifarResNet, conv1x1

__all__ = [
    "BLOCK_CASES",
    "check_basic_block_forward",
    "check_gradient_ratio_prediction",
    "measure_plain_gradient_ratio",
    "torchvision_block",
]

#: (inplanes, planes, stride, projection shortcut, input size)
BLOCK_CASES = (
    (16, 16, 1, False, 8),
    (8, 16, 2, True, 8),
    (16, 16, 1, True, 5),
    (4, 8, 2, True, 7),
    (3, 3, 1, False, 1),
)


def torchvision_block(inplanes: int, planes: int, stride: int, projection: bool, seed: int) -> nn.Module:
    """A ``torchvision`` BasicBlock with random weights and BN statistics (so eval mode is not the identity)."""
    torch.manual_seed(seed)
    downsample = nn.Sequential(conv1x1(inplanes, planes, stride), nn.BatchNorm2d(planes)) if projection else None
    block = TorchvisionBasicBlock(inplanes, planes, stride, downsample)
    with torch.no_grad():
        for module in block.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.5)
                module.running_mean.normal_(0, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    return block


def _mistakes(block: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """What common wrong versions of the forward pass compute."""
    relu = torch.relu
    shortcut = block.downsample(x) if block.downsample is not None else x
    branch = block.bn2(block.conv2(relu(block.bn1(block.conv1(x)))))
    variants = {
        "ReLU is applied before the addition (relu(F(x)) + x): the sum must come first, then the ReLU": relu(branch)
        + shortcut,
        "the final ReLU after the addition is missing": branch + shortcut,
        "the shortcut is missing: the output must be relu(F(x) + x)": relu(branch),
        "BN is in the wrong place: each conv is followed by its BN, then the ReLU (conv -> BN -> ReLU)": relu(
            block.bn2(relu(block.conv2(block.bn1(relu(block.conv1(x)))))) + shortcut
        ),
    }
    if block.downsample is not None:
        subsampled = x[:, :, :: block.stride, :: block.stride]
        if subsampled.shape == branch.shape:
            variants["the shortcut skips the downsample: when the shape changes, add block.downsample(x), not x"] = (
                relu(branch + subsampled)
            )
    return variants


def check_basic_block_forward(basic_block_forward: Callable) -> int:
    """Check ``basic_block_forward(block, x)`` against a torchvision ``BasicBlock``'s own forward pass.

    Returns the number of cases checked (each block in training and in evaluation mode).
    """
    check_callable("basic_block_forward", basic_block_forward)
    checked = 0
    for case, (inplanes, planes, stride, projection, size) in enumerate(BLOCK_CASES):
        for training in (True, False):
            block = torchvision_block(inplanes, planes, stride, projection, seed=case)
            block.train(training)
            x = torch.relu(torch.randn(4, inplanes, size, size, generator=torch.Generator().manual_seed(case)))
            with torch.no_grad():
                expected = copy.deepcopy(block)(x)
                oracle_for_mistakes = copy.deepcopy(block)
                try:
                    got = basic_block_forward(copy.deepcopy(block), x.clone())
                except NotImplementedError:
                    raise  # not written yet: the student sees the exercise's own message
                except RuntimeError as error:
                    hint = (
                        " The shortcut must have the output's shape: use block.downsample(x) when it is not None."
                        if projection and "size" in str(error)
                        else ""
                    )
                    raise AssertionError(
                        f"basic_block_forward raised {error!r} on a block {inplanes} -> {planes} "
                        f"channels, stride {stride}.{hint}"
                    ) from error
                where = (
                    f"block {inplanes} -> {planes} channels, stride {stride}, "
                    f"{'a projection' if projection else 'an identity'} shortcut, "
                    f"{'training' if training else 'evaluation'} mode"
                )
                if not isinstance(got, torch.Tensor):
                    raise AssertionError(
                        f"basic_block_forward must return a tensor, got {type(got).__name__} ({where})"
                    )
                if got.shape != expected.shape:
                    hint = " Did the shortcut skip block.downsample?" if projection else ""
                    raise AssertionError(
                        f"shape {list(got.shape)} but torchvision gives {list(expected.shape)} ({where}).{hint}"
                    )
                if not torch.allclose(got, expected, atol=1e-5):
                    diagnosis = next(
                        (
                            name
                            for name, wrong in _mistakes(oracle_for_mistakes, x).items()
                            if wrong.shape == got.shape and torch.allclose(got, wrong, atol=1e-5)
                        ),
                        None,
                    )
                    difference = (got - expected).abs().max().item()
                    raise AssertionError(
                        f"output differs from torchvision's BasicBlock by up to {difference:.3g} "
                        f"({where})." + (f" Likely: {diagnosis}." if diagnosis else "")
                    )
            checked += 1
    return checked


def measure_plain_gradient_ratio(depth: int = 56, seeds=(0, 1, 2), batch_size: int = 128) -> list[float]:
    """First-block / last-block RMS of dL/d(block output) of fresh plain networks, one ratio per seed."""
    depth = check_int("depth", depth, min_value=8)
    data = load_digits(16, seed=0)
    ratios = []
    for seed in seeds:
        torch.manual_seed(check_int("seeds[...]", seed, min_value=0))
        model = CifarResNet(depth, residual=False)
        batch = torch.randperm(len(data.train_labels), generator=torch.Generator().manual_seed(seed))[:batch_size]
        record = gradients_at_initialization(model, data.train_images[batch], data.train_labels[batch])
        ratios.append(float(record.output_grad[0, 0] / record.output_grad[0, -1]))
    return ratios


def check_gradient_ratio_prediction(predict: Callable, measured_ratios=None, tolerance: float = 10.0) -> float:
    """``predict()`` returns ``("first" or "last", how many times smaller)``: the end of a 56-layer plain
    network whose blocks get the smaller gradient at initialization. Right within a factor ``tolerance`` of
    the measured ratio (measured here on three seeds unless given). Returns the measured ratio (geometric mean).
    """
    check_callable("predict", predict)
    tolerance = check_number("tolerance", tolerance, min_value=1.0)
    ratios = measure_plain_gradient_ratio() if measured_ratios is None else [float(r) for r in measured_ratios]
    if not ratios or min(ratios) <= 0:
        raise ValueError("measured_ratios must hold positive numbers")
    measured = math.exp(sum(math.log(r) for r in ratios) / len(ratios))  # first / last
    answer = predict()
    if not (isinstance(answer, tuple) and len(answer) == 2):
        raise AssertionError(f'predict must return a pair ("first" or "last", a number), got {answer!r}')
    layer, factor = answer
    if layer not in ("first", "last"):
        raise AssertionError(f'the layer must be "first" or "last", got {layer!r}')
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor >= 1:
        raise AssertionError(f"the factor must be a number >= 1 (how many times smaller), got {factor!r}")
    smaller = "last" if measured > 1 else "first"
    size = measured if measured > 1 else 1 / measured
    if layer != smaller:
        raise AssertionError(
            f"measured: the {smaller} block's gradient is the smaller one, {size:.3g} times smaller "
            f"(ratios over seeds: {', '.join(f'{r:.3g}' for r in ratios)}). Look at the widget "
            "at step 0: in which direction does the gradient grow?"
        )
    if not size / tolerance <= factor <= size * tolerance:
        raise AssertionError(
            f"right end, but the factor {factor:g} is off: measured {size:.3g} "
            f"(a factor {tolerance:g} either way counts as right)"
        )
    return measured
