"""Trained models without waiting: shipped weights, a local cache, or training now.

:func:`trained` gives a notebook's model its trained weights by the first of three paths that applies, and says
which it took:

1. **shipped**: ``assets/weights/<name>.safetensors``, listed in ``assets/weights/manifest.json`` with the same
   key (below) and a matching sha256. ``make weights`` (``python -m vislib.tools.weights``) produces them with the
   project's own training code in the full profile;
2. **cache**: ``.cache/vislib/<name>-<key>.safetensors`` under the repository (``VISLIB_CACHE`` moves it), written
   by an earlier run of the same training (``make prepare`` fills it for the whole course);
3. **training now**, after which the result goes into the cache.

The key is a hash of everything the result depends on: the model's architecture and initial weights (so its
configuration and seed), the data sets' configurations, the training settings and :data:`CODE_VERSION`. A file
whose key differs is never used. ``VISLIB_RETRAIN=1`` (or ``retrain=True``) skips paths 1 and 2.

Files are ``safetensors`` (no pickle): the weights, and in the metadata a JSON record of the training run
(its losses, times, ...) and of the training monitor's history, so that the cells after the training cell find
``run`` and ``monitor.history`` as if the training had just happened.

:func:`cached` is the same local cache for any other result a notebook trains: a state dict plus small metric
dicts or recorded arrays (``compute() -> (tensors, record)``), keyed by :func:`content_key` (the model's
architecture, initial weights and code, the data's contents, the settings, the seed, :data:`CODE_VERSION`).
A cache hit restores PyTorch's global random state as the training left it, so the cells after it run exactly
as after a fresh training. The training functions of notebooks 04 and 05 (``train_segmenter``,
``train_presence_classifier``) go through it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import inspect
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vislib._validation import check_callable, check_type

__all__ = [
    "CACHE_VARIABLE",
    "Cached",
    "cached",
    "CODE_VERSION",
    "content_key",
    "MANIFEST",
    "Provenance",
    "RETRAIN_VARIABLE",
    "SOURCES",
    "WEIGHTS_DIR",
    "cache_dir",
    "cache_path",
    "describe_data",
    "load_weights",
    "manifest",
    "monitor_metric",
    "read_record",
    "record",
    "report_sources",
    "retrain_requested",
    "save_weights",
    "sha256_of",
    "shipped_path",
    "trained",
    "training_key",
]

#: Bump when a change to the training code changes what a run gives: every cached and shipped file goes stale.
CODE_VERSION = "1"
RETRAIN_VARIABLE = "VISLIB_RETRAIN"
CACHE_VARIABLE = "VISLIB_CACHE"
REPOSITORY = Path(__file__).resolve().parents[2]
WEIGHTS_DIR = REPOSITORY / "assets" / "weights"
MANIFEST = WEIGHTS_DIR / "manifest.json"
SOURCES = ("shipped", "cache", "trained")
_RECORD_KEY = "vislib"


@dataclasses.dataclass(frozen=True)
class Provenance:
    """Where :func:`trained`'s weights came from: ``source`` is one of :data:`SOURCES`."""

    name: str
    key: str
    source: str
    path: Path | None
    metric: dict | None  # {"name": "mAP@.5", "value": 0.88, "images": 300} when known
    seconds: float  # the time this call took (loading, or training and saving)

    @property
    def message(self) -> str:
        if self.source == "trained":
            return f"{self.name}: trained now in {self.seconds:.0f} s (saved to the local cache)"
        where = "shipped weights" if self.source == "shipped" else "cached weights"
        metric = self.metric
        score = f": {metric['name']} {metric['value']:.2f} on {metric['images']} held-out images" if metric else ""
        return f"{self.name}: loaded trained weights ({where}, {self.path.name}){score}; {RETRAIN_VARIABLE}=1 retrains"


