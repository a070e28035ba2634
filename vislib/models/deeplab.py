"""A small DeepLabv3+ (Chen et al. 2018, arXiv 1802.02611) for CPU-sized images.

The architecture of the paper (figure 2), every part kept, every width shrunk:

```
image [N, 3, H, W]
  └─ Encoder (a small CNN whose last block is atrous instead of strided)
       stem    conv 3x3 s2          -> [N,  c1, H/2, W/2]
       block1  conv 3x3 s2, conv    -> [N,  c2, H/4, W/4]    low-level features (edges, corners)
       block2  conv 3x3 s2, conv    -> [N,  c3, H/8, W/8]
       block3  2 x conv 3x3, dilation 2 (stride 1)  -> [N, c3, H/8, W/8]   output stride 8, larger field
  └─ ASPP on the H/8 features: parallel branches, concatenated, projected with a 1x1 conv
       1x1 conv | 3x3 rate r1 | 3x3 rate r2 | 3x3 rate r3 | image pooling (global average, 1x1, upsampled)
       -> [N, aspp, H/8, W/8]
  └─ Decoder
       low-level features -> 1x1 conv to a few channels (48 in the paper)   -> [N, low, H/4, W/4]
       ASPP output upsampled x2 (bilinear)                                   -> [N, aspp, H/4, W/4]
       concatenate, two 3x3 convs                                            -> [N, dec, H/4, W/4]
       1x1 conv to the classes, upsampled x4 to the input size              -> [N, classes, H, W]
```

The paper uses ResNet-101 / Xception at output stride 16, ASPP rates (6, 12, 18) on 33 x 33 feature maps
of 513-pixel crops, 256 ASPP channels and 48 low-level channels. Here the feature maps are 8 x 8 (64-pixel
images) or 12 x 12 (96 pixels), so the rates shrink with them: (2, 4, 6) by default. Every convolution is
followed by batch norm and ReLU (``ConvBNReLU``).

:class:`Encoder` is also the backbone of :class:`EncoderClassifier` (global max pooling + a linear
layer): pre-train it on a classification task, then load its weights into :class:`DeepLabV3Plus` with
``model.encoder.load_state_dict(classifier.encoder.state_dict())``: the paper's "pre-train on ImageNet,
fine-tune on segmentation", scaled down.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vislib._validation import check_choice, check_int, check_model_input, check_type

__all__ = ["ASPP", "OUTPUT_STRIDES", "ConvBNReLU", "DeepLabV3Plus", "Decoder", "Encoder", "EncoderClassifier"]

#: Output strides :class:`Encoder` can build: 8 (atrous, DeepLab) or 16 / 32 (strided, for the ablation).
OUTPUT_STRIDES = (8, 16, 32)


class ConvBNReLU(nn.Sequential):
    """``Conv2d`` (no bias) -> ``BatchNorm2d`` -> ``ReLU``; ``same`` padding for odd kernels at any dilation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1, dilation: int = 1):
        in_channels = check_int("in_channels", in_channels, min_value=1)
        out_channels = check_int("out_channels", out_channels, min_value=1)
        kernel_size = check_int("kernel_size", kernel_size, min_value=1)
        stride = check_int("stride", stride, min_value=1)
        dilation = check_int("dilation", dilation, min_value=1)
        padding = dilation * (kernel_size - 1) // 2
        super().__init__(
            nn.Conv2d(
                in_channels, out_channels, kernel_size, stride=stride, padding=padding, dilation=dilation, bias=False
            ),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class Encoder(nn.Module):
    """A small backbone with output stride 8: three stride-2 stages, then an atrous block.

    ``forward(x [N, 3, H, W])`` returns ``(low_level [N, widths[1], H/4, W/4], high_level [N, widths[2], H/8,
    W/8])``. ``atrous_dilation`` is the dilation of the last block (DeepLab's trick: a stride-2 stage with
    dilation instead, so the resolution stays at H/8 while the receptive field keeps growing).

    ``output_stride`` 16 or 32 builds the *strided* twin for the ablation: the same layers and parameters,
    but block3's first (16) or both (32) convolutions have stride 2 and no dilation, so the high-level
    features shrink to H/16 or H/32, as in a classification network.
    """

    def __init__(self, widths: Sequence[int] = (16, 32, 64), atrous_dilation: int = 2, output_stride: int = 8):
        super().__init__()
        check_type("widths", widths, (list, tuple), "three channel counts")
        if len(widths) != 3:
            raise ValueError(f"widths must hold three channel counts, got {widths!r}")
        c1, c2, c3 = (check_int(f"widths[{i}]", w, min_value=1) for i, w in enumerate(widths))
        d = check_int("atrous_dilation", atrous_dilation, min_value=1)
        self.output_stride = check_choice("output_stride", output_stride, OUTPUT_STRIDES)
        self.widths = (c1, c2, c3)
        self.stem = ConvBNReLU(3, c1, stride=2)  # H/2
        self.block1 = nn.Sequential(ConvBNReLU(c1, c2, stride=2), ConvBNReLU(c2, c2))  # H/4: low level
        self.block2 = nn.Sequential(ConvBNReLU(c2, c3, stride=2), ConvBNReLU(c3, c3))  # H/8
        if output_stride == 8:
            self.block3 = nn.Sequential(ConvBNReLU(c3, c3, dilation=d), ConvBNReLU(c3, c3, dilation=d))  # H/8, atrous
        else:  # the strided twin: same weights' shapes, resolution thrown away
            second_stride = 2 if output_stride == 32 else 1
            self.block3 = nn.Sequential(ConvBNReLU(c3, c3, stride=2), ConvBNReLU(c3, c3, stride=second_stride))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        check_model_input("x", x, self, channels=3)
        low_level = self.block1(self.stem(x))
        return low_level, self.block3(self.block2(low_level))


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling (DeepLabv3, arXiv 1706.05587, section 3.3).

    Branches on the same ``[N, in_channels, h, w]`` features: a 1x1 conv, one 3x3 conv per rate in
    ``rates``, and *image pooling* (global average -> 1x1 conv -> broadcast back to ``h x w``), each with
    ``out_channels`` channels; concatenated (``(len(rates) + 2) * out_channels``) and projected by a 1x1 conv
    to ``[N, out_channels, h, w]``. The pooling branch's batch norm sees one value per image and channel.
    """

    def __init__(self, in_channels: int, out_channels: int = 64, rates: Sequence[int] = (2, 4, 6)):
        super().__init__()
        in_channels = check_int("in_channels", in_channels, min_value=1)
        out_channels = check_int("out_channels", out_channels, min_value=1)
        check_type("rates", rates, (list, tuple), "a list of dilation rates")
        self.rates = tuple(check_int(f"rates[{i}]", r, min_value=1) for i, r in enumerate(rates))
        self.branches = nn.ModuleList(
            [ConvBNReLU(in_channels, out_channels, kernel_size=1)]
            + [ConvBNReLU(in_channels, out_channels, dilation=rate) for rate in self.rates]
        )
        self.image_pooling = nn.Sequential(nn.AdaptiveAvgPool2d(1), ConvBNReLU(in_channels, out_channels, 1))
        self.project = ConvBNReLU((len(self.rates) + 2) * out_channels, out_channels, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        outputs = [branch(x) for branch in self.branches]
        pooled = self.image_pooling(x)  # [N, out, 1, 1]
        outputs.append(pooled.expand(-1, -1, *x.shape[-2:]))  # the same value at every position
        return self.project(torch.cat(outputs, dim=1))


class Decoder(nn.Module):
    """DeepLabv3+'s decoder: sharpen the coarse ASPP output with the encoder's low-level features.

    ``forward(low_level [N, low_in, H/4, W/4], context [N, context_channels, H/8, W/8])``: project the
    low-level features to ``low_channels`` (few, so they do not outweigh the context), upsample the context
    to H/4, concatenate, refine with two 3x3 convs, classify with a 1x1 conv: ``[N, num_classes, H/4, W/4]``.
    """

    def __init__(
        self, low_in: int, context_channels: int, num_classes: int, low_channels: int = 16, channels: int = 64
    ):
        super().__init__()
        low_in = check_int("low_in", low_in, min_value=1)
        context_channels = check_int("context_channels", context_channels, min_value=1)
        num_classes = check_int("num_classes", num_classes, min_value=2)
        low_channels = check_int("low_channels", low_channels, min_value=1)
        channels = check_int("channels", channels, min_value=1)
        self.project_low = ConvBNReLU(low_in, low_channels, kernel_size=1)
        self.refine = nn.Sequential(
            ConvBNReLU(low_channels + context_channels, channels), ConvBNReLU(channels, channels)
        )
        self.classify = nn.Conv2d(channels, num_classes, kernel_size=1)

    def forward(self, low_level: Tensor, context: Tensor) -> Tensor:
        context = F.interpolate(context, size=low_level.shape[-2:], mode="bilinear", align_corners=False)
        features = torch.cat([self.project_low(low_level), context], dim=1)
        return self.classify(self.refine(features))


class DeepLabV3Plus(nn.Module):
    """Encoder -> ASPP -> decoder -> bilinear upsampling to the input size (see the module docstring).

    ``forward(x [N, 3, H, W])`` returns class scores (logits) ``[N, num_classes, H, W]``; H and W must be
    multiples of ``output_stride`` (8). ``decoder=False`` gives DeepLabv3 (ASPP output classified and
    upsampled x8 directly). ``output_stride=32`` (or 16) swaps the atrous block for the :class:`Encoder`'s
    strided twin with the same parameters: the ablation of "atrous keeps the resolution".
    """

    def __init__(
        self,
        num_classes: int = 5,
        widths: Sequence[int] = (16, 32, 64),
        rates: Sequence[int] = (2, 4, 6),
        aspp_channels: int = 64,
        low_channels: int = 16,
        decoder_channels: int = 64,
        atrous_dilation: int = 2,
        decoder: bool = True,
        output_stride: int = 8,
    ):
        super().__init__()
        self.num_classes = check_int("num_classes", num_classes, min_value=2)
        check_type("decoder", decoder, bool, "True or False")
        self.encoder = Encoder(widths, atrous_dilation, output_stride)
        self.aspp = ASPP(self.encoder.widths[2], aspp_channels, rates)
        if decoder:
            self.decoder = Decoder(
                self.encoder.widths[1], aspp_channels, self.num_classes, low_channels, decoder_channels
            )
        else:
            self.decoder = None
            self.classify = nn.Conv2d(aspp_channels, self.num_classes, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        check_model_input("x", x, self, channels=3)
        stride = self.encoder.output_stride
        if x.shape[-1] % stride or x.shape[-2] % stride:
            raise ValueError(
                f"x's height and width must be multiples of {stride} (output stride {stride}), got {list(x.shape[-2:])}"
            )
        low_level, high_level = self.encoder(x)  # [N, c2, H/4, W/4], [N, c3, H/8, W/8] (H/32 when strided)
        context = self.aspp(high_level)  # [N, aspp, H/8, W/8]
        if self.decoder is not None:
            scores = self.decoder(low_level, context)  # [N, classes, H/4, W/4]
        else:
            scores = self.classify(context)  # [N, classes, H/8, W/8]
        return F.interpolate(scores, size=x.shape[-2:], mode="bilinear", align_corners=False)

    def shapes(self, image_size: int = 64) -> dict[str, tuple[int, ...]]:
        """The shape of every stage's output for one ``image_size`` image (for the notebook's table)."""
        x = torch.zeros(1, 3, image_size, image_size)
        was_training = self.training
        self.eval()
        with torch.no_grad():
            low, high = self.encoder(x)
            context = self.aspp(high)
            kind = "atrous" if self.encoder.output_stride == 8 else "strided"
            out = {
                "input": tuple(x.shape),
                "low-level features (block1)": tuple(low.shape),
                f"high-level features (block3, {kind})": tuple(high.shape),
                "ASPP output": tuple(context.shape),
            }
            if self.decoder is not None:
                out["decoder scores"] = tuple(self.decoder(low, context).shape)
            out["output (upsampled)"] = tuple(self(x).shape)
        self.train(was_training)
        return out


class EncoderClassifier(nn.Module):
    """The :class:`Encoder` with a classification head (global max pooling, linear): the pre-training model.
    ``forward(x)`` returns ``[N, num_outputs]`` scores computed from the high-level features. (Max pooling
    rather than average: on these small networks it trains several times faster.)"""

    def __init__(self, num_outputs: int, widths: Sequence[int] = (16, 32, 64), atrous_dilation: int = 2):
        super().__init__()
        self.encoder = Encoder(widths, atrous_dilation)
        self.head = nn.Linear(self.encoder.widths[2], check_int("num_outputs", num_outputs, min_value=1))

    def forward(self, x: Tensor) -> Tensor:
        _, high_level = self.encoder(x)
        return self.head(high_level.amax(dim=(2, 3)))
