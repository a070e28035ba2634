"""vislib.training.store: shipped weights, the local cache, or training now; keys; safetensors round trips."""

import json

import pytest
import torch
from torch import nn

from vislib.data.shapes import ShapesDataset, to_coco
from vislib.models.yolo import TinyYolo
from vislib.plotting.monitor import TrainingMonitor
from vislib.training import store
from vislib.training.epochs import EpochTrainingRun
from vislib.training.yolo import DetectorTrainingRun, predict, train_detector


@pytest.fixture(autouse=True)
def _own_cache_and_no_shipped(tmp_path, monkeypatch):
    monkeypatch.setenv("VISLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("VISLIB_RETRAIN", raising=False)
    monkeypatch.setattr(store, "WEIGHTS_DIR", tmp_path / "shipped")
    monkeypatch.setattr(store, "MANIFEST", tmp_path / "shipped" / "manifest.json")


def _linear(seed=0):
    torch.manual_seed(seed)
    return nn.Linear(3, 2)


class _Trainer:
    """A stand-in training function: counts its calls, changes the weights, returns a run."""

    def __init__(self, model):
        self.model, self.calls = model, 0

    def __call__(self):
        self.calls += 1
        with torch.no_grad():
            self.model.weight.add_(1.0)
        run = EpochTrainingRun(losses=[1.0, 0.5], epoch_losses=[0.75], epoch_seconds=[2.0], num_images=4)
        run.on_epoch_seconds.append(0.0)
        return run


DATA = {"train": ShapesDataset(4, image_size=64, seed=1)}


def test_trains_once_then_loads_from_the_cache(capsys):
    model = _linear()
    trainer = _Trainer(model)
    run = store.trained("toy", model, trainer, data=DATA, settings={"lr": 0.1})
    assert trainer.calls == 1 and run.provenance.source == "trained" and run.provenance.path.is_file()
    assert "training now" in capsys.readouterr().out
    trained_weight = model.weight.detach().clone()

    again = _linear()
    second = _Trainer(again)
    restored = store.trained("toy", again, second, data=DATA, settings={"lr": 0.1})
    assert second.calls == 0 and restored.provenance.source == "cache"
    assert torch.equal(again.weight, trained_weight) and not again.training
    assert type(restored) is EpochTrainingRun and restored.losses == [1.0, 0.5] and restored.epoch_seconds == [2.0]
    assert "loaded trained weights (cached weights" in capsys.readouterr().out


def test_retrain_switch_and_environment_variable(monkeypatch):
    store.trained("toy", _linear(), _Trainer(_linear()), data=DATA, settings={}, verbose=False)
    trainer = _Trainer(model := _linear())
    assert store.trained("toy", model, trainer, data=DATA, settings={}, retrain=True, verbose=False)
    assert trainer.calls == 1
    monkeypatch.setenv("VISLIB_RETRAIN", "1")
    trainer = _Trainer(model := _linear())
    store.trained("toy", model, trainer, data=DATA, settings={}, verbose=False)
    assert trainer.calls == 1


def test_the_key_follows_model_data_settings_and_code_version(monkeypatch):
    key = store.training_key("toy", _linear(0), DATA, {"lr": 0.1})
    assert key == store.training_key("toy", _linear(0), DATA, {"lr": 0.1})  # deterministic
    assert key != store.training_key("toy", _linear(1), DATA, {"lr": 0.1})  # another initialization
    assert key != store.training_key("toy", nn.Linear(3, 3), DATA, {"lr": 0.1})  # another architecture
    assert key != store.training_key("toy", _linear(0), {"train": ShapesDataset(5, 64, seed=1)}, {"lr": 0.1})
    assert key != store.training_key("toy", _linear(0), {"train": ShapesDataset(4, 64, seed=2)}, {"lr": 0.1})
    assert key != store.training_key("toy", _linear(0), DATA, {"lr": 0.2})
    assert key != store.training_key("other", _linear(0), DATA, {"lr": 0.1})
    monkeypatch.setattr(store, "CODE_VERSION", "next")
    assert key != store.training_key("toy", _linear(0), DATA, {"lr": 0.1})


def test_shipped_weights_come_first_and_only_for_their_key(tmp_path):
    model = _linear()
    with torch.no_grad():
        model.weight.fill_(7.0)
    key = store.training_key("toy", _linear(), DATA, {})
    metric = {"name": "mAP@.5", "value": 0.88, "images": 300}
    run = EpochTrainingRun(losses=[1.0], epoch_losses=[1.0], epoch_seconds=[1.0], on_epoch_seconds=[0.0])
    store.save_weights(model, store.WEIGHTS_DIR / "toy.safetensors", store.record("toy", key, run, None, {}, metric))
    store.MANIFEST.write_text(json.dumps({"toy": {"file": "toy.safetensors", "key": key}}))

    fresh, trainer = _linear(), _Trainer(_linear())
    loaded = store.trained("toy", fresh, trainer, data=DATA, settings={}, verbose=False)
    assert loaded.provenance.source == "shipped" and trainer.calls == 0
    assert torch.equal(fresh.weight, torch.full((2, 3), 7.0))
    assert loaded.provenance.message.endswith("mAP@.5 0.88 on 300 held-out images; VISLIB_RETRAIN=1 retrains")
    other = store.trained("toy", _linear(), _Trainer(_linear()), data=DATA, settings={"lr": 1}, verbose=False)
    assert other.provenance.source == "trained"  # another key: the shipped file is not used


def test_half_precision_files_load_into_float32_models(tmp_path):
    model = _linear()
    path = store.save_weights(model, tmp_path / "half.safetensors", {"hello": 1}, half=True)
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as file:
        assert file.get_tensor("weight").dtype == torch.float16
    fresh = nn.Linear(3, 2)
    assert store.load_weights(fresh, path) == {"hello": 1}
    assert fresh.weight.dtype == torch.float32
    torch.testing.assert_close(fresh.weight, model.weight, atol=1e-3, rtol=1e-3)


def test_a_file_that_does_not_fit_the_model_is_refused(tmp_path):
    path = store.save_weights(_linear(), tmp_path / "toy.safetensors", {})
    with pytest.raises(ValueError, match="does not fit the model"):
        store.load_weights(nn.Sequential(nn.Linear(3, 2)), path)


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="name"):
        store.trained(7, _linear(), lambda: None, data=DATA, settings={})
    with pytest.raises(TypeError, match="train"):
        store.trained("toy", _linear(), "train", data=DATA, settings={})
    with pytest.raises(TypeError, match="data"):
        store.trained("toy", _linear(), lambda: None, data=[DATA], settings={})


