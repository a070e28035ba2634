"""Maintainers: regenerate the shipped trained weights (``make weights``) or fill the local cache (``make prepare``).

``python -m vislib.tools.weights [NAME ...]`` trains each headline model of :data:`HEADLINES` (default: all) in
the full profile with the project's own training code, exactly as its notebook's training cell does, and writes
``assets/weights/<name>.safetensors`` and its entry in ``assets/weights/manifest.json``: the file's sha256, the
key that notebook cell computes (:func:`vislib.training.store.training_key`), the command, the seeds, the
settings and the metric of the shipped weights on the held-out images. A file is stored in half precision when
the half-precision weights score exactly the metric of the full-precision ones (the notebooks assert that the
monitor's last score equals a fresh evaluation), else in single precision.

``python -m vislib.tools.weights --prepare`` runs every notebook top to bottom (full profile unless
``VISLIB_PROFILE`` says otherwise; outputs discarded), so that whatever they train is in the local cache
(``.cache/vislib``) before a lecture.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vislib.runtime import Profile
from vislib.training import store

__all__ = [
    "CHECK_IMAGES",
    "check_metric",
    "checks",
    "faster_rcnn_08",
    "FULL",
    "Headline",
    "HEADLINES",
    "headline_key",
    "main",
    "mask_rcnn_09",
    "prepare",
    "quick_run",
    "ship",
    "yolo_07",
]

FULL = Profile("full")


@dataclass
class Headline:
    """One notebook's headline training, built exactly as its training cell builds it."""

    name: str
    notebook: str
    model: torch.nn.Module
    train: Callable[[], Any]
    data: dict
    settings: Any
    monitor: Any
    evaluate: Callable[[torch.nn.Module, Any], dict]  # (model, held-out data set) -> the model's metric on it

    @property
    def held_out(self):
        return self.data["held_out"]


def yolo_07(profile: Profile = FULL, device="cpu") -> Headline:
    """Notebook 07's cell ``training-run``: TinyYolo on shapes, :data:`vislib.training.yolo.YOLO_RECIPES`."""
    from vislib.data.shapes import to_coco
    from vislib.plotting.monitor import TrainingMonitor
    from vislib.training.yolo import predict, yolo_recipe

    recipe = yolo_recipe(profile)
    train_set, held_out = recipe.datasets()
    yolo = recipe.model(num_classes=len(train_set.classes))
    monitor = TrainingMonitor(lambda model: predict(model, held_out), to_coco(held_out), train_set.classes, live=False)
    return Headline(
        "07_yolo",
        "notebooks/07_yolo.ipynb",
        yolo,
        lambda: recipe.train(yolo, train_set, device=device, on_epoch=monitor, show_progress=True),
        {"train": train_set, "held_out": held_out},
        recipe,
        monitor,
        lambda model, images: _box_ap50(model, images, predict),
    )


def faster_rcnn_08(profile: Profile = FULL, device="cpu") -> Headline:
    """Notebook 08's cell ``training-run``: :data:`vislib.training.faster_rcnn.FASTER_RCNN_RECIPES` on 128 px shapes."""
    from vislib.data.shapes import to_coco
    from vislib.plotting.monitor import TrainingMonitor
    from vislib.training.faster_rcnn import faster_rcnn_recipe, predict

    recipe = faster_rcnn_recipe(profile)
    train_set, held_out = recipe.datasets()
    detector = recipe.model(num_classes=len(train_set.classes) + 1)  # + 1: the background
    monitor = TrainingMonitor(lambda model: predict(model, held_out), to_coco(held_out), train_set.classes, live=False)
    return Headline(
        "08_faster_rcnn",
        "notebooks/08_rcnn_family.ipynb",
        detector,
        lambda: recipe.train(detector, train_set, device=device, on_epoch=monitor, show_progress=True),
        {"train": train_set, "held_out": held_out},
        recipe,
        monitor,
        lambda model, images: _box_ap50(model, images, predict),
    )


