"""Batch normalization, written out (Ioffe & Szegedy 2015, arXiv 1502.03167).

For a convolutional layer's output ``x`` of shape ``[N, C, H, W]`` (N images,
C filters), batch normalization computes one mean and one variance **per
filter**, over the N images and all H x W positions, i.e. over N*H*W values:

    mean[c] = x[:, c].mean()          var[c] = ((x[:, c] - mean[c])**2).mean()
    y[:, c] = weight[c] * (x[:, c] - mean[c]) / sqrt(var[c] + eps) + bias[c]

In training mode it normalizes with these batch statistics (the *biased*
variance) and updates running estimates with the *unbiased* variance,

    running_mean = (1 - momentum) * running_mean + momentum * mean
    running_var  = (1 - momentum) * running_var  + momentum * var * n / (n - 1)

and in evaluation mode it normalizes with the running estimates instead.
:func:`batch_norm` mirrors ``torch.nn.functional.batch_norm`` (same argument
order, running statistics updated in place) and the tests prove it equal to
``torch.nn.BatchNorm2d``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vislib._validation import check_bool, check_number, check_tensor, check_type

__all__ = [
    "batch_mean_samples",
    "batch_norm",
    "batch_statistics",
    "block_activations",
    "fold_batchnorm",
    "REDUCED_DIMS",
]

#: The dimensions batch normalization reduces over for a 4-D input: images and positions, not filters.
REDUCED_DIMS = (0, 2, 3)


def _per_channel(name: str, value: Tensor | None, channels: int) -> None:
    if value is not None:
        check_tensor(name, value, shape=(channels,), floating=True)


def batch_statistics(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Per-filter statistics of ``x: Tensor[N, C, H, W]`` (or any ``[N, C, *]``, e.g. ``[N, C]`` after a linear layer).

    Returns ``(mean, biased_variance, unbiased_variance)``, each ``Tensor[C]``,
    computed over the ``N * H * W`` values of each filter.
    """
    _check_input(x)
    dims = (0, *range(2, x.ndim))  # REDUCED_DIMS for a 4-D input
    count = x.numel() // x.shape[1]
    if count < 2:
        raise ValueError(f"x must hold at least 2 values per filter to estimate a variance, got shape {list(x.shape)}")
    mean = x.mean(dim=dims)
    biased = ((x - mean.reshape(1, -1, *[1] * (x.ndim - 2))) ** 2).mean(dim=dims)
    return mean, biased, biased * count / (count - 1)