def trained(
    name: str,
    model: nn.Module,
    train: Callable[[], Any],
    *,
    data: Mapping[str, Any],
    settings: Any,
    monitor=None,
    retrain: bool | None = None,
    verbose: bool = True,
):
    """``model`` with trained weights, and the training run that produced them.

    Args:
        name (str): the model's name in the course (``"07_yolo"``): the shipped file's and the cache's name.
        model: the freshly initialized model (its architecture and initial weights enter the key).
        train: ``train() -> run``, training ``model`` in place (a training function of :mod:`vislib.training`
            whose run is an :class:`~vislib.training.epochs.EpochTrainingRun`); called only on path 3.
        data: the data sets the result depends on, by role (``{"train": train_set, "held_out": held_out}``);
            each is described by its class and its ``num_images``, ``image_size``, ``seed``, ... attributes.
        settings: the training settings (a dict or a dataclass such as a ``YoloRecipe``).
        monitor: the :class:`~vislib.plotting.monitor.TrainingMonitor` passed to ``train`` as ``on_epoch``, if
            any: its history is saved with the weights and restored (and shown) on paths 1 and 2.
        retrain (bool): train even when weights exist; default: ``VISLIB_RETRAIN=1`` in the environment.
        verbose (bool): print :attr:`Provenance.message`.

    Returns:
        ``run``: the training run (restored from the file on paths 1 and 2); ``run.provenance`` tells the path.
    """
    check_type("name", name, str, "a string such as '07_yolo'")
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_callable("train", train)
    check_type("data", data, Mapping, "a dict of data sets by role")
    if retrain is None:
        retrain = os.environ.get(RETRAIN_VARIABLE, "").strip().lower() in ("1", "true", "yes")
    check_type("retrain", retrain, bool, "True or False")
    start = time.perf_counter()
    key = training_key(name, model, data, settings)
    if not retrain:
        for source, path in (("shipped", shipped_path(name, key)), ("cache", cache_path(name, key))):
            if path is not None and path.is_file():
                entry = load_weights(model, path)
                run = _restore(entry, monitor)
                run.provenance = Provenance(name, key, source, path, entry.get("metric"), time.perf_counter() - start)
                if verbose:
                    print(run.provenance.message)
                return run
    if verbose:
        print(f"{name}: training now (no shipped or cached weights for key {key})")
    run = train()
    metric = monitor_metric(monitor)
    path = cache_path(name, key)
    save_weights(model, path, record(name, key, run, monitor, settings, metric))
    run.provenance = Provenance(name, key, "trained", path, metric, time.perf_counter() - start)
    if verbose:
        print(run.provenance.message)
    return run


def training_key(name: str, model: nn.Module, data: Mapping[str, Any], settings: Any) -> str:
    """16 hex digits naming one training: the hash of ``name``, the model's architecture and initial weights,
    the data sets' descriptions, the settings and :data:`CODE_VERSION`."""
    check_type("name", name, str, "a string such as '07_yolo'")
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_type("data", data, Mapping, "a dict of data sets by role")
    weights = hashlib.sha256()
    for parameter_name, tensor in model.state_dict().items():
        weights.update(parameter_name.encode())
        weights.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    described = {
        "name": name,
        "code_version": CODE_VERSION,
        "architecture": repr(model),
        "initial_weights": weights.hexdigest(),
        "data": {role: describe_data(dataset) for role, dataset in sorted(data.items())},
        "settings": _plain(settings),
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]


def describe_data(dataset) -> dict:
    """A data set's configuration: its class and its public scalar attributes (``num_images``, ``seed``, ...)."""
    if not hasattr(dataset, "__len__"):
        raise TypeError(f"dataset must be a data set with a length, got {type(dataset).__name__}")
    described = {"class": f"{type(dataset).__module__}.{type(dataset).__qualname__}", "length": len(dataset)}
    for attribute, value in sorted(vars(dataset).items()):
        if not attribute.startswith("_") and isinstance(value, (bool, int, float, str, tuple, list)):
            described[attribute] = _plain(value)
    return described


def shipped_path(name: str, key: str) -> Path | None:
    """The shipped file of ``name`` when the manifest lists it with ``key``, else ``None``."""
    check_type("name", name, str, "a string such as '07_yolo'")
    check_type("key", key, str, "a string (a training key)")
    entry = manifest().get(name)
    if entry is None or entry.get("key") != key:
        return None
    return WEIGHTS_DIR / entry["file"]


def cache_dir() -> Path:
    """Where trained weights are cached: ``VISLIB_CACHE``, default ``.cache/vislib`` in the repository."""
    return Path(os.environ.get(CACHE_VARIABLE) or REPOSITORY / ".cache" / "vislib")


def cache_path(name: str, key: str) -> Path:
    """The cache file of the training ``name`` with ``key`` (it may not exist yet)."""
    check_type("name", name, str, "a string such as '07_yolo'")
    check_type("key", key, str, "a string (a training key)")
    return cache_dir() / f"{name}-{key}.safetensors"


def manifest() -> dict:
    """``assets/weights/manifest.json`` as a dict (empty when there is none)."""
    return json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}


