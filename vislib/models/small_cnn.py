"""A small CNN for the batch-normalization experiments, with BN optional and placeable.

Three blocks of 3x3 convolution (+ batch norm) + nonlinearity (+ 2x2 max
pooling), global average pooling and a linear classifier. ``batchnorm``
chooses where normalization goes:

* ``"none"``: conv -> f (the plain network);
* ``"before"``: conv -> BN -> f, as in the paper: BN normalizes the
  pre-activations, the input of the nonlinearity;
* ``"after"``: conv -> f -> BN.

Convolutions followed directly by BN have no bias: BN's shift replaces it.
"""

from __future__ import annotations

from torch import Tensor, nn

from vislib._validation import check_choice, check_int, check_model_input

__all__ = ["ACTIVATIONS", "ConvBlock", "PLACEMENTS", "SmallCNN"]

PLACEMENTS = ("none", "before", "after")
ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class ConvBlock(nn.Module):
    """conv, norm, activation and pooling, named so that hooks can find them."""

    def __init__(self, in_channels: int, out_channels: int, batchnorm: str, activation: str, pool: bool):
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
        self.norm = nn.BatchNorm2d(out_channels) if batchnorm != "none" else nn.Identity()
        self.act = ACTIVATIONS[activation]()
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.placement == "after":
            return self.pool(self.norm(self.act(x)))
        return self.pool(self.act(self.norm(x)))


class SmallCNN(nn.Module):
    """``SmallCNN(batchnorm="before")`` maps ``[N, in_channels, S, S]`` images to ``[N, classes]`` logits."""

    def __init__(
        self,
        batchnorm: str = "before",
        width: int = 16,
        activation: str = "relu",
        in_channels: int = 1,
        classes: int = 10,
    ):
        super().__init__()
        check_choice("batchnorm", batchnorm, PLACEMENTS)
        check_choice("activation", activation, ACTIVATIONS)
        width = check_int("width", width, min_value=1, max_value=1024)
        self.blocks = nn.ModuleList(
            [
                ConvBlock(check_int("in_channels", in_channels, min_value=1), width, batchnorm, activation, pool=True),
                ConvBlock(width, 2 * width, batchnorm, activation, pool=True),
                ConvBlock(2 * width, 2 * width, batchnorm, activation, pool=False),
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