def mask_rcnn_09(profile: Profile = FULL, device="cpu") -> Headline:
    """Notebook 09's cells ``training-data`` and ``training-run``: :data:`vislib.training.mask_rcnn.MASK_RCNN_RECIPES`
    on 128 px shapes."""
    from vislib.data.shapes import to_coco
    from vislib.plotting.monitor import TrainingMonitor
    from vislib.training.mask_rcnn import evaluate, mask_rcnn_recipe, predict

    recipe = mask_rcnn_recipe(profile)
    train_set, held_out = recipe.datasets()
    ground_truth = to_coco(held_out)
    model = recipe.model(num_classes=len(train_set.classes) + 1)  # + 1: the background
    monitor = TrainingMonitor(lambda m: predict(m, held_out), ground_truth, train_set.classes, masks=True, live=False)

    def mask_ap50(trained_model, images) -> dict:
        value = evaluate(trained_model, images, ground_truth=ground_truth if images is held_out else None)
        return {"name": "mask AP@.5", "value": float(value["segm"]["AP50"]), "images": len(images)}

    return Headline(
        "09_mask_rcnn",
        "notebooks/09_instance_segmentation.ipynb",
        model,
        lambda: recipe.train(model, train_set, device=device, on_epoch=monitor, show_progress=True),
        {"train": train_set, "held_out": held_out},
        recipe,
        monitor,
        mask_ap50,
    )


#: The shipped models, smallest training first.
HEADLINES = {"07_yolo": yolo_07, "08_faster_rcnn": faster_rcnn_08, "09_mask_rcnn": mask_rcnn_09}


def _box_ap50(model, held_out, predict) -> dict:
    from vislib.data.shapes import to_coco
    from vislib.metrics.coco import coco_evaluate
    from vislib.training.epochs import to_coco_results

    ground_truth = to_coco(held_out)
    ids = [image["id"] for image in ground_truth["images"]]
    summary = coco_evaluate(ground_truth, to_coco_results(predict(model, held_out), ids)).summary
    return {"name": "mAP@.5", "value": float(summary["AP50"]), "images": len(held_out)}


def headline_key(headline: Headline) -> str:
    return store.training_key(headline.name, headline.model, headline.data, headline.settings)