def sha256_of(path: Path) -> str:
    """The sha256 of the file at ``path``, as hex digits (the manifest's checksum)."""
    check_type("path", path, (str, Path), "a file path (str or pathlib.Path)")
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_weights(model: nn.Module, path: Path, record: dict, *, half: bool = False) -> Path:
    """Write ``model``'s state dict (floats as float16 with ``half``) and ``record`` (JSON metadata) to ``path``."""
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_type("path", path, (str, Path), "a file path (str or pathlib.Path)")
    check_type("record", record, dict, "a dict (JSON metadata)")
    check_type("half", half, bool, "True or False")
    from safetensors.torch import save_file

    tensors = {}
    for parameter_name, tensor in model.state_dict().items():
        tensor = tensor.detach().cpu()
        if half and tensor.is_floating_point():
            tensor = tensor.half()
        tensors[parameter_name] = tensor.contiguous().clone()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    save_file(tensors, str(partial), metadata={_RECORD_KEY: json.dumps(record)})
    partial.replace(path)
    return path


def load_weights(model: nn.Module, path: Path) -> dict:
    """Load ``path`` into ``model`` (each tensor cast to the model's dtype, on its device); return the record."""
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_type("path", path, (str, Path), "a file path (str or pathlib.Path)")
    from safetensors import safe_open

    expected = model.state_dict()
    loaded = {}
    with safe_open(str(path), framework="pt") as file:
        record = json.loads((file.metadata() or {}).get(_RECORD_KEY, "{}"))
        for parameter_name in file.keys():
            if parameter_name in expected:
                target = expected[parameter_name]
                loaded[parameter_name] = file.get_tensor(parameter_name).to(target.device, target.dtype)
    missing = sorted(set(expected) - set(loaded))
    if missing:
        raise ValueError(f"{path} does not fit the model: it lacks {missing[:3]} ({len(missing)} tensors)")
    model.load_state_dict(loaded)
    model.eval()
    return record


def read_record(path: Path) -> dict:
    """The JSON record stored with the weights in ``path``."""
    check_type("path", path, (str, Path), "a file path (str or pathlib.Path)")
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as file:
        return json.loads((file.metadata() or {}).get(_RECORD_KEY, "{}"))


def record(name: str, key: str, run, monitor, settings, metric: dict | None) -> dict:
    """What is saved with the weights: the run's fields and class, the monitor's history, the settings, a metric."""
    check_type("name", name, str, "a string such as '07_yolo'")
    check_type("key", key, str, "a string (a training key)")
    entry = {
        "name": name,
        "key": key,
        "code_version": CODE_VERSION,
        "run_type": f"{type(run).__module__}.{type(run).__qualname__}",
        "run": _plain({field.name: getattr(run, field.name) for field in dataclasses.fields(run)}),
        "settings": _plain(settings),
        "metric": metric,
    }
    if monitor is not None:
        entry["monitor"] = _history_record(monitor.history)
    return entry


def monitor_metric(monitor) -> dict | None:
    """The monitor's last held-out score: mask AP@.5 when it scores masks, else mAP@.5 (boxes)."""
    if monitor is not None and not hasattr(monitor, "history"):
        raise TypeError(f"monitor must be a TrainingMonitor or None, got {type(monitor).__name__}")
    if monitor is None or not monitor.history.epochs:
        return None
    images = len(monitor.ground_truth["images"])
    if getattr(monitor, "masks", False) and monitor.history.mask_ap50:
        return {"name": "mask AP@.5", "value": float(monitor.history.mask_ap50[-1]), "images": images}
    return {"name": "mAP@.5", "value": float(monitor.history.ap50[-1]), "images": images}


@dataclasses.dataclass(frozen=True)
class Cached:
    """What :func:`cached` gives: the ``tensors`` and JSON ``record`` of a result, and where they came from
    (``source`` ``"cache"`` or ``"trained"``, the cache file ``path``, the ``seconds`` this call took)."""

    name: str
    key: str
    source: str
    path: Path
    tensors: dict
    record: dict
    seconds: float

    @property
    def message(self) -> str:
        if self.source == "cache":
            return f"{self.name}: loaded from the cache ({self.path.name}); {RETRAIN_VARIABLE}=1 retrains"
        return f"{self.name}: trained now in {self.seconds:.0f} s (saved to the local cache)"


