"""A small CNN for the batch-normalization experiments, with BN optional and placeable.

Three blocks of 3x3 convolution (+ batch norm) + nonlinearity (+ 2x2 max
pooling), global average pooling and a linear classifier. ``batchnorm``
chooses where normalization goes:

* ``"none"``: conv -> f (the plain network);
* ``"before"``: conv -> BN -> f, as in the paper: BN normalizes the
  pre-activations, the input of the nonlinearity;
* ``"after"``: conv -> f -> BN.

Convolutions followed directly by BN have no bias: BN's shift replaces it.

``norm_group`` makes BN compute its statistics over groups of that many images of each training batch
("ghost batch normalization", Hoffer et al., arXiv 1705.08741) with :class:`GhostBatchNorm2d`: the gradient
still averages the whole batch, only the statistics get noisier. It isolates what tiny batches do to BN.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vislib._validation import check_choice, check_int, check_model_input, check_tensor

__all__ = [
    "ACTIVATIONS",
    "ConvBlock",
    "GhostBatchNorm2d",
    "PLACEMENTS",
    "SmallCNN",
]

PLACEMENTS = ("none", "before", "after")
ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class GhostBatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` whose training-mode statistics come from groups of ``group_size`` images.

    A training batch ``[N, C, H, W]`` (N a multiple of ``group_size``) is split into consecutive groups of
    ``group_size`` images; each group is normalized with its own per-filter mean and biased variance, exactly
    as ``nn.BatchNorm2d`` would normalize a batch of ``group_size`` images. The running statistics are updated
    once per call with the groups' average mean and average unbiased variance. A batch of at most
    ``group_size`` images, and evaluation mode, behave exactly like ``nn.BatchNorm2d``.
    """

    def __init__(self, num_features: int, group_size: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.group_size = check_int("group_size", group_size, min_value=1)

    def forward(self, x: Tensor) -> Tensor:
        check_tensor("x", x, ndim=4, floating=True)
        n, channels, height, width = x.shape
        if not self.training or n <= self.group_size:
            return super().forward(x)
        if n % self.group_size:
            raise ValueError(f"the batch size ({n}) must be a multiple of group_size ({self.group_size})")
        count = self.group_size * height * width
        if count < 2:
            raise ValueError(f"a group must hold at least 2 values per filter, got {count}")
        groups = x.reshape(n // self.group_size, self.group_size, channels, height, width)
        mean = groups.mean(dim=(1, 3, 4), keepdim=True)
        variance = groups.var(dim=(1, 3, 4), unbiased=False, keepdim=True)
        normalized = ((groups - mean) / torch.sqrt(variance + self.eps)).reshape_as(x)
        with torch.no_grad():
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean.mean(dim=0).flatten())
            unbiased = variance.mean(dim=0).flatten() * count / (count - 1)
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * unbiased)
            self.num_batches_tracked.add_(1)
        return normalized * self.weight.reshape(1, -1, 1, 1) + self.bias.reshape(1, -1, 1, 1)


class ConvBlock(nn.Module):
    """conv, norm, activation and pooling, named so that hooks can find them."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        batchnorm: str,
        activation: str,
        pool: bool,
        norm_group: int | None = None,
    ):
        super().__init__()
        in_channels = check_int("in_channels", in_channels, min_value=1)
        out_channels = check_int("out_channels", out_channels, min_value=1)
        check_choice("batchnorm", batchnorm, PLACEMENTS)
        check_choice("activation", activation, ACTIVATIONS)
        if not isinstance(pool, bool):
            raise TypeError(f"pool must be True or False, got {pool!r}")
        self.placement = batchnorm
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=batchnorm != "before")
        # He et al.'s initialization keeps the signal's scale through ReLU layers (arXiv 1502.01852),
        # giving the plain network a fair start.
        nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu" if activation == "relu" else "linear")
        if self.conv.bias is not None:
            nn.init.zeros_(self.conv.bias)
        if batchnorm == "none":
            self.norm = nn.Identity()
        elif norm_group is None:
            self.norm = nn.BatchNorm2d(out_channels)
        else:
            self.norm = GhostBatchNorm2d(out_channels, norm_group)
        self.act = ACTIVATIONS[activation]()
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.placement == "after":
            return self.pool(self.norm(self.act(x)))
        return self.pool(self.act(self.norm(x)))


class SmallCNN(nn.Module):
    """``SmallCNN(batchnorm="before")`` maps ``[N, in_channels, S, S]`` images to ``[N, classes]`` logits.

    ``norm_group`` (with BN): training-mode statistics over groups of that many images (:class:`GhostBatchNorm2d`).
    """

    def __init__(
        self,
        batchnorm: str = "before",
        width: int = 16,
        activation: str = "relu",
        in_channels: int = 1,
        classes: int = 10,
        norm_group: int | None = None,
    ):
        super().__init__()
        check_choice("batchnorm", batchnorm, PLACEMENTS)
        check_choice("activation", activation, ACTIVATIONS)
        width = check_int("width", width, min_value=1, max_value=1024)
        if norm_group is not None:
            norm_group = check_int("norm_group", norm_group, min_value=1)
            if batchnorm == "none":
                raise ValueError("norm_group needs batch norm (batchnorm='before' or 'after'), got batchnorm='none'")
        in_channels = check_int("in_channels", in_channels, min_value=1)
        self.blocks = nn.ModuleList(
            [
                ConvBlock(in_channels, width, batchnorm, activation, pool=True, norm_group=norm_group),
                ConvBlock(width, 2 * width, batchnorm, activation, pool=True, norm_group=norm_group),
                ConvBlock(2 * width, 2 * width, batchnorm, activation, pool=False, norm_group=norm_group),
            ]
        )
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, check_int("classes", classes, min_value=2))
        )

    def forward(self, x: Tensor) -> Tensor:
        check_model_input("x", x, self, channels=self.blocks[0].conv.in_channels)
        for block in self.blocks:
            x = block(x)
        return self.head(x)