def ship(
    name: str,
    *,
    out_dir: Path = store.WEIGHTS_DIR,
    profile: Profile = FULL,
    tolerance: float = 0.005,
    retrain: bool = True,
) -> dict:
    """Train ``name`` (:data:`HEADLINES`), write its shipped file into ``out_dir`` and return its manifest entry."""
    from vislib.runtime import seed_everything
    from vislib.training.monitor import evaluate_epoch

    seed_everything(0)
    headline = HEADLINES[name](profile)
    key = headline_key(headline)
    start = time.perf_counter()
    run = store.trained(
        name,
        headline.model,
        headline.train,
        data=headline.data,
        settings=headline.settings,
        monitor=headline.monitor,
        retrain=retrain,
    )
    seconds = time.perf_counter() - start
    full_metric = headline.evaluate(headline.model, headline.held_out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.safetensors"
    # Half precision, when it keeps the metric: the record's last held-out evaluation is then the half-precision
    # weights' (the notebooks assert that it equals a fresh evaluation of the loaded model).
    half_model = HEADLINES[name](profile).model
    store.save_weights(headline.model, path, {}, half=True)
    store.load_weights(half_model, path)
    half_metric = headline.evaluate(half_model, headline.held_out)
    half = abs(half_metric["value"] - full_metric["value"]) <= tolerance
    if half:
        monitor = headline.monitor
        last = monitor.history.epochs[-1]
        again = evaluate_epoch(last.epoch, monitor.predict(half_model), monitor.ground_truth, [], masks=monitor.masks)
        monitor.history.epochs[-1] = dataclasses.replace(again, mean_loss=last.mean_loss)
    entry = store.record(name, key, run, headline.monitor, headline.settings, half_metric if half else full_metric)
    store.save_weights(headline.model, path, entry, half=half)
    kept = "float16" if half else "float32"
    print(f"{name}: {full_metric} in float32, {half_metric['value']:.4f} in float16: shipping {kept}")
    entry = {
        "file": path.name,
        "key": key,
        "sha256": store.sha256_of(path),
        "bytes": path.stat().st_size,
        "dtype": "float16" if half else "float32",
        "notebook": headline.notebook,
        "command": f"python -m vislib.tools.weights {name}",
        "profile": profile.name,
        "seeds": "torch.manual_seed(0) before the model; data seeds in config.data; training order seed 0",
        "metric": half_metric if half else full_metric,
        "metric_float32": full_metric["value"],
        "metric_float16": half_metric["value"],
        "config": {
            "settings": store._plain(headline.settings),
            "data": {role: store.describe_data(d) for role, d in headline.data.items()},
            "model": type(headline.model).__name__,
            "code_version": store.CODE_VERSION,
        },
        "training_seconds": round(seconds, 1),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    entry.update(checks(name, path))
    return entry


#: The tests re-evaluate each shipped file on the first CHECK_IMAGES held-out images (a few seconds each).
CHECK_IMAGES = 50


def check_metric(name: str, path: Path, images: int = CHECK_IMAGES) -> dict:
    """The metric of the weights in ``path`` on the first ``images`` held-out images of ``name``'s headline run."""
    headline = HEADLINES[name](FULL)
    store.load_weights(headline.model, path)
    held_out = headline.held_out
    subset = type(held_out)(images, image_size=held_out.image_size, seed=held_out.seed)  # the first images
    return headline.evaluate(headline.model, subset)


def quick_run(name: str) -> dict:
    """The key and metric of ``name``'s training in the quick profile (seconds on 2 CPU cores): the manifest keeps
    them, and a test trains it again and compares, so that the training code behind the shipped file is checked
    without its minutes of training."""
    from vislib.runtime import single_thread

    headline = HEADLINES[name](Profile("quick"))
    key = headline_key(headline)
    with single_thread():  # one thread: the same numbers on every run on one machine
        run = headline.train()
    return {
        "key": key,
        "final_epoch_loss": run.epoch_losses[-1],
        "metric": headline.evaluate(headline.model, headline.held_out),
    }


def checks(name: str, path: Path) -> dict:
    """The manifest's checks of ``name``: the shipped file's metric on a few held-out images, and a quick run."""
    return {"check": check_metric(name, path), "quick_run": quick_run(name)}


def prepare(notebooks: list[str] | None = None) -> None:
    """Run every notebook (or ``notebooks``) top to bottom, outputs discarded, filling the local cache."""
    import nbformat
    from nbclient import NotebookClient

    paths = (
        [Path(p) for p in notebooks]
        if notebooks
        else sorted((store.REPOSITORY / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    )
    for path in paths:
        start = time.perf_counter()
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=3600, resources={"metadata": {"path": str(path.parent)}}).execute()
        print(f"{path.name}: {time.perf_counter() - start:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"headline models to ship (default: all of {', '.join(HEADLINES)})")
    parser.add_argument("--prepare", action="store_true", help="run the notebooks to fill the local cache instead")
    parser.add_argument("--reuse-cache", action="store_true", help="take a cached training of the same key")
    parser.add_argument("--out", type=Path, default=store.WEIGHTS_DIR, help="where to write (default assets/weights)")
    args = parser.parse_args(argv)
    if args.prepare:
        prepare(args.names or None)
        return 0
    unknown = [name for name in args.names if name not in HEADLINES]
    if unknown:
        parser.error(f"unknown names {unknown}; known: {list(HEADLINES)}")
    manifest_path = args.out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    for name in args.names or list(HEADLINES):
        manifest[name] = ship(name, out_dir=args.out, retrain=not args.reuse_cache)
        manifest_path.write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
