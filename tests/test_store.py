"""vislib.training.store: shipped weights, the local cache, or training now; keys; safetensors round trips."""

import json

import numpy as np
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


# --------------------------------------------------------------------------- the generic cache (issue 18)


def test_cached_computes_once_then_loads_and_restores_the_random_state():
    calls = []

    def compute():
        calls.append(1)
        torch.rand(5)  # training draws random numbers: the cells after it must see the same state either way
        return {"weight": torch.arange(6.0).reshape(2, 3)}, {"losses": [0.5, 0.25], "seconds": 1.5}

    key = store.content_key("toy", settings={"lr": 0.1}, data=torch.ones(3))
    torch.manual_seed(0)
    first = store.cached("toy", key, compute)
    after_first = torch.rand(3)
    torch.manual_seed(0)
    second = store.cached("toy", key, compute)
    after_second = torch.rand(3)
    assert len(calls) == 1 and (first.source, second.source) == ("trained", "cache")
    assert torch.equal(first.tensors["weight"], second.tensors["weight"]) and second.record == first.record
    assert torch.equal(after_first, after_second)
    assert "loaded from the cache" in second.message and "trained now" in first.message
    assert store.cached("toy", key, compute, retrain=True).source == "trained" and len(calls) == 2


def test_content_key_changes_with_every_part_it_names():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    data = torch.rand(4, 3)
    base = store.content_key("toy", model=model, data=data, settings={"lr": 0.1}, seed=0)
    assert base == store.content_key("toy", model=model, data=data.clone(), settings={"lr": 0.1}, seed=0)
    assert base != store.content_key("other", model=model, data=data, settings={"lr": 0.1}, seed=0)
    assert base != store.content_key("toy", model=model, data=data, settings={"lr": 0.2}, seed=0)
    assert base != store.content_key("toy", model=model, data=data, settings={"lr": 0.1}, seed=1)
    assert base != store.content_key("toy", model=model, data=data + 1e-6, settings={"lr": 0.1}, seed=0)
    original = data.clone()
    data.add_(1.0)  # the same tensor object, changed in place: its remembered digest must not be reused
    assert base != store.content_key("toy", model=model, data=data, settings={"lr": 0.1}, seed=0)
    model.weight.requires_grad_(False)  # a frozen layer trains differently
    assert base != store.content_key("toy", model=model, data=original, settings={"lr": 0.1}, seed=0)


def _tiny_segmentation_training(**options):
    from vislib.models.segmentation import UNet
    from vislib.training.segmentation import segmentation_tensors, train_segmenter

    train = segmentation_tensors(ShapesDataset(16, image_size=32, seed=0))
    val = segmentation_tensors(ShapesDataset(8, image_size=32, seed=1))
    torch.manual_seed(0)
    model = UNet(5, (4, 8, 8))
    run = train_segmenter(model, train, steps=6, val=val, eval_every=3, batch_size=4, **options)
    return model, run


def test_train_segmenter_from_the_cache_is_bit_identical_to_training(monkeypatch):
    trained_model, trained_run = _tiny_segmentation_training()
    loaded_model, loaded_run = _tiny_segmentation_training()
    assert (trained_run.source, loaded_run.source) == ("trained", "cache")
    for (name, a), b in zip(trained_model.state_dict().items(), loaded_model.state_dict().values()):
        assert torch.equal(a, b), name  # weights and batch-norm statistics
    for field in ("losses", "eval_steps", "val_miou", "val_pixel_accuracy", "seconds"):
        assert getattr(trained_run, field) == getattr(loaded_run, field), field
    assert torch.equal(trained_run.final.confusion, loaded_run.final.confusion)
    assert not loaded_model.training
    monkeypatch.setenv("VISLIB_RETRAIN", "1")
    retrained_model, retrained = _tiny_segmentation_training()
    assert retrained.source == "trained" and retrained.losses == trained_run.losses  # training is deterministic
    assert _tiny_segmentation_training(cache=False)[1].source == "trained"
    assert _tiny_segmentation_training(lr=1e-3)[1].source == "trained"  # another setting, another key


