"""A plain SGD training loop for small image classifiers, and accuracy.

It is deliberately short: sample a mini-batch, forward, cross-entropy,
backward, step. Runs are reproducible (the batch order comes from ``seed``)
and stop early, marked ``diverged``, when the loss stops being a finite
number or explodes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vislib._validation import check_int, check_number, check_tensor, check_type
from vislib.data.digits import ImageSplit
from vislib.progress import progress
from vislib.training import store
from vislib.training.recording import ActivationRecorder

__all__ = [
    "accuracy",
    "accuracy_with_batch_statistics",
    "batches",
    "DIVERGENCE_FACTOR",
    "train_classifier",
    "TrainingRun",
]

#: A loss this many times the first one counts as diverged.
DIVERGENCE_FACTOR = 10.0


@dataclass
class TrainingRun:
    """What one training run measured."""

    losses: list[float] = field(default_factory=list)  # training loss per step
    test_accuracy: float = math.nan  # in evaluation mode, after training
    diverged: bool = False
    seconds: float = 0.0
    source: str = "trained"  # or "cache": loaded from the local cache (vislib.training.store.cached)

    @property
    def steps(self) -> int:
        return len(self.losses)


@torch.no_grad()
def accuracy(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 512) -> float:
    """Share of ``images`` classified as ``labels``, with the model in evaluation mode."""
    check_type("model", model, nn.Module, "a torch.nn.Module")
    _check_images_and_labels(images, labels)
    batch_size = check_int("batch_size", batch_size, min_value=1)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for start in range(0, len(labels), batch_size):
        logits = model(images[start : start + batch_size].to(device))
        correct += (logits.argmax(dim=1).cpu() == labels[start : start + batch_size].cpu()).sum().item()
    model.train(was_training)
    return correct / max(len(labels), 1)


def batches(count: int, batch_size: int, steps: int, seed: int):
    """``steps`` index tensors of ``batch_size``, epoch after epoch of reshuffled ``range(count)``.

    The arguments are checked when it is called (not at the first ``next``); ``batch_size`` must be at most
    ``count``, or no batch would ever be produced.
    """
    count = check_int("count", count, min_value=1)
    batch_size = check_int("batch_size", batch_size, min_value=1, max_value=count)
    steps = check_int("steps", steps, min_value=0)
    seed = check_int("seed", seed)
    return _batches(count, batch_size, steps, seed)


def _batches(count: int, batch_size: int, steps: int, seed: int):
    generator = torch.Generator().manual_seed(seed)
    produced = 0
    while produced < steps:
        order = torch.randperm(count, generator=generator)
        for start in range(0, count - batch_size + 1, batch_size):
            if produced == steps:
                return
            yield order[start : start + batch_size]
            produced += 1


def train_classifier(
    model: nn.Module,
    data: ImageSplit,
    *,
    steps: int,
    lr: float,
    batch_size: int = 64,
    momentum: float = 0.9,
    seed: int = 0,
    device=None,
    recorder=None,
    record_every: int = 10,
    show_progress: bool = False,
    description: str = "training",
    cache: bool = True,
) -> TrainingRun:
    """Train ``model`` with SGD on ``data.train_*`` for ``steps`` mini-batches.

    ``recorder`` (an :class:`~vislib.training.recording.ActivationRecorder`)
    records the activations of every ``record_every``-th step, step 0 included.

    With ``cache`` (the default) the trained weights, the run and the recorder's recordings go into the local
    cache (:func:`vislib.training.store.cached`, keyed by the model, the data, every setting, the seed, the
    recorder's configuration and the code); a later call with the same key loads them instead of training
    (bit-identical; ``run.source`` says ``"cache"``) unless ``VISLIB_RETRAIN=1``. A recorder that already holds
    recordings trains without the cache. With ``show_progress`` it prints which path it took.
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_type("data", data, ImageSplit, "an ImageSplit (see vislib.data.digits.load_digits)")
    steps = check_int("steps", steps, min_value=1)
    lr = check_number("lr", lr, min_value=0.0)
    batch_size = check_int("batch_size", batch_size, min_value=1, max_value=len(data.train_labels))
    momentum = check_number("momentum", momentum, min_value=0.0, max_value=1.0)
    record_every = check_int("record_every", record_every, min_value=1)
    check_type("cache", cache, bool, "True or False")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    settings = dict(
        steps=steps, lr=lr, batch_size=batch_size, momentum=momentum, seed=seed, device=device.type,
        record_every=record_every if recorder is not None else None,
    )  # fmt: skip

    def train_now():
        run = _train_classifier(model, data, device, settings, recorder, show_progress, description)
        tensors = dict(model.state_dict())
        record = {**dataclasses.asdict(run), "model_training": model.training}
        if recorder is not None:
            tensors |= _recorder_tensors(recorder)
            record["recorder"] = _recorder_record(recorder)
        return tensors, record

    if not cache or (recorder is not None and recorder.has_records()):
        return TrainingRun(**_run_fields(train_now()[1]))
    key = store.content_key(
        "classifier",
        model=model,
        train=(data.train_images, data.train_labels),
        test=(data.test_images, data.test_labels),
        settings=settings,
        recorder=None if recorder is None else recorder.configuration(),
        code=[_train_classifier, _batches, accuracy, ActivationRecorder],
    )
    result = store.cached("classifier", key, train_now)
    if result.source == "cache":
        model.to(device)
        model.load_state_dict({k: v for k, v in result.tensors.items() if not k.startswith(_RECORDER_PREFIX)})
        model.train(result.record["model_training"])
        if recorder is not None:
            _restore_recorder(recorder, result.tensors, result.record["recorder"])
    if show_progress:
        print(result.message.replace("classifier", description, 1))
    return TrainingRun(**_run_fields(result.record), source=result.source)


_RECORDER_PREFIX = "recorder/"


def _run_fields(record: dict) -> dict:
    return {f: record[f] for f in ("losses", "test_accuracy", "diverged", "seconds")}


def _recorder_tensors(recorder) -> dict:
    tensors = {f"{_RECORDER_PREFIX}generator": recorder.generator.get_state()}
    for step, entries in recorder._records.items():
        for (block, stage), (_, _, values) in entries.items():
            tensors[f"{_RECORDER_PREFIX}{step}/{block}/{stage}"] = torch.from_numpy(values)
    return tensors


def _recorder_record(recorder) -> list:
    return [
        [step, block, stage, mean, std]
        for step, entries in recorder._records.items()
        for (block, stage), (mean, std, _) in entries.items()
    ]


def _restore_recorder(recorder, tensors: dict, record: list) -> None:
    recorder.generator.set_state(tensors[f"{_RECORDER_PREFIX}generator"])
    for step, block, stage, mean, std in record:
        values = tensors[f"{_RECORDER_PREFIX}{step}/{block}/{stage}"].numpy()
        recorder._records.setdefault(step, {})[(block, stage)] = (mean, std, values)


def _train_classifier(model, data, device, settings, recorder, show_progress, description) -> TrainingRun:
    """The training loop of :func:`train_classifier` (arguments checked): trains ``model`` in place."""
    model.to(device).train()
    images, labels = data.train_images.to(device), data.train_labels.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=settings["lr"], momentum=settings["momentum"])
    run = TrainingRun()
    start = time.perf_counter()
    steps, record_every = settings["steps"], settings["record_every"]
    indices = batches(len(labels), settings["batch_size"], steps, settings["seed"])
    for step, batch in enumerate(progress(indices, total=steps, desc=description, disable=not show_progress)):
        recording = (
            recorder.recording(step) if recorder is not None and step % record_every == 0 else contextlib.nullcontext()
        )
        with recording:
            logits = model(images[batch])
        loss = F.cross_entropy(logits, labels[batch])
        value = loss.item()
        run.losses.append(value)
        if not math.isfinite(value) or value > DIVERGENCE_FACTOR * max(run.losses[0], 1.0):
            run.diverged = True
            break
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    run.seconds = time.perf_counter() - start
    run.test_accuracy = accuracy(model, data.test_images, data.test_labels)
    return run


