"""The gradient-flow widget: a cheap redraw of precomputed records, the same picture as a fresh draw, no leaks;
and the notebook's static plots."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from vislib.analysis.residual import LossSlice, LossSurface, block_deletion_accuracy
from vislib.data.digits import ImageSplit
from vislib.plotting.figures import new_figure
from vislib.plotting.residual import (
    plot_block_deletion,
    plot_degradation,
    plot_gradient_profiles,
    plot_loss_slices,
    plot_loss_surfaces,
)
from vislib.states.residual import GradientFlowRecords
from vislib.training.residual import degradation_experiment
from vislib.widgets.residual import gradient_flow_widget


@pytest.fixture(scope="module")
def experiment():
    generator = torch.Generator().manual_seed(0)
    images, labels = torch.rand(96, 1, 8, 8, generator=generator), torch.randint(0, 10, (96,), generator=generator)
    data = ImageSplit(images[:64], labels[:64], images[64:], labels[64:])
    return degradation_experiment(
        data, depths=(8, 14), seeds=(0,), steps=9, batch_size=16, record_every=2, evaluate_every=3, show_progress=False
    )


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_widget_shows_the_chosen_network_at_the_chosen_step(experiment):
    records = GradientFlowRecords.from_experiment(experiment)
    widget = gradient_flow_widget(records)
    assert widget.values() == {"depth": 14, "residual": False, "step": 0, "quantity": "output_grad"}
    timing = widget.set(depth=8, residual=True, step=4)
    assert timing and widget.last_state.depth == 8 and widget.last_state.step == 4
    np.testing.assert_array_equal(widget.last_state.gradient, experiment.run(8, True).gradients.output_grad[2])
    assert "ResNet-8, step 4" in widget.draw_function.gradient_title.get_text()


def test_fast_redraws_match_a_fresh_widget_and_leak_nothing(experiment):
    records = GradientFlowRecords.from_experiment(experiment)
    widget = gradient_flow_widget(records)
    rng = np.random.default_rng(0)
    artists = sum(len(ax.get_children()) for ax in widget.figure.axes)
    for _ in range(40):
        widget.set(
            depth=int(rng.choice([8, 14])),
            residual=bool(rng.integers(2)),
            step=int(rng.choice(records.steps)),
            quantity=str(rng.choice(["output_grad", "weight_grad"])),
        )
    assert sum(len(ax.get_children()) for ax in widget.figure.axes) == artists
    assert len(widget.figure.axes) == 2
    values = {"depth": 14, "residual": True, "step": 6, "quantity": "weight_grad"}
    widget.set(**values)
    fresh = gradient_flow_widget(records)  # the same layout, then straight to these values
    fresh.set(**values)
    difference = np.abs(_pixels(widget.image.value) - _pixels(fresh.image.value))
    assert (difference > 40).mean() < 0.002


def test_widget_rejects_bad_records():
    with pytest.raises(TypeError, match="records must be GradientFlowRecords"):
        gradient_flow_widget({"depth": 8})


def test_static_plots_draw_every_network(experiment):
    figure, axes = new_figure(2, 3, figsize=(12, 6))
    plot_degradation(axes[0, :2], experiment)
    assert len(axes[0, 0].get_lines()) == 4 and axes[0, 0].get_yscale() == "log"
    plot_gradient_profiles(
        axes[0, 2], {(d, r): experiment.run(d, r).gradients.output_grad[0] for d in (8, 14) for r in (False, True)}
    )
    assert len(axes[0, 2].get_lines()) == 4
    model = experiment.run(14, True).model
    images = torch.rand(20, 1, 8, 8)
    deletion = block_deletion_accuracy(model, images, torch.randint(0, 10, (20,)))
    plot_block_deletion(axes[1, 0], {"ResNet-14": deletion})
    assert axes[1, 0].get_xlabel().startswith("deleted block")
    plot_loss_slices(axes[1, 1], {"a": LossSlice(np.linspace(-1, 1, 3), np.array([2.0, 0.1, 3.0]))})
    surface = LossSurface(np.linspace(-1, 1, 3), np.linspace(-1, 1, 4), np.arange(1, 13, dtype=float).reshape(3, 4))
    assert plot_loss_surfaces(np.array([axes[1, 2]]), {"b": surface}) is not None