def _check_input(x) -> None:
    check_tensor("x", x, floating=True)
    if x.ndim < 2 or x.shape[1] < 1:
        raise ValueError(f"x must be [N, C, *] (e.g. [N, C, H, W] or [N, C]) with C >= 1, got shape {list(x.shape)}")


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization of ``x: Tensor[N, C, H, W]`` (or ``[N, C, *]``), like ``torch.nn.functional.batch_norm``.

    ``running_mean`` / ``running_var`` (``Tensor[C]``) are updated in place in
    training mode and used for normalizing in evaluation mode. ``weight``
    (gamma) and ``bias`` (beta) are the learned per-filter scale and shift.
    """
    _check_input(x)
    channels = x.shape[1]
    for name, value in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        _per_channel(name, value, channels)
    training = check_bool("training", training)
    momentum = check_number("momentum", momentum, min_value=0.0, max_value=1.0)
    eps = check_number("eps", eps, min_value=0.0)
    if training:
        mean, variance, unbiased = batch_statistics(x)
        if running_mean is not None and running_var is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean.detach())
                running_var.mul_(1 - momentum).add_(momentum * unbiased.detach())
    else:
        if running_mean is None or running_var is None:
            raise ValueError("evaluation mode (training=False) needs running_mean and running_var")
        mean, variance = running_mean, running_var
    shape = (1, channels, *[1] * (x.ndim - 2))
    y = (x - mean.reshape(shape)) / torch.sqrt(variance.reshape(shape) + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def fold_batchnorm(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """One convolution equal to ``bn(conv(x))`` with ``bn`` in evaluation mode.

    At inference the normalization is a fixed per-filter affine map,
    ``y = scale * conv(x) + shift`` with ``scale = weight / sqrt(running_var + eps)``
    and ``shift = bias - scale * running_mean``; it folds into the
    convolution's weights and bias, so BN costs nothing once trained.
    """
    check_type("conv", conv, nn.Conv2d, "a torch.nn.Conv2d")
    check_type("bn", bn, nn.BatchNorm2d, "a torch.nn.BatchNorm2d")
    if bn.num_features != conv.out_channels:
        raise ValueError(f"bn has {bn.num_features} features but conv has {conv.out_channels} output channels")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("bn must track running statistics (track_running_stats=True) to be folded")
    with torch.no_grad():
        scale = bn.running_var.add(bn.eps).rsqrt()
        if bn.weight is not None:
            scale = scale * bn.weight
        shift = -scale * bn.running_mean
        if bn.bias is not None:
            shift = shift + bn.bias
        if conv.bias is not None:
            shift = shift + scale * conv.bias
        folded = nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            groups=conv.groups,
            bias=True,
            padding_mode=conv.padding_mode,
        )
        folded.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
        folded.bias.copy_(shift)
    return folded.to(conv.weight.device)


def _block_norm(model: nn.Module, layer: int) -> nn.Module:
    blocks = [m for m in model.modules() if hasattr(m, "conv") and hasattr(m, "norm")]
    if not blocks:
        raise ValueError("model has no blocks with `conv` and `norm` children (see SmallCNN)")
    if not 0 <= layer < len(blocks):
        raise ValueError(f"layer must be between 0 and {len(blocks) - 1}, got {layer}")
    return blocks[layer]


def block_activations(model: nn.Module, images: Tensor, layer: int, training: bool) -> dict[str, Tensor]:
    """The input and output of block ``layer``'s normalization for a batch of ``images``.

    Returns ``{"conv": conv output, "normalized": norm output}``, each
    ``[N, C, H, W]``. In training mode BN normalizes with this batch's own
    statistics; the model's running statistics are left untouched.
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_tensor("images", images, ndim=4, floating=True)
    check_type("training", training, bool, "True or False")
    block = _block_norm(model, layer)
    captured = {}
    handles = [
        block.conv.register_forward_hook(lambda m, i, o: captured.setdefault("conv", o.detach())),
        block.norm.register_forward_hook(lambda m, i, o: captured.setdefault("normalized", o.detach())),
    ]
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone()) for m in norms]
    was_training = model.training
    try:
        model.train(training)
        with torch.no_grad():
            model(images.to(next(model.parameters()).device))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
        for m, (mean, var, count) in zip(norms, saved):
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.num_batches_tracked.copy_(count)
    return captured


def batch_mean_samples(
    model: nn.Module, images: Tensor, batch_size: int, layer: int = 0, channel: int = 0, draws: int = 200, seed: int = 0
) -> Tensor:
    """The mean of one filter's conv output over ``draws`` random batches of ``batch_size`` images.

    Shows how noisy batch statistics are: batch norm in training mode
    normalizes with exactly such a noisy estimate.
    """
    from vislib._validation import check_int

    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_tensor("images", images, ndim=4, floating=True)
    batch_size = check_int("batch_size", batch_size, min_value=1, max_value=len(images))
    draws = check_int("draws", draws, min_value=1)
    generator = torch.Generator().manual_seed(check_int("seed", seed, min_value=0))
    with torch.no_grad():
        conv = block_activations(model, images, layer, training=False)["conv"][:, channel]
    per_image = conv.mean(dim=(1, 2)).cpu()
    picks = torch.stack([torch.randperm(len(images), generator=generator)[:batch_size] for _ in range(draws)])
    return per_image[picks].mean(dim=1)
