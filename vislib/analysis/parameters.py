"""How big a network is: the one parameter count every notebook uses (04's decoders, 03's ResNeXt forms)."""

from __future__ import annotations

from torch import nn

from vislib._validation import check_type

__all__ = ["count_parameters"]


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters (every ``parameter.numel()`` with ``requires_grad`` added up)."""
    check_type("model", model, nn.Module, "a torch.nn.Module")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