def report_sources(what: str, runs) -> str:
    """One line saying how many of ``runs`` (each with a ``source``) were loaded from the cache and how many
    trained now: what a notebook prints after a loop of cached trainings."""
    check_type("what", what, str, "a description such as 'decoders'")
    sources = [getattr(run, "source", "trained") for run in runs]
    loaded = sources.count("cache")
    if loaded == len(sources):
        return f"{what}: all {loaded} trainings loaded from the local cache; {RETRAIN_VARIABLE}=1 retrains"
    if loaded == 0:
        return f"{what}: {_trainings(len(sources))} trained now (saved to the local cache for the next run)"
    return f"{what}: {_trainings(loaded)} loaded from the cache, {len(sources) - loaded} trained now"


def _trainings(count: int) -> str:
    return f"{count} training{'s' if count != 1 else ''}"


def retrain_requested(retrain: bool | None = None) -> bool:
    """``retrain`` when given, else whether ``VISLIB_RETRAIN`` is set to 1 / true / yes in the environment."""
    if retrain is None:
        return os.environ.get(RETRAIN_VARIABLE, "").strip().lower() in ("1", "true", "yes")
    check_type("retrain", retrain, bool, "True or False")
    return retrain


def cached(
    name: str,
    key: str,
    compute: Callable[[], tuple[dict, dict]],
    *,
    retrain: bool | None = None,
) -> Cached:
    """The result of ``compute()`` from the local cache when an earlier call with the same ``key`` left it there,
    else computed now and saved there.

    Args:
        name (str): what is trained (``"segmentation"``): the cache file's name starts with it.
        key (str): everything the result depends on, hashed (:func:`content_key`).
        compute: ``compute() -> (tensors, record)``: a dict of named tensors (a state dict, recorded arrays) and a
            JSON-able dict (losses, scores, seconds).
        retrain (bool): compute even when the cache holds the result; default: ``VISLIB_RETRAIN=1``.

    PyTorch's global random state after ``compute`` is saved too and restored on a cache hit, so whatever runs
    next draws the same numbers as after a fresh training.
    """
    check_type("name", name, str, "a string such as 'segmentation'")
    check_type("key", key, str, "a string (a key from content_key)")
    check_callable("compute", compute)
    retrain = retrain_requested(retrain)
    start = time.perf_counter()
    path = cache_path(name, key)
    if not retrain and path.is_file():
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as file:
            entry = json.loads((file.metadata() or {}).get(_RECORD_KEY, "{}"))
            tensors = {k: file.get_tensor(k) for k in file.keys()}
        random_state = tensors.pop(_RANDOM_STATE, None)
        if random_state is not None:
            torch.set_rng_state(random_state)
        return Cached(name, key, "cache", path, tensors, entry, time.perf_counter() - start)
    tensors, entry = compute()
    check_type("compute()'s tensors", tensors, dict, "a dict of named tensors")
    check_type("compute()'s record", entry, dict, "a JSON-able dict")
    from safetensors.torch import save_file

    stored = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
    stored[_RANDOM_STATE] = torch.get_rng_state()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    save_file(stored, str(partial), metadata={_RECORD_KEY: json.dumps(_plain(entry))})
    partial.replace(path)
    return Cached(name, key, "trained", path, tensors, entry, time.perf_counter() - start)


def content_key(name: str, **parts) -> str:
    """16 hex digits naming a computation by everything it depends on: ``name``, :data:`CODE_VERSION` and each
    part by content: a module by its architecture, weights (and which are frozen), every submodule's plain
    attributes (a flag such as ``residual=True`` changes the forward pass, not the weights) and the source code of
    its classes; a tensor by its dtype, shape and bytes; a function or class by its source code; a data set by
    :func:`describe_data`; anything else as plain data (dataclasses, dicts, lists, numbers, strings)."""
    check_type("name", name, str, "a string such as 'segmentation'")
    described = {"name": name, "code_version": CODE_VERSION}
    described.update({part: _describe(value) for part, value in sorted(parts.items())})
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]


_RANDOM_STATE = "__torch_random_state__"