def test_a_real_training_run_and_its_monitor_history_come_back():
    train_set, held_out = ShapesDataset(16, image_size=64, seed=1), ShapesDataset(6, image_size=64, seed=2)

    def build():
        torch.manual_seed(0)
        model = TinyYolo(image_size=64, grid_size=4, num_classes=4)
        monitor = TrainingMonitor(lambda m: predict(m, held_out), to_coco(held_out), train_set.classes, live=False)
        return model, monitor

    data = {"train": train_set, "held_out": held_out}
    model, monitor = build()
    run = store.trained(
        "yolo",
        model,
        lambda: train_detector(model, train_set, epochs=2, on_epoch=monitor),
        data=data,
        settings={},
        monitor=monitor,
    )
    assert run.provenance.source == "trained" and run.provenance.metric["images"] == 6
    again, restored_monitor = build()
    restored = store.trained(
        "yolo", again, lambda: pytest.fail("trained again"), data=data, settings={}, monitor=restored_monitor
    )
    assert type(restored) is DetectorTrainingRun and restored.provenance.source == "cache"
    assert restored.loss_parts == run.loss_parts and restored.dropped_objects == run.dropped_objects
    assert restored_monitor.history.ap50 == monitor.history.ap50
    assert restored_monitor.history.step_losses == monitor.history.step_losses
    last, back = monitor.history.epochs[-1], restored_monitor.history.epochs[-1]
    assert back.per_class_ap50 == last.per_class_ap50
    torch.testing.assert_close(
        torch.as_tensor(back.precision_at_50), torch.as_tensor(last.precision_at_50), equal_nan=True
    )
    for name, tensor in model.state_dict().items():
        assert torch.equal(again.state_dict()[name], tensor), name
    predictions = predict(again, held_out)  # the loaded model predicts what the trained one did
    assert all(torch.equal(a["boxes"], b["boxes"]) for a, b in zip(predictions, predict(model, held_out)))
