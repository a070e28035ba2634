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


def test_widget_never_says_the_network_without_batch_norm_was_normalized(histories):
    widget = activation_distribution_widget(histories["none"], histories["before"])
    assert "normaliz" not in " ".join(widget.controls["stage"].options[i][0] for i in range(2))
    for stage in ("before", "after"):
        widget.set(stage=stage)
        plain_ax, bn_ax = widget.figure.axes[:2]
        assert "BN" not in plain_ax.get_xlabel().replace("no BN", "") and "normaliz" not in plain_ax.get_xlabel()
        assert plain_ax.get_title().startswith("without batch norm") and bn_ax.get_title().startswith("with batch")
    assert "after BN" in bn_ax.get_xlabel()


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


# -- ghost batch norm, the small-training-set gap and the statistics-group comparison ------------------------
from vislib.models.small_cnn import GhostBatchNorm2d  # noqa: E402
from vislib.training.sweeps import compare_statistics_groups, generalization_gap  # noqa: E402


def _ghost_and_reference(channels=3, group_size=2):
    torch.manual_seed(0)
    ghost = GhostBatchNorm2d(channels, group_size)
    reference = torch.nn.BatchNorm2d(channels)
    with torch.no_grad():
        for bn in (ghost, reference):
            bn.weight.copy_(torch.tensor([0.5, 1.5, 2.0]))
            bn.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    return ghost, reference


def test_ghost_batch_norm_normalizes_each_group_as_batch_norm_normalizes_a_batch_of_that_size():
    ghost, reference = _ghost_and_reference()
    x = 3 * torch.randn(8, 3, 5, 5) + 1
    expected = torch.cat([reference(x[i : i + 2]) for i in range(0, 8, 2)])  # four batches of 2
    assert torch.allclose(ghost(x), expected, atol=1e-5)
    # The running statistics are updated once, with the groups' average mean and unbiased variance.
    groups = x.reshape(4, 2, 3, 5, 5)
    mean = groups.mean(dim=(1, 3, 4)).mean(dim=0)
    variance = groups.var(dim=(1, 3, 4), unbiased=True).mean(dim=0)
    assert torch.allclose(ghost.running_mean, 0.1 * mean, atol=1e-6)
    assert torch.allclose(ghost.running_var, 0.9 + 0.1 * variance, atol=1e-5)
    assert ghost.num_batches_tracked.item() == 1


def test_ghost_batch_norm_equals_batch_norm_for_one_group_and_in_evaluation_mode():
    ghost, reference = _ghost_and_reference(group_size=8)
    x = torch.randn(8, 3, 4, 4)
    assert torch.allclose(ghost(x), reference(x), atol=1e-6)
    assert torch.allclose(ghost.running_var, reference.running_var, atol=1e-6)
    ghost.eval(), reference.eval()
    assert torch.allclose(ghost(x), reference(x), atol=1e-6)
    # Gradients flow through the group statistics as through BN's.
    ghost.train()
    ghost.group_size = 2
    y = torch.randn(4, 3, 4, 4, requires_grad=True)
    ghost(y).square().sum().backward()
    assert y.grad is not None and torch.isfinite(y.grad).all()


def test_ghost_batch_norm_rejects_batches_it_cannot_split(digits):
    ghost = GhostBatchNorm2d(3, 4)
    with pytest.raises(ValueError, match="multiple of group_size"):
        ghost(torch.randn(6, 3, 4, 4))
    with pytest.raises(ValueError, match="norm_group needs batch norm"):
        SmallCNN("none", norm_group=2)
    model = SmallCNN("before", width=4, norm_group=2)
    assert all(isinstance(block.norm, GhostBatchNorm2d) for block in model.blocks)


def test_generalization_gap_trains_each_placement_on_the_same_small_set(digits):
    runs = generalization_gap(digits, train_size=40, seeds=(0, 1), steps=6, batch_size=8, width=4, show_progress=False)
    assert [(r.seed, r.placement) for r in runs] == [(0, "none"), (0, "before"), (1, "none"), (1, "before")]
    for r in runs:
        assert r.train_size == 40 and r.run.steps == 6
        assert r.gap == pytest.approx(r.train_accuracy - r.test_accuracy)
        assert 0 <= r.train_accuracy <= 1 and r.test_accuracy == r.run.test_accuracy
    again = generalization_gap(digits, train_size=40, seeds=(1,), steps=6, batch_size=8, width=4, show_progress=False)
    assert [r.run.losses for r in again] == [r.run.losses for r in runs[2:]]  # reproducible per seed


def test_statistics_groups_differ_only_in_batch_norms_groups(digits):
    runs = compare_statistics_groups(
        digits, group_sizes=(2, 16), seeds=(0,), steps=4, batch_size=16, width=4, show_progress=False
    )
    assert [(r.seed, r.group_size) for r in runs] == [(0, 2), (0, 16)]
    # A group as large as the batch is plain batch norm: the same run as train_variants' BN network.
    plain = train_variants(
        digits, learning_rates=[0.05], placements=("before",), batch_sizes=(16,), steps=4, width=4, show_progress=False
    )[0]
    assert runs[1].run.losses == pytest.approx(plain.run.losses, abs=1e-6)
    assert runs[0].run.losses != pytest.approx(plain.run.losses, abs=1e-6)  # groups of 2: other statistics
    with pytest.raises(ValueError, match="divide batch_size"):
        compare_statistics_groups(digits, group_sizes=(3,), steps=1, batch_size=16, show_progress=False)
