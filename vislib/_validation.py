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

__all__ = [
    "check_bool",
    "check_boxes_in_image",
    "check_callable",
    "check_choice",
    "check_detections",
    "check_index",
    "check_int",
    "check_model_input",
    "check_number",
    "check_rgb_image",
    "check_tensor",
    "check_type",
]


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} (type {type(value).__name__})"


def check_type(name: str, value: Any, expected: type | tuple[type, ...], what: str) -> None:
    """Raise TypeError unless ``value`` is an instance of ``expected``."""
    if not isinstance(value, expected):
        raise TypeError(f"{name} must be {what}, got {_describe(value)}")


def _scalar(value: Any) -> Any:
    """A one-element torch tensor or 0-d numpy array as its Python number (torch accepts them as scalars)."""
    if type(value).__module__.startswith(("torch", "numpy")) and getattr(value, "ndim", None) == 0:
        if getattr(value, "dtype", None) is not None and str(value.dtype) in ("bool", "torch.bool"):
            return value
        return value.item()
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` as bool; True / False, or the integers 0 and 1 (torch's ops accept those)."""
    value = _scalar(value)
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {_describe(value)}")


def check_int(name: str, value: Any, *, min_value: int | None = None, max_value: int | None = None) -> int:
    """Return ``value`` as int; it must be an integer (not a bool) within the bounds."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    value = int(value)
    _check_bounds(name, value, min_value, max_value)
    return value


def check_number(name: str, value: Any, *, min_value: float | None = None, max_value: float | None = None) -> float:
    """Return ``value`` as float; it must be a finite real number within the bounds."""
    value = _scalar(value)
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


def check_index(index: Any, length: int) -> int:
    """A data set's ``__getitem__`` index as a non-negative int (negative counts from the end, as for a list)."""
    if isinstance(index, bool) or not isinstance(index, (numbers.Integral,)):
        raise TypeError(f"index must be an integer, got {type(index).__name__}")
    index = int(index)
    if index < 0:
        index += length
    if not 0 <= index < length:
        raise IndexError(f"index {index} is out of range for a data set of {length} images")
    return index


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


def check_detections(
    name: str,
    value: Any,
    *,
    keys: Sequence[str] = ("boxes", "scores", "labels"),
    length: int | None = None,
    length_name: str | None = None,
) -> list:
    """A list of per-image dicts of tensors (torchvision's detection format).

    Each dict must hold ``keys``: ``boxes`` a finite ``Tensor[N, 4]`` xyxy with
    ``x2 >= x1`` and ``y2 >= y1``, ``scores`` a finite floating ``Tensor[N]``,
    ``labels`` an integer ``Tensor[N]``, all with the same ``N`` (nothing is
    truncated). ``length`` (with ``length_name``) is the number of images expected.
    """
    import torch

    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of dicts with {', '.join(map(repr, keys))}, got {_describe(value)}")
    if length is not None and len(value) != length:
        raise ValueError(f"{name} must have one entry per image ({length} in {length_name}), got {len(value)}")
    for i, item in enumerate(value):
        where = f"{name}[{i}]"
        if not isinstance(item, dict):
            raise TypeError(f"{where} must be a dict with {', '.join(map(repr, keys))}, got {_describe(item)}")
        missing = [k for k in keys if k not in item]
        if missing:
            raise ValueError(f"{where} must have the keys {', '.join(map(repr, keys))}; missing {missing}")
        n = None
        for key in keys:
            tensor = item[key]
            label = f"{where}[{key!r}]"
            if key == "boxes":
                check_tensor(label, tensor, shape=("N", 4))
            else:
                check_tensor(label, tensor, shape=("N",))
            if n is None:
                n, first = tensor.shape[0], key
            elif tensor.shape[0] != n:
                raise ValueError(f"{label} must have one entry per box ({n} in {first!r}), got {tensor.shape[0]}")
            if key == "labels" and (tensor.is_floating_point() or tensor.dtype == torch.bool or tensor.is_complex()):
                raise TypeError(f"{label} must be an integer tensor, got dtype {tensor.dtype}")
            if key in ("boxes", "scores"):
                if tensor.dtype == torch.bool or tensor.is_complex():
                    raise TypeError(f"{label} must hold real numbers, got dtype {tensor.dtype}")
                if tensor.is_floating_point() and not torch.isfinite(tensor).all():
                    raise ValueError(f"{label} must be finite (no NaN or inf)")
            if key == "boxes" and len(tensor):
                broken = (tensor[:, 2] < tensor[:, 0]) | (tensor[:, 3] < tensor[:, 1])
                if broken.any():
                    bad = int(torch.nonzero(broken)[0])
                    raise ValueError(f"{label} must have x2 >= x1 and y2 >= y1; box {bad} is {tensor[bad].tolist()}")
    return list(value)


def check_model_input(name: str, x: Any, module: Any, *, channels: int) -> Any:
    """A batch of images ``Tensor[N, channels, H, W]`` on the dtype and device of ``module``'s parameters.

    Catches up front what torch's convolution would report as a bare shape or
    dtype ``RuntimeError`` (a grey ``[N, 1, H, W]`` batch, a float64 tensor).
    """
    check_tensor(name, x, ndim=4, floating=True)
    if x.shape[1] != channels:
        raise ValueError(f"{name} must have {channels} channels, [N, {channels}, H, W], got shape {list(x.shape)}")
    parameter = next(iter(module.parameters()), None)
    if parameter is not None:
        if x.dtype != parameter.dtype:
            raise TypeError(
                f"{name} must have the model's dtype {parameter.dtype}, got {x.dtype} "
                f"(convert with .to({parameter.dtype}))"
            )
        if x.device != parameter.device:
            raise ValueError(f"{name} must be on the model's device {parameter.device}, got {x.device}")
    return x
