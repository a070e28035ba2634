"""Checks for notebook 03's exercises: a grouped convolution by split, convolve, concatenate, and the counts.

Each ``check_*`` calls a student's function on many inputs, compares it with PyTorch (``F.conv2d``, an
``nn.Conv2d``'s ``weight.numel()``, ``torch.utils.flop_counter.FlopCounterMode``) and raises
``AssertionError`` naming the first failing case and, where it can tell, the mistake.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from vislib._validation import check_callable

__all__ = ["GROUPED_CONV_CASES", "check_grouped_conv2d", "check_grouped_conv_counts"]

#: (batch, in_channels, size, out_channels, kernel, groups, stride, padding, dilation, bias)
GROUPED_CONV_CASES = (
    (1, 256, 32, 128, 3, 32, 1, 1, 1, False),  # the slide: 32 groups of 8 channels, 4 filters each
    (2, 8, 7, 12, 3, 4, 1, 1, 1, True),
    (2, 6, 9, 6, 3, 1, 1, 0, 1, True),  # one group: an ordinary convolution
    (3, 8, 6, 8, 3, 8, 1, 1, 1, True),  # depthwise: one channel per group
    (2, 12, 11, 6, 3, 3, 2, 1, 1, True),  # stride 2
    (1, 4, 10, 8, 3, 2, 1, 2, 2, True),  # dilation 2
    (2, 16, 5, 32, 1, 4, 1, 0, 1, False),  # 1 x 1 kernels
)


def _case_tensors(case, generator):
    batch, c_in, size, c_out, kernel, groups, stride, padding, dilation, bias = case
    x = torch.randn(batch, c_in, size, size, generator=generator, dtype=torch.float64)
    w = torch.randn(c_out, c_in // groups, kernel, kernel, generator=generator, dtype=torch.float64)
    b = torch.randn(c_out, generator=generator, dtype=torch.float64) if bias else None
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def _describe(case) -> str:
    batch, c_in, size, c_out, kernel, groups, stride, padding, dilation, bias = case
    return (
        f"input [{batch}, {c_in}, {size}, {size}], weight [{c_out}, {c_in // groups}, {kernel}, {kernel}], "
        f"groups={groups}, stride={stride}, padding={padding}, dilation={dilation}, "
        f"bias {'given' if bias else 'None'}"
    )


def _diagnose(got, x, w, b, options) -> str:
    """Compare ``got`` with the classic wrong versions; return the hint for the first that matches."""
    groups = options["groups"]
    others = {k: v for k, v in options.items() if k != "groups"}
    n_out = w.shape[0] // groups
    candidates = []
    if b is not None:
        candidates.append(
            (
                "You forgot the bias: add each group's slice of it (bias.chunk(groups)).",
                F.conv2d(x, w, None, groups=groups, **others),
            )
        )
        first = b[:n_out].repeat(groups)
        candidates.append(
            (
                "Every group used the first C_out / groups biases: split the bias like the filters, "
                "bias.chunk(groups), so group g adds biases g * C_out/groups ... .",
                F.conv2d(x, w, first, groups=groups, **others),
            )
        )
    if groups > 1:
        interleaved_filters = torch.cat([w[g::groups] for g in range(groups)])
        candidates.append(
            (
                "Group g's filters are the consecutive block weight[g * C_out/groups : (g+1) * "
                "C_out/groups] (weight.chunk(groups, dim=0)), not every groups-th filter.",
                F.conv2d(x, interleaved_filters, b, groups=groups, **others),
            )
        )
        interleaved_inputs = torch.cat([x[:, g::groups] for g in range(groups)], dim=1)
        candidates.append(
            (
                "Group g's input channels are the consecutive block input[:, g * C_in/groups : "
                "(g+1) * C_in/groups] (input.chunk(groups, dim=1)), not every groups-th channel.",
                F.conv2d(interleaved_inputs, w, b, groups=groups, **others),
            )
        )
    for hint, wrong in candidates:
        if wrong.shape == got.shape and torch.allclose(got.to(wrong.dtype), wrong, atol=1e-6):
            return hint
    return ""


def check_grouped_conv2d(grouped_conv2d: Callable) -> int:
    """Check ``grouped_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)`` against
    ``F.conv2d``: outputs and the gradients of input, weight and bias (float64, to 1e-8), on the slide's
    layer and six other shapes; and a ``ValueError`` when ``groups`` does not divide the channels.
    Returns the number of cases checked."""
    check_callable("grouped_conv2d", grouped_conv2d)
    generator = torch.Generator().manual_seed(3)
    for case in GROUPED_CONV_CASES:
        x, w, b, options = _case_tensors(case, generator)
        where = f"for {_describe(case)}"
        expected = F.conv2d(x, w, b, **options)
        leaves = [t.clone().requires_grad_(True) if t is not None else None for t in (x, w, b)]
        try:
            got = grouped_conv2d(
                leaves[0],
                leaves[1],
                leaves[2],
                options["stride"],
                options["padding"],
                options["dilation"],
                options["groups"],
            )
        except NotImplementedError:
            raise  # the student has not written it yet: say so, not what went wrong
        except (RuntimeError, ValueError, IndexError) as error:
            raise AssertionError(
                f"grouped_conv2d raised {type(error).__name__} {where}: {error}. Split the input along dim 1 "
                f"(channels: input.chunk(groups, dim=1)) and the weight along dim 0 (filters: "
                f"weight.chunk(groups, dim=0)); each piece of the weight already has C_in / groups input "
                f"channels, so do not split it along dim 1."
            ) from error
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            shape = list(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            hint = "Concatenate the groups' outputs along dim 1 (the channels)."
            if (
                isinstance(got, torch.Tensor)
                and got.ndim == 4
                and options["groups"] > 1
                and got.shape[1] == expected.shape[1] // options["groups"]
            ):
                hint = "Only one group's output came back: concatenate all the groups' outputs along dim 1."
            raise AssertionError(
                f"grouped_conv2d must return a tensor of shape {list(expected.shape)} {where}, got {shape}. {hint}"
            )
        if not torch.allclose(got.detach().to(expected.dtype), expected, atol=1e-8, rtol=1e-8):
            hint = _diagnose(got.detach(), x, w, b, options)
            difference = (got.detach().to(expected.dtype) - expected).abs().max().item()
            raise AssertionError(
                f"grouped_conv2d differs from F.conv2d {where} (largest difference {difference:.3g}). {hint}".strip()
            )
        if not got.requires_grad:
            raise AssertionError(
                f"the output of grouped_conv2d carries no gradient {where}: compute it with torch "
                f"operations on the given tensors (no .detach(), .numpy() or torch.no_grad())."
            )
        upstream = torch.randn(expected.shape, generator=generator, dtype=torch.float64)
        got.backward(upstream)
        reference = [t.clone().requires_grad_(True) if t is not None else None for t in (x, w, b)]
        F.conv2d(reference[0], reference[1], reference[2], **options).backward(upstream)
        for name, mine, theirs in zip(("input", "weight", "bias"), leaves, reference):
            if mine is None:
                continue
            if mine.grad is None or not torch.allclose(mine.grad, theirs.grad, atol=1e-8, rtol=1e-8):
                raise AssertionError(
                    f"the gradient with respect to {name} differs from F.conv2d's {where}. "
                    f"Use only differentiable torch operations (chunk / slicing, F.conv2d, cat)."
                )
    # groups that do not divide the channels: chunk would split unevenly and zip would drop a group silently.
    x = torch.randn(2, 6, 5, 5, generator=generator)
    w = torch.randn(4, 2, 3, 3, generator=generator)
    try:
        result = grouped_conv2d(x, w, None, 1, 1, 1, 4)
    except ValueError:
        pass
    except Exception as error:  # noqa: BLE001 - any other error is still the wrong kind
        raise AssertionError(
            f"for 6 input channels and groups=4, grouped_conv2d raised {type(error).__name__} "
            f"({error}); check first that groups divides input.shape[1] and weight.shape[0] and "
            f"raise a ValueError that says so."
        ) from error
    else:
        raise AssertionError(
            f"for 6 input channels and groups=4, grouped_conv2d returned a tensor of shape "
            f"{list(result.shape) if isinstance(result, torch.Tensor) else result!r}: 4 groups "
            f"cannot split 6 channels evenly (chunk makes 3 pieces, zip drops a group). Raise a "
            f"ValueError when input.shape[1] % groups != 0 or weight.shape[0] % groups != 0."
        )
    return len(GROUPED_CONV_CASES) + 1


#: (in_channels, out_channels, kernel, groups, output size, bias)
COUNT_CASES = (
    (256, 128, 3, 32, 32, False),  # the slide
    (256, 128, 3, 1, 32, False),  # the same layer, dense
    (64, 64, 3, 64, 16, True),  # depthwise, with bias
    (128, 256, 1, 1, 8, True),  # 1 x 1
    (12, 18, 5, 3, 7, True),
    (32, 32, 3, 8, 1, False),
)


def check_grouped_conv_counts(grouped_conv_counts: Callable) -> int:
    """Check ``grouped_conv_counts(in_channels, out_channels, kernel_size, groups, height, width, bias)`` ->
    ``(parameters, multiply_adds)`` per image for an output map of ``height x width``: parameters against
    the ``nn.Conv2d``'s ``parameter.numel()``, multiply-adds against PyTorch's ``FlopCounterMode`` (which
    counts 2 operations per multiply-add and does not count the bias additions). Returns the number of cases."""
    from torch.utils.flop_counter import FlopCounterMode

    check_callable("grouped_conv_counts", grouped_conv_counts)
    for c_in, c_out, kernel, groups, size, bias in COUNT_CASES:
        conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, groups=groups, bias=bias)
        parameters = sum(p.numel() for p in conv.parameters())
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            conv(torch.zeros(1, c_in, size, size))
        multiply_adds = counter.get_total_flops() // 2
        call = (
            f"grouped_conv_counts({c_in}, {c_out}, kernel_size={kernel}, groups={groups}, height={size}, "
            f"width={size}, bias={bias})"
        )
        got = grouped_conv_counts(c_in, c_out, kernel, groups, size, size, bias)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise AssertionError(f"{call} must return a pair (parameters, multiply_adds), got {got!r}")
        got_parameters, got_operations = (int(v) for v in got)
        weights = c_out * (c_in // groups) * kernel * kernel
        if got_parameters != parameters:
            hints = {
                c_out * c_in * kernel * kernel
                + (c_out if bias else 0): "Each filter sees only C_in / groups channels: divide by groups.",
                weights: "Add the bias: one per filter (C_out values) when bias=True.",
                weights // groups
                + (c_out if bias else 0): "You divided by groups twice: C_out filters, each C_in / groups x k x k.",
            }
            hint = hints.get(got_parameters, "")
            raise AssertionError(
                f"{call} gave {got_parameters:,} parameters; the nn.Conv2d has {parameters:,} "
                f"(weight {tuple(conv.weight.shape)}). {hint}".strip()
            )
        if got_operations != multiply_adds:
            hints = {
                c_out
                * c_in
                * kernel
                * kernel
                * size
                * size: "Each output value needs C_in / groups x k x k multiply-adds, not C_in x k x k.",
                weights: "That is per output position: multiply by height x width.",
                2 * multiply_adds: "Count a multiply-add once (FlopCounterMode's flops are 2 per multiply-add).",
                multiply_adds
                + (c_out * size * size if bias else -1): "Do not count the bias additions as multiply-adds.",
            }
            raise AssertionError(
                f"{call} gave {got_operations:,} multiply-adds; the layer does "
                f"{multiply_adds:,} (FlopCounterMode). {hints.get(got_operations, '')}".strip()
            )
    return len(COUNT_CASES)
