"""How far a segmenter's prediction at one pixel can look: its theoretical receptive field and its gradient.

PSPNet's pyramid pooling (Zhao et al. 2017, arXiv 1612.01105) exists because a convolutional network's
prediction at a pixel depends only on the input inside its receptive field. For the networks of
:mod:`vislib.models.segmentation`:

* :func:`segmenter_layers` lists a model's path from the input to its coarse class scores as
  :class:`~vislib.analysis.receptive_field.Layer` s, and :func:`score_field_size` gives the field of one
  full-resolution score: the coarse unit's field (:func:`~vislib.analysis.receptive_field.receptive_field`)
  plus one coarse step, since bilinear upsampling mixes two neighbouring coarse units per axis;
* :func:`pixel_gradient_map` measures what a trained model's score at one pixel actually depends on: the
  magnitude of its gradient with respect to every input pixel (Luo et al. 2016, arXiv 1701.04128). Outside
  the receptive field it is exactly 0; a pyramid's global average reaches every pixel of the image.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vislib._validation import check_int, check_tensor, check_type
from vislib.analysis.receptive_field import Layer, receptive_field

__all__ = ["pixel_gradient_map", "score_field_size", "segmenter_layers"]


def segmenter_layers(model: nn.Module) -> list[Layer]:
    """The conv / pool layers from the input to the coarse class scores of an FCN-like segmenter
    (:class:`~vislib.models.segmentation.FCNBaseline` or :class:`~vislib.models.segmentation.PSPNet`).

    The shared encoder: three stages of two 3x3 convolutions (padding 1) and a 2x2 max pool, then the 3x3
    bottleneck; PSPNet adds its 3x3 head convolution (the pyramid's branches are *global* pools, which have
    no finite field: they are left out). 1x1 convolutions do not change the field.
    """
    from vislib.models.segmentation import FCNBaseline, PSPNet

    check_type("model", model, (FCNBaseline, PSPNet), "an FCNBaseline or a PSPNet")
    conv, pooling = Layer("conv", 3, 1, 1), Layer("pool", 2, 2, 0)
    layers = [conv, conv, pooling] * 3 + [conv]
    if isinstance(model, PSPNet):
        layers.append(conv)
    return layers


def score_field_size(model: nn.Module) -> int:
    """Side in input pixels of the window that one full-resolution score of ``model`` can depend on
    without pyramid pooling: the coarse unit's receptive field plus one coarse step (bilinear upsampling
    interpolates between coarse units ``jump`` pixels apart)."""
    last = receptive_field(segmenter_layers(model))[-1]
    return last.size + last.jump


def pixel_gradient_map(model: nn.Module, image: Tensor, row: int, col: int, class_index: int | None = None) -> Tensor:
    """``float [H, W]``: ``|d score[class_index, row, col] / d image|`` summed over the colour channels.

    ``image`` is ``[3, H, W]``; the model runs in evaluation mode (batch norm with its running statistics,
    so the gradient is that of the deployed network) and is restored to its former mode. ``class_index``
    defaults to the class the model predicts at ``(row, col)``.
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_tensor("image", image, ndim=3, floating=True)
    height, width = image.shape[-2:]
    row = check_int("row", row, min_value=0, max_value=height - 1)
    col = check_int("col", col, min_value=0, max_value=width - 1)
    was_training = model.training
    model.eval()
    device = next(model.parameters(), image).device
    x = image[None].detach().to(device).requires_grad_(True)
    scores = model(x)
    scores = scores["out"] if isinstance(scores, dict) else scores
    if class_index is None:
        class_index = int(scores[0, :, row, col].argmax())
    class_index = check_int("class_index", class_index, min_value=0, max_value=scores.shape[1] - 1)
    (gradient,) = torch.autograd.grad(scores[0, class_index, row, col], x)
    model.train(was_training)
    return gradient[0].abs().sum(dim=0).cpu()
