"""Argument validation shared by every public vislib function.

Each helper raises ``TypeError`` (wrong kind of value) or ``ValueError``
(right kind, wrong value) with a message that names the argument and says
what was expected, so a student never has to decode a shape error from deep
inside torch.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} (type {type(value).__name__})"


def check_type(name: str, value: Any, expected: type | tuple[type, ...], what: str) -> None:
    """Raise TypeError unless ``value`` is an instance of ``expected``."""
    if not isinstance(value, expected):
        raise TypeError(f"{name} must be {what}, got {_describe(value)}")


def check_int(name: str, value: Any, *, min_value: int | None = None, max_value: int | None = None) -> int:
    """Return ``value`` as int; it must be an integer (not a bool) within the bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    value = int(value)
    _check_bounds(name, value, min_value, max_value)
    return value


def check_number(name: str, value: Any, *, min_value: float | None = None, max_value: float | None = None) -> float:
    """Return ``value`` as float; it must be a finite real number within the bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    _check_bounds(name, value, min_value, max_value)
    return value


def _check_bounds(name: str, value: float, min_value: float | None, max_value: float | None) -> None:
    if min_value is not None and value < min_value:
        raise ValueError(f"{name} must be >= {min_value}, got {value}")
    if max_value is not None and value > max_value:
        raise ValueError(f"{name} must be <= {max_value}, got {value}")


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def check_callable(name: str, value: Any) -> Callable:
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {_describe(value)}")
    return value


def check_tensor(
    name: str,
    value: Any,
    *,
    shape: Sequence[int | str | None] | None = None,
    ndim: int | Sequence[int] | None = None,
    floating: bool = False,
) -> Any:
    """Check a ``torch.Tensor`` argument.

    ``shape`` is a pattern such as ``(None, 4)`` or ``("K", 5)``: an int must
    match exactly, ``None`` or a letter matches any size (the letter only
    names it in the message).
    """
    import torch

    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_describe(value)}")
    if shape is not None:
        pattern = "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"
        if value.ndim != len(shape) or any(isinstance(s, int) and s != actual for s, actual in zip(shape, value.shape)):
            raise ValueError(f"{name} must have shape {pattern}, got {list(value.shape)}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if value.ndim not in allowed:
            wanted = " or ".join(f"{n}-D" for n in allowed)
            raise ValueError(f"{name} must be a {wanted} tensor, got shape {list(value.shape)}")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


def check_rgb_image(name: str, image) -> Any:
    """An RGB image as ``Tensor[3, H, W]`` floats in [0, 1]; a uint8 ``[H, W, 3]`` array is converted."""
    import numpy as np
    import torch

    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"{name} as a numpy array must be uint8 [H, W, 3] (RGB), got {image.dtype} {list(image.shape)}"
            )
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float() / 255
    check_tensor(name, image, ndim=3, floating=True)
    if image.shape[0] != 3:
        raise ValueError(f"{name} must be an RGB image [3, H, W], got {list(image.shape)}")
    if image.shape[1] < 2 or image.shape[2] < 2:
        raise ValueError(f"{name} must be at least 2 x 2 pixels, got {list(image.shape)}")
    if not torch.isfinite(image).all():
        raise ValueError(f"{name} must be finite")
    return image


def check_boxes_in_image(name: str, boxes: Any, image: Any) -> Any:
    """``Tensor[K, 4]`` float xyxy boxes, each with x2 > x1 and y2 > y1 and overlapping ``image`` ``[C, H, W]``."""
    import torch

    check_tensor(name, boxes, shape=("K", 4))
    if not boxes.is_floating_point():
        boxes = boxes.float()
    if not torch.isfinite(boxes).all():
        raise ValueError(f"{name} must be finite")
    if ((boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])).any():
        bad = int(torch.nonzero((boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1]))[0])
        raise ValueError(f"{name} must have x2 > x1 and y2 > y1; box {bad} is {boxes[bad].tolist()}")
    height, width = image.shape[-2:]
    outside = (boxes[:, 0] >= width) | (boxes[:, 1] >= height) | (boxes[:, 2] <= 0) | (boxes[:, 3] <= 0)
    if outside.any():
        bad = int(torch.nonzero(outside)[0])
        raise ValueError(f"{name}[{bad}] = {boxes[bad].tolist()} lies outside the {width} x {height} image")
    return boxes