def test_train_presence_classifier_from_the_cache_is_bit_identical_to_training():
    from vislib.models.deeplab import EncoderClassifier
    from vislib.training.deeplab import presence_data, train_presence_classifier

    images, presence = presence_data(24, 32, seed=0)
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        model = EncoderClassifier(4, widths=(4, 8, 8))
        run = train_presence_classifier(model, images, presence, steps=4, batch_size=8, val=(images, presence))
        results.append((model, run))
    (a, first), (b, second) = results
    assert (first.source, second.source) == ("trained", "cache")
    assert first.losses == second.losses and first.val_accuracy == second.val_accuracy
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_train_classifier_with_a_recorder_from_the_cache_is_bit_identical_to_training():
    from vislib.data.digits import load_digits
    from vislib.models.small_cnn import SmallCNN
    from vislib.training.classification import train_classifier
    from vislib.training.recording import ActivationRecorder

    data = load_digits(size=8, seed=0)
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        model = SmallCNN(batchnorm="before")
        recorder = ActivationRecorder(model, samples=200)
        run = train_classifier(model, data, steps=12, lr=0.05, batch_size=16, recorder=recorder, record_every=5)
        results.append((model, run, recorder.history(), recorder.generator.get_state()))
    (a, first, history_a, state_a), (b, second, history_b, state_b) = results
    assert (first.source, second.source) == ("trained", "cache")
    assert first.losses == second.losses and first.test_accuracy == second.test_accuracy
    assert first.seconds == second.seconds and a.training == b.training
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    for field in ("steps", "mean", "std", "percentiles", "bin_edges", "density"):
        assert np.array_equal(getattr(history_a, field), getattr(history_b, field)), field
    assert torch.equal(state_a, state_b)  # the recorder's sampler goes on where the training left it


def test_train_network_with_gradient_records_from_the_cache_is_bit_identical_to_training():
    from vislib.data.digits import load_digits
    from vislib.models.residual import CifarResNet
    from vislib.training.residual import train_network

    data = load_digits(size=8, seed=0)
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        model = CifarResNet(8, residual=True, width=4, in_channels=1, classes=10)
        results.append((model, train_network(model, data, steps=6, batch_size=16, record_every=2, evaluate_every=3)))
    (a, first), (b, second) = results
    assert (first.source, second.source) == ("trained", "cache") and second.model is b
    for field in ("losses", "learning_rates", "test_accuracy", "test_accuracies", "train_loss", "seconds", "diverged"):
        assert getattr(first, field) == getattr(second, field), field
    for field in ("steps", "output_grad", "weight_grad"):
        x, y = getattr(first.gradients, field), getattr(second.gradients, field)
        assert x.dtype == y.dtype and np.array_equal(x, y), field
    assert first.gradients.block_names == second.gradients.block_names and a.training == b.training
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_a_comparison_from_the_cache_equals_the_trained_one_predictions_included(capsys):
    from vislib.models.segmentation import FCNBaseline, UNet
    from vislib.training.segmentation import compare_segmenters, segmentation_tensors

    train = segmentation_tensors(ShapesDataset(16, image_size=32, seed=0))
    val = segmentation_tensors(ShapesDataset(8, image_size=32, seed=1))
    models = {"FCN": lambda: FCNBaseline(5, (4, 8, 8)), "U-Net": lambda: UNet(5, (4, 8, 8))}
    options = dict(steps=4, seeds=(0, 1), batch_size=4, shared_encoder=models["FCN"], encoder_steps=5)
    first = compare_segmenters(models, train, val, show_progress=True, **options)
    assert "6 trainings trained now" in capsys.readouterr().out
    second = compare_segmenters(models, train, val, show_progress=True, **options)
    assert "all 6 trainings loaded from the local cache" in capsys.readouterr().out
    assert first.scores == second.scores
    for name in models:
        assert torch.equal(first.predictions[name], second.predictions[name])
        assert first.predictions[name].dtype == torch.int64
    assert len(list(store.cache_dir().glob("predictions-*.safetensors"))) == 4  # one per model and seed


def test_twins_that_differ_only_in_a_flag_get_different_keys():
    from vislib.models.residual import CifarResNet
    from vislib.models.small_cnn import SmallCNN

    keys = []
    for residual in (False, True):
        torch.manual_seed(0)
        keys.append(store.content_key("toy", model=CifarResNet(8, residual=residual, width=4)))
    assert keys[0] != keys[1]  # same weights, another forward pass
    torch.manual_seed(0)
    before = store.content_key("toy", model=SmallCNN("before"))
    torch.manual_seed(0)
    assert before != store.content_key("toy", model=SmallCNN("after"))
