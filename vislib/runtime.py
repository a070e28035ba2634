"""Where and how big the notebooks run: device, seeding and the run profile.

* :func:`device` picks CUDA when there is a GPU, else the CPU
  (``VISLIB_DEVICE`` overrides it).
* :func:`seed_everything` makes a run reproducible with one call.
* :func:`profile` tells which profile is active: ``quick`` (CI, 2 CPU cores,
  every notebook in a minute or two) or ``full`` (lectures, GPUs). It is
  chosen by the ``VISLIB_PROFILE`` environment variable; without it, ``quick``
  under CI (``CI=true``) and ``full`` otherwise. Every training demo takes its
  sizes from ``profile().pick(quick=..., full=...)``.
* :func:`available_cpus` counts the CPUs this process may use (its affinity mask and any cgroup CPU quota, as in
  containers and JupyterHub), and :func:`configure_threads` gives PyTorch that many threads (``VISLIB_THREADS``
  overrides it); :func:`device` and :func:`seed_everything` call it once.

Sharing the cores with another CPU-bound process (a second kernel, a CI job) slows PyTorch's many small
parallel regions down far more than the lost CPU share: OpenMP's worker threads wait for each other at the end
of every region, and by default they wait spinning, burning the CPU time the descheduled partner needs.
Importing this module before torch therefore sets ``OMP_WAIT_POLICY=PASSIVE`` (waiting threads sleep) unless
the environment says otherwise; ``make lab``, ``make test`` and ``make benchmark`` set it for the kernels,
which import torch first.
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
    "available_cpus",
    "CGROUP_ROOT",
    "cgroup_cpu_quota",
    "configure_threads",
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
    "THREADS_VARIABLE",
    "torch_generator",
]

PROFILE_VARIABLE = "VISLIB_PROFILE"
DEVICE_VARIABLE = "VISLIB_DEVICE"
PROFILE_NAMES = ("quick", "full")
THREADS_VARIABLE = "VISLIB_THREADS"
DEFAULT_SEED = 0
CGROUP_ROOT = "/sys/fs/cgroup"

# OpenMP reads its wait policy once, when torch loads it: this only helps when vislib is imported before torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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


def available_cpus(*, cgroup_root: str = CGROUP_ROOT) -> int:
    """How many CPUs this process may use: its affinity mask, capped by the cgroup's CPU quota (rounded down,
    at least 1). ``os.cpu_count()`` counts the host's cores instead, too many in a container.

    The quota is cgroup v2's ``cpu.max`` (``"200000 100000"`` is 2 CPUs, ``"max 100000"`` none) or cgroup v1's
    ``cpu/cpu.cfs_quota_us`` over ``cpu/cpu.cfs_period_us`` (a quota of -1 is none), under ``cgroup_root``.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_cpu_quota(cgroup_root)
    if quota is not None:
        cpus = min(cpus, int(quota))
    return max(cpus, 1)


def cgroup_cpu_quota(cgroup_root: str = CGROUP_ROOT) -> float | None:
    """The cgroup's CPU quota in CPUs (1.5 = one and a half), or ``None`` when there is none or no cgroup files."""
    if not isinstance(cgroup_root, (str, os.PathLike)):
        raise TypeError(f"cgroup_root must be a directory path (str or os.PathLike), got {type(cgroup_root).__name__}")
    root = os.fspath(cgroup_root)
    try:
        with open(os.path.join(root, "cpu.max")) as file:  # cgroup v2
            quota, _, period = file.read().strip().partition(" ")
        if quota == "max":
            return None
        return int(quota) / int(period or 100000)
    except (OSError, ValueError):
        pass
    try:  # cgroup v1
        with open(os.path.join(root, "cpu", "cpu.cfs_quota_us")) as file:
            quota = int(file.read().strip())
        with open(os.path.join(root, "cpu", "cpu.cfs_period_us")) as file:
            period = int(file.read().strip())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


_configured_threads: int | None = None


def configure_threads(threads: int | None = None) -> int:
    """Give PyTorch ``threads`` CPU threads (default ``VISLIB_THREADS``, else ``OMP_NUM_THREADS``, else
    :func:`available_cpus`); return it.

    :func:`device` and :func:`seed_everything` call this once per process, so no notebook sets thread counts.
    """
    global _configured_threads
    import torch

    if threads is None:
        wanted = os.environ.get(THREADS_VARIABLE, "").strip()
        if wanted and not (wanted.isdigit() and int(wanted) > 0):
            raise ValueError(f"environment variable {THREADS_VARIABLE} must be a positive integer, got {wanted!r}")
        omp = os.environ.get("OMP_NUM_THREADS", "").strip()
        threads = int(wanted) if wanted else int(omp) if omp.isdigit() and int(omp) > 0 else available_cpus()
    threads = check_int("threads", threads, min_value=1)
    torch.set_num_threads(threads)
    _configured_threads = threads
    return threads


def _configure_threads_once() -> None:
    if _configured_threads is None:
        configure_threads()


def device():
    """``torch.device('cuda')`` when a GPU is available, else ``torch.device('cpu')``.

    ``VISLIB_DEVICE=cpu`` forces the CPU even on a GPU machine. The first call also sets PyTorch's CPU threads
    (:func:`configure_threads`).
    """
    import torch

    _configure_threads_once()

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
    The first call also sets PyTorch's CPU threads (:func:`configure_threads`).
    """
    import numpy as np
    import torch

    _configure_threads_once()

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
        "available_cpus": available_cpus(),
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
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
