"""Residual blocks equal to torchvision's, the CIFAR ResNet and its plain twin, training records, analysis."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import resnet as tv

from vislib.analysis.residual import (
    Shortcut,
    block_deletion_accuracy,
    delete_block,
    filter_normalized_direction,
    first_to_last_ratio,
    gradients_at_initialization,
    loss_landscape_1d,
    loss_landscape_2d,
)
from vislib.data.digits import ImageSplit
from vislib.models.residual import BasicBlock, Bottleneck, CifarResNet, PaddingShortcut, blocks_per_stage, conv1x1
from vislib.states.residual import GradientFlowRecords, gradient_flow_state
from vislib.training.residual import (
    GradientRecorder,
    dataset_loss,
    degradation_experiment,
    learning_rate_at,
    train_network,
)


def _randomize_batchnorm(module):
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.3)
                m.running_mean.normal_(0, 0.3)
                m.running_var.uniform_(0.5, 2.0)


def _tiny_data(count=96, size=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(count, 1, size, size, generator=generator)
    labels = torch.randint(0, 10, (count,), generator=generator)
    return ImageSplit(images[:64], labels[:64], images[64:], labels[64:])


# -- blocks against torchvision -------------------------------------------------------
@pytest.mark.parametrize("kind", ["basic", "bottleneck"])
@pytest.mark.parametrize("stride, projection", [(1, False), (1, True), (2, True)])
@pytest.mark.parametrize("training", [True, False])
def test_blocks_load_torchvision_weights_and_compute_the_same(kind, stride, projection, training):
    torch.manual_seed(0)
    theirs_type, ours_type = (tv.BasicBlock, BasicBlock) if kind == "basic" else (tv.Bottleneck, Bottleneck)
    inplanes, planes = (8, 8) if kind == "basic" else (32, 8)
    if projection and stride == 1 and kind == "basic":
        inplanes = 4
    out = planes * theirs_type.expansion
    make_downsample = (
        (lambda: nn.Sequential(conv1x1(inplanes, out, stride), nn.BatchNorm2d(out))) if projection else (lambda: None)
    )
    theirs = theirs_type(inplanes, planes, stride, make_downsample())
    _randomize_batchnorm(theirs)
    ours = ours_type(inplanes, planes, stride, make_downsample())
    ours.load_state_dict(theirs.state_dict())  # strict: the same names and shapes
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.train(training)
    ours.train(training)
    x = torch.relu(torch.randn(3, inplanes, 9, 9))
    expected = theirs(x.clone())
    got = ours(x.clone())
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)
    if training:  # the running statistics moved the same way
        torch.testing.assert_close(ours.bn1.running_mean, theirs.bn1.running_mean)


def test_a_plain_block_is_the_same_block_without_the_addition():
    torch.manual_seed(0)
    block = BasicBlock(8, 8)
    _randomize_batchnorm(block)
    block.eval()
    plain = copy.deepcopy(block)
    plain.residual = False
    x = torch.relu(torch.randn(2, 8, 6, 6))
    branch = block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x)))))
    torch.testing.assert_close(plain(x), torch.relu(branch))
    torch.testing.assert_close(block(x), torch.relu(branch + x))


def test_padding_shortcut_subsamples_and_pads_with_zero_channels():
    x = torch.arange(2 * 3 * 5 * 5, dtype=torch.float32).reshape(2, 3, 5, 5)
    y = PaddingShortcut(3, 8, stride=2)(x)
    assert y.shape == (2, 8, 3, 3)
    torch.testing.assert_close(y[:, :3], x[:, :, ::2, ::2])
    assert (y[:, 3:] == 0).all()


# -- the network ------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [8, 20, 56])
def test_cifar_resnet_has_depth_weighted_layers(depth):
    model = CifarResNet(depth)
    convs = [m for name, m in model.named_modules() if isinstance(m, nn.Conv2d) and "downsample" not in name]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(convs) + len(linears) == depth
    assert len(model.blocks) == 3 * (depth - 2) // 6 == len(model.block_names())


@pytest.mark.parametrize("depth, millions", [(20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85)])
def test_cifar_resnets_have_the_papers_parameter_counts(depth, millions):
    # He et al., Table 6: CIFAR-10 (3 channels, 10 classes, option A shortcuts).
    count = sum(p.numel() for p in CifarResNet(depth, in_channels=3).parameters())
    assert round(count / 1e6, 2) == millions


def test_the_plain_twin_has_the_same_modules_and_weights_under_the_same_seed():
    torch.manual_seed(3)
    residual = CifarResNet(20, residual=True)
    torch.manual_seed(3)
    plain = CifarResNet(20, residual=False)
    for (name_a, a), (name_b, b) in zip(residual.state_dict().items(), plain.state_dict().items()):
        assert name_a == name_b and torch.equal(a, b)
    x = torch.rand(4, 1, 16, 16)
    assert not torch.allclose(residual.eval()(x), plain.eval()(x))


def test_shapes_through_the_network_and_projection_shortcuts():
    model = CifarResNet(14, shortcut="B", block="basic", in_channels=3, classes=7)
    assert model(torch.rand(2, 3, 16, 16)).shape == (2, 7)
    assert isinstance(model.layer2[0].downsample, nn.Sequential)
    assert CifarResNet(20, block="bottleneck")(torch.rand(2, 1, 12, 12)).shape == (2, 10)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"depth must be 6n \+ 2"):
        CifarResNet(21)
    with pytest.raises(ValueError, match="depth must be 9n"):
        CifarResNet(20 + 1, block="bottleneck")
    with pytest.raises(ValueError, match="block must be one of"):
        CifarResNet(20, block="wide")
    with pytest.raises(ValueError, match="shortcut must be one of"):
        CifarResNet(20, shortcut="C")
    with pytest.raises(TypeError, match="depth must be an integer"):
        CifarResNet(20.0)
    with pytest.raises(TypeError, match="residual must be True or False"):
        CifarResNet(20, residual="yes")
    model = CifarResNet(8)
    with pytest.raises(ValueError, match=r"x must have shape \[N, 1, H, W\]"):
        model(torch.rand(2, 3, 16, 16))
    with pytest.raises(ValueError, match=r"x must have shape"):
        model(torch.rand(1, 16, 16))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        model([[0.0]])
    with pytest.raises(ValueError, match="depth must be"):
        blocks_per_stage(2)


# -- training records -------------------------------------------------------------------
def test_recorder_measures_the_gradient_at_every_block_output_and_weight():
    torch.manual_seed(0)
    model = CifarResNet(14)
    x, y = torch.rand(8, 1, 8, 8), torch.randint(0, 10, (8,))
    recorder = GradientRecorder(model)
    recorder.arm(0)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    recorder.collect()
    recorder.remove()
    record = recorder.record()
    # The oracle: keep every block's output and let autograd fill in its gradient.
    model.zero_grad()
    outputs = []
    handles = [b.register_forward_hook(lambda m, i, o: outputs.append(o) or o.retain_grad()) for b in model.blocks]
    F.cross_entropy(model(x), y).backward()
    for handle in handles:
        handle.remove()
    expected = np.array([o.grad.pow(2).mean().sqrt().item() for o in outputs])
    np.testing.assert_allclose(record.output_grad[0], expected, rtol=1e-5)
    weights = np.array(
        [
            np.sqrt(sum(m.weight.grad.pow(2).sum().item() for m in b.modules() if isinstance(m, nn.Conv2d)))
            for b in model.blocks
        ]
    )
    np.testing.assert_allclose(record.weight_grad[0], weights, rtol=1e-5)
    assert record.output_grad.shape == (1, 6) and record.block_names[0] == "layer1.0"
    assert not model.blocks[0]._forward_hooks  # removed


def test_gradients_at_initialization_change_no_weight_and_show_the_plain_nets_imbalance():
    torch.manual_seed(0)
    plain = CifarResNet(56, residual=False)
    before = copy.deepcopy(plain.state_dict())
    x, y = torch.rand(32, 1, 16, 16), torch.randint(0, 10, (32,))
    record = gradients_at_initialization(plain, x, y)
    for name, value in plain.named_parameters():
        assert torch.equal(value, before[name]) and value.grad is None
    torch.manual_seed(0)
    resnet_record = gradients_at_initialization(CifarResNet(56), x, y)
    # The measured effect the notebook teaches: the plain net's gradient spans orders of magnitude.
    assert first_to_last_ratio(record) > 30 * first_to_last_ratio(resnet_record)


def test_learning_rate_warms_up_then_decays():
    rates = [learning_rate_at(s, 100, 0.1, 10) for s in range(100)]
    assert rates[0] == pytest.approx(0.01) and rates[10] == pytest.approx(0.1)
    assert all(a <= b for a, b in zip(rates[:10], rates[1:11])) and rates[-1] < 0.001


def test_training_is_reproducible_and_records_the_chosen_steps():
    data = _tiny_data()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        runs.append(
            train_network(CifarResNet(8), data, steps=12, lr=0.05, batch_size=16, record_every=5, evaluate_every=6)
        )
    assert runs[0].losses == runs[1].losses
    assert list(runs[0].gradients.steps) == [0, 5, 10, 11]
    assert runs[0].gradients.output_grad.shape == (4, 3)
    assert sorted(runs[0].test_accuracies) == [6, 12]
    assert runs[0].train_loss == pytest.approx(dataset_loss(runs[0].model, data.train_images, data.train_labels))
    with pytest.raises(TypeError, match="model must be a CifarResNet"):
        train_network(nn.Linear(2, 2), data, steps=2)
    with pytest.raises(ValueError, match="warmup_steps must be <= 2"):
        train_network(CifarResNet(8), data, steps=2, warmup_steps=3)


def test_degradation_experiment_trains_twins_on_the_same_batches():
    data = _tiny_data()
    experiment = degradation_experiment(
        data, depths=(8,), seeds=(0, 1), steps=6, batch_size=16, record_every=3, show_progress=False
    )
    assert set(experiment.runs) == {(8, False, 0), (8, True, 0), (8, False, 1), (8, True, 1)}
    mean, spread = experiment.summary(8, True)
    assert mean == pytest.approx(experiment.final_losses(8, True).mean()) and spread >= 0
    with pytest.raises(ValueError, match="no run for depth=20"):
        experiment.run(20, True)
    records = GradientFlowRecords.from_experiment(experiment, seed=1)
    state = gradient_flow_state(records, depth=8, residual=True, step=4)
    assert state.step == 3  # the last recorded step at or before 4
    np.testing.assert_array_equal(state.gradient, experiment.run(8, True, 1).gradients.output_grad[1])
    np.testing.assert_array_equal(state.twin_gradient, experiment.run(8, False, 1).gradients.output_grad[1])
    assert state.loss == experiment.run(8, True, 1).losses[3]
    weights = gradient_flow_state(records, depth=8, residual=False, step=0, quantity="weight_grad")
    np.testing.assert_array_equal(weights.gradient, experiment.run(8, False, 1).gradients.weight_grad[0])
    with pytest.raises(ValueError, match="depth must be one of 8"):
        gradient_flow_state(records, depth=20, residual=True, step=0)
    with pytest.raises(ValueError, match="quantity must be one of"):
        gradient_flow_state(records, depth=8, residual=True, step=0, quantity="hessian")
    with pytest.raises(ValueError, match="step must be >= 0"):
        gradient_flow_state(records, depth=8, residual=True, step=-1)


# -- analysis ---------------------------------------------------------------------------
def test_deleting_a_residual_block_leaves_its_shortcut_and_is_undone():
    torch.manual_seed(0)
    model = CifarResNet(14).eval()
    x = torch.rand(3, 1, 8, 8)
    before = model(x)
    block = model.layer1[1]
    with delete_block(model, 1):
        assert isinstance(model.layer1[1], Shortcut)
        features = model.relu(model.bn1(model.conv1(x)))
        expected = model.fc(torch.flatten(model.avgpool(model.layer3(model.layer2(model.layer1[0](features)))), 1))
        torch.testing.assert_close(model(x), expected)
    assert model.layer1[1] is block
    torch.testing.assert_close(model(x), before)
    with delete_block(model, 2):  # the first block of stage 2 keeps its zero-padding shortcut
        assert model(x).shape == (3, 10)
    with pytest.raises(ValueError, match="index must be <= 5"):
        with delete_block(model, 6):
            pass


def test_block_deletion_accuracy_measures_each_block():
    data = _tiny_data()
    torch.manual_seed(0)
    model = CifarResNet(8)
    result = block_deletion_accuracy(model, data.test_images, data.test_labels)
    assert result.deleted.shape == (3,) and result.block_names == ("layer1.0", "layer2.0", "layer3.0")
    with delete_block(model, 0):
        model.eval()
        predicted = model(data.test_images).argmax(1)
    assert result.deleted[0] == pytest.approx((predicted == data.test_labels).float().mean().item())
    np.testing.assert_allclose(result.drops, result.baseline - result.deleted)


def test_filter_normalized_directions_have_the_weights_filter_norms():
    torch.manual_seed(0)
    model = CifarResNet(8)
    direction = filter_normalized_direction(model, torch.Generator().manual_seed(0))
    for parameter, d in zip(model.parameters(), direction):
        assert d.shape == parameter.shape
        if parameter.dim() <= 1:
            assert (d == 0).all()
        else:
            torch.testing.assert_close(d.flatten(1).norm(dim=1), parameter.detach().flatten(1).norm(dim=1))


def test_loss_landscapes_pass_through_the_trained_weights():
    data = _tiny_data()
    torch.manual_seed(0)
    model = CifarResNet(8)
    x, y = data.train_images[:32], data.train_labels[:32]
    at_weights = dataset_loss(model, x, y)
    line = loss_landscape_1d(model, x, y, np.linspace(-1, 1, 5))
    assert line.losses[2] == pytest.approx(at_weights, rel=1e-5)
    assert line.losses[0] != pytest.approx(at_weights)
    plane = loss_landscape_2d(model, x, y, [-0.5, 0.0, 0.5], [0.0, 1.0])
    assert plane.losses.shape == (3, 2) and plane.losses[1, 0] == pytest.approx(at_weights, rel=1e-5)
    assert dataset_loss(model, x, y) == at_weights  # the model itself is unchanged
    with pytest.raises(ValueError, match="alphas must be a 1-D sequence"):
        loss_landscape_1d(model, x, y, [0.0])
    with pytest.raises(ValueError, match="labels must have shape"):
        loss_landscape_1d(model, x, y[:3], [0.0, 1.0])