@torch.no_grad()
def accuracy_with_batch_statistics(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int) -> float:
    """Accuracy when every batch norm layer normalizes with the statistics of the test batch itself.

    This is what training mode does; with tiny batches those statistics are
    noisy and the predictions suffer. The model (and its running statistics)
    is left unchanged: a copy is used.
    """
    import copy

    check_type("model", model, nn.Module, "a torch.nn.Module")
    _check_images_and_labels(images, labels)
    batch_size = check_int("batch_size", batch_size, min_value=2, max_value=len(labels))
    twin = copy.deepcopy(model).train()
    device = next(twin.parameters()).device
    correct = counted = 0
    for start in range(0, len(labels) - batch_size + 1, batch_size):
        logits = twin(images[start : start + batch_size].to(device))
        correct += (logits.argmax(dim=1).cpu() == labels[start : start + batch_size].cpu()).sum().item()
        counted += batch_size
    return correct / counted


def _check_images_and_labels(images, labels) -> None:
    check_tensor("images", images, ndim=4, floating=True)
    check_tensor("labels", labels, shape=("N",))
    if len(labels) != len(images):
        raise ValueError(f"labels must have one label per image ({len(images)} images), got {len(labels)}")
    if labels.is_floating_point() or labels.dtype == torch.bool or labels.is_complex():
        raise TypeError(f"labels must be an integer tensor, got dtype {labels.dtype}")
