"""Where and how big the notebooks run: device, seeding and the run profile.

* :func:`device` picks CUDA when there is a GPU, else the CPU
  (``VISLIB_DEVICE`` overrides it).
* :func:`seed_everything` makes a run reproducible with one call.
* :func:`profile` tells which profile is active: ``quick`` (CI, 2 CPU cores,
  every notebook in a minute or two) or ``full`` (lectures, GPUs). It is
  chosen by the ``VISLIB_PROFILE`` environment variable; without it, ``quick``
  under CI (``CI=true``) and ``full`` otherwise. Every training demo takes its
  sizes from ``profile().pick(quick=..., full=...)``.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import platform
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from vislib._validation import check_choice, check_int

__all__ = [
    "DEFAULT_SEED",
    "device",
    "DEVICE_VARIABLE",
    "environment_report",
    "notebook_results",
    "Profile",
    "profile",
    "PROFILE_NAMES",
    "PROFILE_VARIABLE",
    "seed_everything",
    "single_thread",
    "T",
    "torch_generator",
]

PROFILE_VARIABLE = "VISLIB_PROFILE"
DEVICE_VARIABLE = "VISLIB_DEVICE"
PROFILE_NAMES = ("quick", "full")
DEFAULT_SEED = 0

T = TypeVar("T")


@dataclass(frozen=True)
class Profile:
    """The active run profile; ``pick`` chooses a size for it."""

    name: str

    def __post_init__(self) -> None:
        check_choice("profile name", self.name, PROFILE_NAMES)

    @property
    def is_quick(self) -> bool:
        return self.name == "quick"

    def pick(self, *, quick: T, full: T) -> T:
        """Return ``quick`` in the quick profile and ``full`` in the full one."""
        return quick if self.is_quick else full

    def __str__(self) -> str:
        return self.name


def profile() -> Profile:
    """The profile selected by ``VISLIB_PROFILE`` (``quick`` or ``full``)."""
    value = os.environ.get(PROFILE_VARIABLE, "").strip().lower()
    if not value:
        value = "quick" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "full"
    if value not in PROFILE_NAMES:
        raise ValueError(
            f"environment variable {PROFILE_VARIABLE} must be 'quick' or 'full', got {os.environ[PROFILE_VARIABLE]!r}"
        )
    return Profile(value)


def device():
    """``torch.device('cuda')`` when a GPU is available, else ``torch.device('cpu')``.

    ``VISLIB_DEVICE=cpu`` forces the CPU even on a GPU machine.
    """
    import torch

    wanted = os.environ.get(DEVICE_VARIABLE, "").strip().lower()
    if wanted:
        check_choice(f"environment variable {DEVICE_VARIABLE}", wanted, ("cpu", "cuda"))
        if wanted == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"{DEVICE_VARIABLE}=cuda but torch sees no CUDA device")
        return torch.device(wanted)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int = DEFAULT_SEED) -> int:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) and prefer deterministic kernels.

    Returns the seed, so a notebook can print it. Two runs of the same cell
    sequence after the same call give the same numbers on the same machine.
    """
    import numpy as np
    import torch

    seed = check_int("seed", seed, min_value=0, max_value=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return seed


@contextlib.contextmanager
def single_thread():
    """Run the enclosed torch ops on one CPU thread, then restore the thread count.

    For tiny ops (one RoI on a small map, a 64 x 64 single-channel convolution) waking a second thread
    costs more than it saves, and much more on a busy machine: widgets' update paths use this.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def torch_generator(seed: int = DEFAULT_SEED):
    """A fresh ``torch.Generator`` on the CPU, for DataLoaders and samplers."""
    import torch

    seed = check_int("seed", seed, min_value=0, max_value=2**63 - 1)
    return torch.Generator().manual_seed(seed)


def environment_report() -> dict[str, Any]:
    """Versions, device and profile, for the environment check of the start-here notebook."""
    import importlib.metadata as metadata

    import torch

    packages = {}
    for distribution in (
        "torch",
        "torchvision",
        "numpy",
        "matplotlib",
        "ipywidgets",
        "jupyterlab",
        "opencv-contrib-python-headless",
        "scikit-image",
        "scikit-learn",
    ):
        try:
            packages[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            packages[distribution] = None
    chosen = device()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(chosen),
        "gpu": torch.cuda.get_device_name(0) if chosen.type == "cuda" else None,
        "profile": profile().name,
        "packages": packages,
    }


def notebook_results(
    numbers: Mapping[str, Any], *, device=None, digits: int = 4, claims: Sequence[Any] = ()
) -> dict[str, Any]:
    """A notebook's ``RESULTS``: the profile of this run (and its device, when given), then ``numbers``, then
    each of ``claims`` (:class:`vislib.analysis.claims.Claim`) under ``"claim: <the slide's claim>"``.

    Floats keep 4 significant digits and at most ``digits`` decimals (an mAP of 0.81234 -> 0.8123, 48.8321
    seconds -> 48.83); ``None`` (a goal never reached, say) reads "not reached"; anything else is kept as it
    is. ``make benchmark`` runs the notebook and records these numbers in ``BENCHMARKS.md``.
    """
    if not isinstance(numbers, Mapping):
        raise TypeError(f"numbers must be a mapping {{name: value}}, got {type(numbers).__name__}")
    digits = check_int("digits", digits, min_value=0)
    results: dict[str, Any] = {"profile": profile().name}
    if device is not None:
        results["device"] = str(device)
    for name, value in numbers.items():
        results[name] = "not reached" if value is None else _rounded(value, digits)
    for claim in claims:
        if not hasattr(claim, "as_result"):
            raise TypeError(f"claims must hold vislib.analysis.claims.Claim objects, got {type(claim).__name__}")
        result = claim.as_result()
        results[f"claim: {result['claim']}"] = {
            key: _rounded(value, digits) if isinstance(value, float) else value for key, value in result.items()
        }
    return results


def _rounded(value, digits: int):
    if isinstance(value, numbers.Integral) or not isinstance(value, numbers.Real):
        return value
    value = float(value)
    if not math.isfinite(value) or abs(value) < 1:
        return round(value, digits) if math.isfinite(value) else value
    return round(value, max(min(digits, 3 - int(math.floor(math.log10(abs(value))))), 0))