def _describe(value):
    if isinstance(value, nn.Module):
        classes = sorted({type(m) for m in value.modules()}, key=lambda t: f"{t.__module__}.{t.__qualname__}")
        return {
            "architecture": repr(value),
            "weights": _tensors_digest(value.state_dict()),
            "frozen": [n for n, p in value.named_parameters() if not p.requires_grad],
            "code": [_source_digest(t) for t in classes if t.__module__.startswith("vislib.")],
            "attributes": {name: _module_attributes(module) for name, module in value.named_modules()},
        }
    if isinstance(value, torch.Tensor):
        return {"dtype": str(value.dtype), "shape": list(value.shape), "digest": _tensor_digest(value)}
    if inspect.isfunction(value) or inspect.ismethod(value):
        return {"function": f"{value.__module__}.{value.__qualname__}", "code": _source_digest(value)}
    if inspect.isclass(value):
        return {"class": f"{value.__module__}.{value.__qualname__}", "code": _source_digest(value)}
    if isinstance(value, (tuple, list)):
        return [_describe(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _describe(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if hasattr(value, "__len__") and hasattr(value, "__getitem__") and not isinstance(value, (str, tuple, list)):
        return describe_data(value)
    return _plain(value)


_PLAIN = (bool, int, float, str, tuple, type(None))


def _module_attributes(module: nn.Module) -> dict:
    """A module's own settings that its ``repr`` may not show and its weights cannot (``CifarResNet(residual=...)``,
    ``SmallCNN(batchnorm="before" / "after")``): its public attributes of plain types, the mode left out."""
    return {
        attribute: _plain(value)
        for attribute, value in sorted(vars(module).items())
        if not attribute.startswith("_") and attribute != "training" and isinstance(value, _PLAIN)
    }


_DIGESTS = None


def _tensor_digest(tensor: torch.Tensor) -> str:
    """sha256 of a tensor's bytes, remembered per tensor object until it changes (in-place ops bump its version)."""
    global _DIGESTS
    if _DIGESTS is None:
        from torch.utils.weak import WeakIdKeyDictionary

        _DIGESTS = WeakIdKeyDictionary()
    stamp = (tensor._version, tensor.data_ptr())
    known = _DIGESTS.get(tensor)
    if known is not None and known[0] == stamp:
        return known[1]
    data = tensor.detach().cpu().contiguous()
    if data.dtype == torch.bfloat16:
        data = data.float()
    digest = hashlib.sha256(data.numpy().tobytes()).hexdigest()
    _DIGESTS[tensor] = (stamp, digest)
    return digest


def _tensors_digest(tensors: Mapping[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for tensor_name, tensor in tensors.items():
        digest.update(tensor_name.encode())
        digest.update(_tensor_digest(tensor).encode())
    return digest.hexdigest()


@functools.cache
def _source_digest(obj) -> str:
    """The hash of ``obj``'s source code, read once per process: ``inspect.getsource`` reads the file on disk, so
    an edit made while a kernel runs must not change the keys of the code that kernel already runs."""
    try:
        source = inspect.getsource(obj)
    except (OSError, TypeError):
        source = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', repr(obj))}"
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def _restore(entry: dict, monitor):
    from vislib.training.epochs import EpochTrainingRun

    module_name, _, class_name = entry["run_type"].rpartition(".")
    if not module_name.startswith("vislib.training."):
        raise ValueError(f"unexpected run type {entry['run_type']!r} in a weights file")
    run_type = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(run_type, type) and issubclass(run_type, EpochTrainingRun)):
        raise ValueError(f"unexpected run type {entry['run_type']!r} in a weights file")
    run = run_type(**entry["run"])
    if monitor is not None and "monitor" in entry:
        _restore_history(monitor, entry["monitor"])
    return run


def _history_record(history) -> dict:
    return {
        "step_losses": [float(x) for x in history.step_losses],
        "epochs": [
            {
                **{f.name: _plain(getattr(e, f.name)) for f in dataclasses.fields(e) if f.name != "per_class_ap50"},
                "per_class_ap50": [[int(k), float(v)] for k, v in e.per_class_ap50.items()],
            }
            for e in history.epochs
        ],
    }


def _restore_history(monitor, entry: dict) -> None:
    from vislib.training.monitor import EpochEvaluation

    history = monitor.history
    history.step_losses[:] = entry["step_losses"]
    history.epochs[:] = [
        EpochEvaluation(
            **{
                **e,
                "recall_points": np.asarray(e["recall_points"], dtype=float),
                "precision_at_50": np.asarray(e["precision_at_50"], dtype=float),
                "per_class_ap50": {int(k): v for k, v in e["per_class_ap50"]},
            }
        )
        for e in entry["epochs"]
    ]
    if hasattr(monitor, "show"):
        monitor.show()


def _plain(value):
    """``value`` as JSON-able plain data (dataclasses to dicts, tuples to lists, arrays and tensors to lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
