"""The shipped trained weights (assets/weights/) against their manifest: file, key, metric, reproducibility."""

import math

import nbformat
import pytest

from vislib.tools import weights
from vislib.training import store

MANIFEST = store.manifest()
SMALLEST = "07_yolo"  # the cheapest training of the shipped models

# Until `make weights` has run once (minutes per model on a quiet machine), there is nothing to check: the
# notebooks then train and cache instead. Once a manifest exists, every headline model must be in it.
pytestmark = pytest.mark.skipif(
    not store.MANIFEST.is_file(), reason="no shipped weights yet (assets/weights/manifest.json): run `make weights`"
)


def test_the_shipped_models_are_headline_models_and_the_total_stays_small():
    assert set(MANIFEST) <= set(weights.HEADLINES)
    total = sum((store.WEIGHTS_DIR / entry["file"]).stat().st_size for entry in MANIFEST.values())
    assert total <= 15e6, f"shipped weights take {total / 1e6:.1f} MB"


def test_every_headline_model_is_shipped():
    assert sorted(MANIFEST) == sorted(weights.HEADLINES), "run `make weights`"


#: The cells of each headline's notebook that build its training run, up to its call of store.trained.
TRAINING_CELLS = {
    "07_yolo": ("training-run",),
    "08_faster_rcnn": ("training-run",),
    "09_mask_rcnn": ("training-data", "training-run"),
}


class _Called(Exception):
    pass


@pytest.mark.parametrize("name", sorted(weights.HEADLINES))
def test_the_notebook_cell_computes_the_key_of_the_tools_headline(name, monkeypatch):
    """The notebook's own training cells, run in the full profile up to ``store.trained``, compute the key of the
    tool's run (both build it from the training layer's recipe), so the notebook loads what ``make weights`` ships."""
    headline = weights.HEADLINES[name](weights.FULL)
    calls = []

    def trained(run_name, model, train, *, data, settings, monitor=None, **options):
        calls.append((run_name, store.training_key(run_name, model, data, settings)))
        raise _Called

    monkeypatch.setattr(store, "trained", trained)
    import torch

    from vislib.data.shapes import ShapesDataset, to_coco

    classes = ShapesDataset(1).classes
    namespace = {"torch": torch, "to_coco": to_coco, "PROFILE": weights.FULL, "DEVICE": "cpu", "CLASSES": classes}
    namespace["SIZE"] = headline.held_out.image_size
    cells = {cell.id: cell.source for cell in nbformat.read(store.REPOSITORY / headline.notebook, as_version=4).cells}
    with pytest.raises(_Called):
        for cell_id in TRAINING_CELLS[name]:
            exec(compile(cells[cell_id], f"{headline.notebook}:{cell_id}", "exec"), namespace)
    assert calls == [(name, weights.headline_key(headline))]


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_shipped_file_matches_its_manifest_entry(name):
    entry = MANIFEST[name]
    path = store.WEIGHTS_DIR / entry["file"]
    assert store.sha256_of(path) == entry["sha256"] and path.stat().st_size == entry["bytes"]
    # The key its notebook cell computes (the tool builds the run as the cell does), so the notebook loads it.
    headline = weights.HEADLINES[name](weights.FULL)
    assert weights.headline_key(headline) == entry["key"] == store.read_record(path)["key"]
    assert store.shipped_path(name, entry["key"]) == path
    assert entry["metric"]["images"] == len(headline.held_out) and 0 < entry["metric"]["value"] <= 1


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_shipped_metric_holds_when_evaluated_again(name):
    entry = MANIFEST[name]
    check = weights.check_metric(name, store.WEIGHTS_DIR / entry["file"], entry["check"]["images"])
    assert math.isclose(check["value"], entry["check"]["value"], abs_tol=0.01), (check, entry["check"])


def test_the_smallest_shipped_training_still_reproduces():
    """The training code behind the shipped files, run again in the quick profile (seconds), gives the run the
    manifest recorded when the files were made: same key, same losses, same held-out metric."""
    recorded = MANIFEST[SMALLEST]["quick_run"]
    again = weights.quick_run(SMALLEST)
    assert again["key"] == recorded["key"]
    # One thread; another CPU's arithmetic may still shift a barely trained model's numbers a little.
    assert math.isclose(again["final_epoch_loss"], recorded["final_epoch_loss"], rel_tol=1e-2)
    assert math.isclose(again["metric"]["value"], recorded["metric"]["value"], abs_tol=0.02)
