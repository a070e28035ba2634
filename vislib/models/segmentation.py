"""Small semantic-segmentation networks: one shared encoder, one class per decoder idea.

A segmenter labels every pixel. All models here share :class:`Encoder`, which turns an image
``[N, 3, H, W]`` into coarse features ``[N, C, H/8, W/8]`` (three stages of two 3x3 convolutions and a
2x2 max pool, then a bottleneck convolution). They differ only in how they get back to full resolution
``[N, num_classes, H, W]`` (the scores of each class at each pixel):

* :class:`FCNBaseline`: a 1x1 convolution classifies each coarse feature vector, bilinear interpolation
  enlarges the scores 8 times (FCN-32s style; Long et al. 2015, arXiv 1411.4038). Coarse, blobby masks.
* :class:`SegNet`: the decoder *max-unpools* with the pooling indices the encoder remembered (each value
  goes back to the position its maximum came from), then convolves (Badrinarayanan et al. 2017,
  arXiv 1511.00561; DeconvNet, Noh et al. 2015, arXiv 1505.04366, also unpools this way).
* :class:`TransposedConvNet`: the decoder learns its upsampling with stride-2 transposed convolutions
  ("deconvolutions", DeconvNet and FCN's learned upsampling).
* :class:`UNet`: transposed-convolution upsampling plus **skip connections**: each decoder stage
  concatenates the encoder's features of the same resolution (Ronneberger et al. 2015, arXiv 1505.04597).
* :class:`PSPNet`: a :class:`PyramidPooling` module on the coarse features (average pools to 1x1, 2x2, 3x3
  and 6x6 bins, a 1x1 convolution each, upsampled and concatenated) gives every position the context of
  the whole image (Zhao et al. 2017, arXiv 1612.01105); a 3x3 convolution and a 1x1 classifier, then
  bilinear upsampling. ``PSPNet(bins=())`` is the same network without the module, for ablations.

Every model has ``forward_stages(images)``, the list of ``(name, tensor)`` after each stage (encoder and
decoder), which shows the resolution shrinking and growing back; ``forward(images)`` returns the last one,
the class scores. Image sides must be multiples of 8.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vislib._validation import check_choice, check_int, check_model_input, check_tensor, check_type

__all__ = [
    "ConvBlock",
    "Encoder",
    "EncoderOutput",
    "FCNBaseline",
    "MODELS",
    "PSPNet",
    "PyramidPooling",
    "SegNet",
    "TransposedConvNet",
    "UNet",
    "adaptive_pool_regions",
    "build_segmenter",
    "stage_pictures",
    "strongest_channel",
]

#: How many times the encoder halves the resolution (three 2x2 max pools): sides must be multiples of 8.
DOWNSAMPLING = 8


def _check_images(images: Tensor, module: nn.Module) -> Tensor:
    check_model_input("images", images, module, channels=3)
    height, width = images.shape[-2:]
    if height % DOWNSAMPLING or width % DOWNSAMPLING:
        raise ValueError(
            f"images must have a height and width that are multiples of {DOWNSAMPLING} (three "
            f"2x2 poolings), got {height} x {width}"
        )
    return images


class ConvBlock(nn.Sequential):
    """Two 3x3 convolutions (padding 1: the size is kept), each followed by batch norm and ReLU.

    ``[N, in_channels, H, W] -> [N, out_channels, H, W]``.
    """

    def __init__(self, in_channels: int, out_channels: int):
        in_channels = check_int("in_channels", in_channels, min_value=1)
        out_channels = check_int("out_channels", out_channels, min_value=1)
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


@dataclass
class EncoderOutput:
    """What the encoder hands to a decoder.

    Attributes:
        features (Tensor): the coarse features ``[N, C3, H/8, W/8]``.
        skips (list of Tensor): each stage's features *before* its pooling, fine to coarse:
            ``[N, C1, H, W]``, ``[N, C2, H/2, W/2]``, ``[N, C3, H/4, W/4]`` (U-Net concatenates them).
        indices (list of Tensor): each pooling's argmax positions, same shapes as the pooled outputs
            ``[N, C1, H/2, W/2]``, ``[N, C2, H/4, W/4]``, ``[N, C3, H/8, W/8]`` (SegNet unpools with them).
        stages (list of (str, Tensor)): every intermediate map, for pictures.
    """

    features: Tensor
    skips: list[Tensor]
    indices: list[Tensor]
    stages: list[tuple[str, Tensor]]


class Encoder(nn.Module):
    """The shared encoder: ``[N, 3, H, W] -> [N, C3, H/8, W/8]``.

    Stage ``s`` (``s = 1, 2, 3``): a :class:`ConvBlock` to ``channels[s - 1]`` channels, then a 2x2 max
    pool (stride 2) that halves height and width and remembers where each maximum was
    (``return_indices=True``). A last 3x3 convolution ("bottleneck") mixes the coarse features.
    Each output unit of the coarse map sees a 52 x 52 pixel receptive field.

    Args:
        channels (tuple of 3 ints): channels of the three stages (default ``(16, 32, 64)``).
    """

    def __init__(self, channels: tuple[int, int, int] = (16, 32, 64)):
        super().__init__()
        check_type("channels", channels, (tuple, list), "a tuple of three channel counts")
        if len(channels) != 3:
            raise ValueError(f"channels must hold three channel counts, got {channels!r}")
        self.channels = tuple(check_int(f"channels[{i}]", c, min_value=1) for i, c in enumerate(channels))
        c1, c2, c3 = self.channels
        self.stage1, self.stage2, self.stage3 = ConvBlock(3, c1), ConvBlock(c1, c2), ConvBlock(c2, c3)
        self.pool = nn.MaxPool2d(2, stride=2, return_indices=True)
        self.bottleneck = nn.Sequential(
            nn.Conv2d(c3, c3, 3, padding=1, bias=False), nn.BatchNorm2d(c3), nn.ReLU(inplace=True)
        )

    @property
    def out_channels(self) -> int:
        return self.channels[2]

    def forward(self, images: Tensor) -> EncoderOutput:
        x = _check_images(images, self)
        skips, indices, stages = [], [], [("input", images)]
        for number, stage in enumerate((self.stage1, self.stage2, self.stage3), start=1):
            x = stage(x)  # [N, C_s, h, w]
            skips.append(x)
            x, where = self.pool(x)  # [N, C_s, h/2, w/2]
            indices.append(where)
            stages.append((f"encoder {number} (pooled)", x))
        x = self.bottleneck(x)  # [N, C3, H/8, W/8]
        stages.append(("bottleneck", x))
        return EncoderOutput(features=x, skips=skips, indices=indices, stages=stages)


class _Segmenter(nn.Module):
    """Base class: ``forward`` is the last of ``forward_stages``."""

    def __init__(self, num_classes: int, channels: tuple[int, int, int]):
        super().__init__()
        self.num_classes = check_int("num_classes", num_classes, min_value=2)
        self.encoder = Encoder(channels)

    def forward_stages(self, images: Tensor) -> list[tuple[str, Tensor]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, images: Tensor) -> Tensor:
        """Class scores ``[N, num_classes, H, W]`` (logits: pass them to ``F.cross_entropy``)."""
        return self.forward_stages(images)[-1][1]


class FCNBaseline(_Segmenter):
    """Classify the coarse features with a 1x1 convolution, then upsample bilinearly to the input size.

    ``[N, 3, H, W] -> encoder [N, C3, H/8, W/8] -> 1x1 conv [N, K, H/8, W/8] -> bilinear x8 [N, K, H, W]``.
    """

    def __init__(self, num_classes: int, channels: tuple[int, int, int] = (16, 32, 64)):
        super().__init__(num_classes, channels)
        self.classifier = nn.Conv2d(self.encoder.out_channels, num_classes, 1)

    def forward_stages(self, images):
        encoded = self.encoder(images)
        coarse = self.classifier(encoded.features)  # [N, K, H/8, W/8]
        scores = F.interpolate(coarse, size=images.shape[-2:], mode="bilinear", align_corners=False)
        return [*encoded.stages, ("coarse scores", coarse), ("scores (bilinear x8)", scores)]


class SegNet(_Segmenter):
    """SegNet's decoder: max-unpool with the encoder's pooling indices, then convolve.

    Each decoder stage mirrors an encoder stage, coarse to fine:
    ``nn.MaxUnpool2d(2)`` puts each value back where the encoder's maximum came from (zeros elsewhere:
    ``[N, C, h, w] -> [N, C, 2h, 2w]``), and a :class:`ConvBlock` fills in the sparse map and reduces the
    channels to those of the next stage up. A 1x1 convolution classifies the full-resolution features.
    No encoder features are copied: only the indices (a few bits per position) travel across.
    """

    def __init__(self, num_classes: int, channels: tuple[int, int, int] = (16, 32, 64)):
        super().__init__(num_classes, channels)
        c1, c2, c3 = self.encoder.channels
        self.unpool = nn.MaxUnpool2d(2, stride=2)
        self.decode3, self.decode2, self.decode1 = ConvBlock(c3, c2), ConvBlock(c2, c1), ConvBlock(c1, c1)
        self.classifier = nn.Conv2d(c1, num_classes, 1)

    def forward_stages(self, images):
        encoded = self.encoder(images)
        x, stages = encoded.features, list(encoded.stages)
        for number, decode, where in zip(
            (3, 2, 1), (self.decode3, self.decode2, self.decode1), reversed(encoded.indices)
        ):
            x = self.unpool(x, where)  # [N, C, 2h, 2w], sparse: one non-zero per 2x2 window
            x = decode(x)  # [N, C', 2h, 2w]
            stages.append((f"decoder {number} (unpooled)", x))
        scores = self.classifier(x)  # [N, K, H, W]
        return [*stages, ("scores", scores)]


class TransposedConvNet(_Segmenter):
    """A decoder that learns its upsampling: stride-2 transposed convolutions, then convolutions.

    Each stage: ``nn.ConvTranspose2d(kernel_size=2, stride=2)`` doubles height and width
    (``[N, C, h, w] -> [N, C', 2h, 2w]``; each input position paints a learned 2x2 patch), then a
    :class:`ConvBlock`. As SegNet, but the upsampling is learned instead of guided by pooling indices.
    """

    def __init__(self, num_classes: int, channels: tuple[int, int, int] = (16, 32, 64)):
        super().__init__(num_classes, channels)
        c1, c2, c3 = self.encoder.channels
        self.up3, self.decode3 = nn.ConvTranspose2d(c3, c2, 2, stride=2), ConvBlock(c2, c2)
        self.up2, self.decode2 = nn.ConvTranspose2d(c2, c1, 2, stride=2), ConvBlock(c1, c1)
        self.up1, self.decode1 = nn.ConvTranspose2d(c1, c1, 2, stride=2), ConvBlock(c1, c1)
        self.classifier = nn.Conv2d(c1, num_classes, 1)

    def forward_stages(self, images):
        encoded = self.encoder(images)
        x, stages = encoded.features, list(encoded.stages)
        for number, up, decode in (
            (3, self.up3, self.decode3),
            (2, self.up2, self.decode2),
            (1, self.up1, self.decode1),
        ):
            x = decode(up(x))  # [N, C', 2h, 2w]
            stages.append((f"decoder {number} (transposed conv)", x))
        return [*stages, ("scores", self.classifier(x))]


class UNet(_Segmenter):
    """U-Net: transposed-convolution upsampling plus skip connections.

    Decoder stage ``s`` (coarse to fine): upsample ``[N, C, h, w] -> [N, C_s, 2h, 2w]`` with a stride-2
    transposed convolution, **concatenate** the encoder's stage-``s`` features of the same size
    (``[N, C_s, 2h, 2w]``, taken before pooling) along the channels (``[N, 2 C_s, 2h, 2w]``), and
    fuse them with a :class:`ConvBlock` (``-> [N, C_s, 2h, 2w]``). The skips bring back the fine
    detail (exact edges) that pooling threw away; the upsampled path brings the context (what the object is).
    """

    def __init__(self, num_classes: int, channels: tuple[int, int, int] = (16, 32, 64)):
        super().__init__(num_classes, channels)
        c1, c2, c3 = self.encoder.channels
        self.up3, self.decode3 = nn.ConvTranspose2d(c3, c3, 2, stride=2), ConvBlock(2 * c3, c3)
        self.up2, self.decode2 = nn.ConvTranspose2d(c3, c2, 2, stride=2), ConvBlock(2 * c2, c2)
        self.up1, self.decode1 = nn.ConvTranspose2d(c2, c1, 2, stride=2), ConvBlock(2 * c1, c1)
        self.classifier = nn.Conv2d(c1, num_classes, 1)

    def forward_stages(self, images):
        encoded = self.encoder(images)
        x, stages = encoded.features, list(encoded.stages)
        for number, up, decode, skip in zip(
            (3, 2, 1),
            (self.up3, self.up2, self.up1),
            (self.decode3, self.decode2, self.decode1),
            reversed(encoded.skips),
        ):
            x = up(x)  # [N, C_s, 2h, 2w]
            x = decode(torch.cat([x, skip], dim=1))  # concatenate the skip: [N, 2 C_s, 2h, 2w] -> [N, C_s, 2h, 2w]
            stages.append((f"decoder {number} (+ skip)", x))
        return [*stages, ("scores", self.classifier(x))]


class PyramidPooling(nn.Module):
    """PSPNet's pyramid pooling module: context from the whole image at several scales.

    For each bin count ``b`` in ``bins``: ``nn.AdaptiveAvgPool2d(b)`` averages the features over a
    ``b x b`` grid of regions (``[N, C, h, w] -> [N, C, b, b]``; ``b = 1`` is the global average), a 1x1
    convolution (with batch norm and ReLU) reduces the channels to ``branch_channels``, and bilinear
    interpolation stretches the result back to ``h x w``. The input and every branch are concatenated:
    ``[N, C + len(bins) * branch_channels, h, w]``.

    Args:
        in_channels (int): channels ``C`` of the features.
        bins (tuple of int): grid sizes, default PSPNet's ``(1, 2, 3, 6)``.
        branch_channels (int): channels per branch; default ``in_channels // len(bins)`` (the paper's 1/N).
    """

    def __init__(self, in_channels: int, bins: tuple[int, ...] = (1, 2, 3, 6), branch_channels: int | None = None):
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, min_value=1)
        check_type("bins", bins, (tuple, list), "a tuple of grid sizes such as (1, 2, 3, 6)")
        if not bins:
            raise ValueError("bins must name at least one grid size")
        self.bins = tuple(check_int(f"bins[{i}]", b, min_value=1) for i, b in enumerate(bins))
        if branch_channels is None:
            branch_channels = max(in_channels // len(self.bins), 1)
        self.branch_channels = check_int("branch_channels", branch_channels, min_value=1)
        self.branches = nn.ModuleList(
            nn.Sequential(
                nn.AdaptiveAvgPool2d(b),
                nn.Conv2d(in_channels, self.branch_channels, 1, bias=False),
                nn.BatchNorm2d(self.branch_channels),
                nn.ReLU(inplace=True),
            )
            for b in self.bins
        )

    @property
    def out_channels(self) -> int:
        return self.in_channels + len(self.bins) * self.branch_channels

    def pooled(self, features: Tensor) -> list[Tensor]:
        """Each branch's output before upsampling: ``[N, branch_channels, b, b]`` per bin count ``b``."""
        return [branch(features) for branch in self.branches]

    def forward(self, features: Tensor) -> Tensor:
        check_tensor("features", features, ndim=4, floating=True)
        if features.shape[1] != self.in_channels:
            raise ValueError(f"features must have {self.in_channels} channels, got {features.shape[1]}")
        size = features.shape[-2:]
        context = [F.interpolate(p, size=size, mode="bilinear", align_corners=False) for p in self.pooled(features)]
        return torch.cat([features, *context], dim=1)  # [N, C + len(bins) * branch_channels, h, w]


class PSPNet(_Segmenter):
    """PSPNet: the encoder's coarse features, pyramid pooling, a 3x3 conv, a 1x1 classifier, bilinear x8.

    ``[N, 3, H, W] -> encoder [N, C3, H/8, W/8] -> pyramid pooling [N, 2 C3, H/8, W/8] -> conv
    [N, C3, H/8, W/8] -> 1x1 [N, K, H/8, W/8] -> bilinear [N, K, H, W]``. With ``bins=()`` the pyramid
    is left out (the 3x3 conv sees only the features): the same network without its context module.
    """

    def __init__(
        self, num_classes: int, channels: tuple[int, int, int] = (16, 32, 64), bins: tuple[int, ...] = (1, 2, 3, 6)
    ):
        super().__init__(num_classes, channels)
        c3 = self.encoder.out_channels
        check_type("bins", bins, (tuple, list), "a tuple of grid sizes such as (1, 2, 3, 6), or ()")
        self.pyramid = PyramidPooling(c3, tuple(bins)) if bins else None
        head_in = self.pyramid.out_channels if self.pyramid is not None else c3
        self.head = nn.Sequential(
            nn.Conv2d(head_in, c3, 3, padding=1, bias=False), nn.BatchNorm2d(c3), nn.ReLU(inplace=True)
        )
        self.classifier = nn.Conv2d(c3, num_classes, 1)

    def forward_stages(self, images):
        encoded = self.encoder(images)
        x, stages = encoded.features, list(encoded.stages)
        if self.pyramid is not None:
            x = self.pyramid(x)  # [N, C3 + 4 * C3/4, H/8, W/8]
            stages.append(("pyramid pooling", x))
        x = self.head(x)  # [N, C3, H/8, W/8]
        coarse = self.classifier(x)  # [N, K, H/8, W/8]
        scores = F.interpolate(coarse, size=images.shape[-2:], mode="bilinear", align_corners=False)
        return [*stages, ("coarse scores", coarse), ("scores (bilinear x8)", scores)]


#: The models of the comparison, by name.
MODELS = {
    "FCN baseline": FCNBaseline,
    "SegNet (unpooling)": SegNet,
    "transposed conv": TransposedConvNet,
    "U-Net (skips)": UNet,
    "PSPNet (pyramid)": PSPNet,
}


def build_segmenter(name: str, num_classes: int, channels: tuple[int, int, int] = (16, 32, 64), **kwargs) -> nn.Module:
    """A fresh model of :data:`MODELS` by name (extra keyword arguments go to its constructor)."""
    check_choice("name", name, list(MODELS))
    return MODELS[name](num_classes, channels, **kwargs)


def adaptive_pool_regions(size: int, bins: int) -> list[tuple[int, int]]:
    """The rows (or columns) ``[start, end)`` that each of the ``bins`` outputs of adaptive pooling averages
    over, on an input of ``size``: ``start = floor(i * size / bins)``, ``end = ceil((i + 1) * size / bins)``
    (PyTorch's rule). When ``bins`` does not divide ``size`` the regions differ in length or overlap: 6 bins
    on 8 rows are ``[0, 2), [1, 3), [2, 4), [4, 6), [5, 7), [6, 8)``.
    """
    size = check_int("size", size, min_value=1)
    bins = check_int("bins", bins, min_value=1)
    return [((i * size) // bins, -((-(i + 1) * size) // bins)) for i in range(bins)]


def strongest_channel(features: Tensor) -> Tensor:
    """``[C, h, w] -> [h, w]``: the channel whose values vary most over the positions (the one with the
    most structure to look at)."""
    check_tensor("features", features, ndim=3)
    variation = features.detach().float().flatten(1).var(dim=1, unbiased=False)  # [C]
    return features[int(variation.argmax())].detach()


def stage_pictures(stages: list[tuple[str, Tensor]], index: int = 0) -> list[tuple[str, Tensor, tuple[int, ...]]]:
    """``(name, picture, shape)`` for each stage of ``forward_stages`` output, for image ``index`` of the batch.

    The input stays an RGB image ``[3, H, W]``; class scores (stages named "... scores ...") become label
    maps (``argmax`` over the classes); other feature maps show their :func:`strongest_channel`. ``shape`` is
    the stage's ``(channels, height, width)``.
    """
    check_type("stages", stages, list, "the list of (name, tensor) pairs of forward_stages")
    index = check_int("index", index)
    pictures = []
    for name, tensor in stages:
        check_tensor(f"stage {name!r}", tensor, ndim=4)
        check_int("index", index, min_value=-len(tensor), max_value=len(tensor) - 1)
        one = tensor[index].detach().cpu()
        if name == "input":
            picture = one
        elif "scores" in name:
            picture = one.argmax(dim=0)
        else:
            picture = strongest_channel(one)
        pictures.append((name, picture, tuple(one.shape)))
    return pictures
