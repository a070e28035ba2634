"""Data, model, training loop, recorder and widget state of the batch-norm notebook."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from vislib.data.digits import load_digits
from vislib.models.small_cnn import SmallCNN
from vislib.states.activations import activation_distribution_state
from vislib.training.classification import accuracy, accuracy_with_batch_statistics, train_classifier
from vislib.training.recording import ActivationRecorder
from vislib.training.sweeps import train_variants
from vislib.widgets.activations import activation_distribution_widget


@pytest.fixture(scope="module")
def digits():
    return load_digits(size=12, seed=0)


@pytest.fixture(scope="module")
def histories(digits):
    result = {}
    for placement in ("none", "before"):
        torch.manual_seed(0)
        model = SmallCNN(placement, width=4)
        recorder = ActivationRecorder(model, samples=500)
        train_classifier(model, digits, steps=21, lr=0.05, recorder=recorder, record_every=5)
        result[placement] = recorder.history()
    return result


def test_digits_are_real_split_and_deterministic(digits):
    assert digits.train_images.shape[1:] == (1, 12, 12) and len(digits.train_labels) + len(digits.test_labels) == 1797
    assert 0 <= digits.train_images.min() and digits.train_images.max() <= 1
    assert set(digits.train_labels.tolist()) == set(range(10))
    again = load_digits(size=12, seed=0)
    assert torch.equal(again.test_images, digits.test_images)
    with pytest.raises(ValueError, match="size must be >= 8"):
        load_digits(size=4)


@pytest.mark.parametrize("placement", ["none", "before", "after"])
def test_small_cnn_shapes_and_structure(placement):
    model = SmallCNN(placement, width=8)
    assert model(torch.rand(3, 1, 16, 16)).shape == (3, 10)
    assert (model.blocks[0].conv.bias is None) == (placement == "before")
    assert isinstance(model.blocks[0].norm, torch.nn.BatchNorm2d) == (placement != "none")
    with pytest.raises(ValueError, match=r"x must have 1 channels, \[N, 1, H, W\]"):
        model(torch.rand(3, 3, 16, 16))
    with pytest.raises(ValueError, match="batchnorm must be one of"):
        SmallCNN("between")


def test_training_is_reproducible_and_learns(digits):
    def run():
        torch.manual_seed(0)
        model = SmallCNN("before", width=8)
        return train_classifier(model, digits, steps=40, lr=0.05), model

    (first, model), (second, _) = run(), run()
    assert first.losses == second.losses and first.steps == 40
    assert first.losses[-1] < first.losses[0] and first.test_accuracy > 0.3
    assert first.test_accuracy == accuracy(model, digits.test_images, digits.test_labels)


def test_divergence_is_detected(digits):
    torch.manual_seed(0)
    run = train_classifier(SmallCNN("none", width=8), digits, steps=50, lr=50.0)
    assert run.diverged and run.steps < 50


def test_bad_training_arguments(digits):
    with pytest.raises(ValueError, match="steps must be >= 1"):
        train_classifier(SmallCNN(), digits, steps=0, lr=0.1)
    with pytest.raises(TypeError, match="data must be an ImageSplit"):
        train_classifier(SmallCNN(), (digits.train_images, digits.train_labels), steps=1, lr=0.1)


def test_recorder_statistics_are_exact_at_step_zero(digits):
    torch.manual_seed(0)
    model = SmallCNN("before", width=4)
    recorder = ActivationRecorder(model, samples=500)
    conv_outputs = []
    hook = model.blocks[1].conv.register_forward_hook(lambda m, i, o: conv_outputs.append(o.detach()))
    train_classifier(model, digits, steps=1, lr=0.0, recorder=recorder)
    hook.remove()
    history = recorder.history()
    assert history.steps.tolist() == [0]
    assert history.mean[0, 1, 0] == pytest.approx(conv_outputs[0].mean().item(), abs=1e-6)
    assert history.std[0, 1, 0] == pytest.approx(conv_outputs[0].std().item(), rel=1e-5)
    assert history.mean[0, 1, 1] == pytest.approx(0.0, abs=1e-5)  # after BN with gamma 1, beta 0
    assert history.std[0, 1, 1] == pytest.approx(1.0, abs=1e-3)
    widths = np.diff(history.bin_edges[1, 0])
    assert np.sum(history.density[0, 1, 0] * widths) == pytest.approx(1.0)
    recorder.remove()
    assert not model.blocks[0].conv._forward_hooks
    with pytest.raises(ValueError, match="nothing recorded"):
        ActivationRecorder(model).history()


def test_widget_state_indexes_the_histories(histories):
    plain, bn = histories["none"], histories["before"]
    assert plain.steps.tolist() == [0, 5, 10, 15, 20]
    state = activation_distribution_state(plain, bn, layer=2, step_index=3, stage="after")
    assert state.step == 15 and state.layer_name == "block 3"
    np.testing.assert_array_equal(state.batchnorm.density, bn.density[3, 2, 1])
    np.testing.assert_array_equal(state.plain.std, plain.std[:, 2, 1])
    with pytest.raises(ValueError, match="step_index must be <= 4"):
        activation_distribution_state(plain, bn, layer=0, step_index=5, stage="after")
    with pytest.raises(ValueError, match="stage must be one of"):
        activation_distribution_state(plain, bn, layer=0, step_index=0, stage="during")


def test_widget_fast_path_matches_a_full_redraw(histories):
    widget = activation_distribution_widget(histories["none"], histories["before"])
    rng = np.random.default_rng(0)
    for _ in range(20):
        widget.set(
            layer=int(rng.integers(3)), step_index=int(rng.integers(5)), stage=str(rng.choice(["before", "after"]))
        )
    fresh = activation_distribution_widget(histories["none"], histories["before"])
    fresh.set(**widget.values())

    def pixels(png):
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)

    assert np.mean(np.abs(pixels(widget.image.value) - pixels(fresh.image.value)) > 24) < 0.002  # JPEG noise
    assert len(widget._backgrounds) == 6


def test_sweep_trains_one_network_per_configuration(digits):
    results = train_variants(
        digits, learning_rates=[0.01, 0.1], placements=("none", "before"), steps=5, width=4, show_progress=False
    )
    assert [(r.lr, r.placement) for r in results] == [(0.01, "none"), (0.01, "before"), (0.1, "none"), (0.1, "before")]
    by_epochs = train_variants(
        digits, placements=("before",), batch_sizes=(32, 64), epochs=0.5, width=4, show_progress=False, keep_models=True
    )
    assert [r.run.steps for r in by_epochs] == [len(digits.train_labels) // 64, len(digits.train_labels) // 128]
    model = by_epochs[0].model
    before = model.blocks[0].norm.running_mean.clone()
    accuracy_with_batch_statistics(model, digits.test_images, digits.test_labels, 8)
    assert torch.equal(before, model.blocks[0].norm.running_mean)
