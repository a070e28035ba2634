"""scikit-learn's handwritten digits, upsampled: small, real, labelled, offline.

1,797 grey 8x8 images of the digits 0-9 (the UCI optical-recognition set,
shipped inside scikit-learn), bilinearly upsampled so that convolutions and
pooling have room to work.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from vislib._validation import check_int, check_number

__all__ = ["ImageSplit", "load_digits"]


@dataclass(frozen=True)
class ImageSplit:
    """Train and test tensors: images ``[N, 1, S, S]`` in [0, 1], labels ``[N]`` (int64)."""

    train_images: Tensor
    train_labels: Tensor
    test_images: Tensor
    test_labels: Tensor

    def to(self, device) -> ImageSplit:
        return ImageSplit(
            *(t.to(device) for t in (self.train_images, self.train_labels, self.test_images, self.test_labels))
        )


def load_digits(size: int = 16, test_fraction: float = 0.2, seed: int = 0) -> ImageSplit:
    """The digits upsampled to ``size`` x ``size``, split at random (fixed by ``seed``)."""
    from sklearn.datasets import load_digits as sklearn_digits

    size = check_int("size", size, min_value=8, max_value=128)
    test_fraction = check_number("test_fraction", test_fraction, min_value=0.05, max_value=0.95)
    seed = check_int("seed", seed, min_value=0)
    digits = sklearn_digits()
    images = torch.tensor(digits.images, dtype=torch.float32)[:, None] / 16.0
    if size != 8:
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    test_count = int(round(test_fraction * len(labels)))
    test, train = order[:test_count], order[test_count:]
    return ImageSplit(images[train], labels[train], images[test], labels[test])
