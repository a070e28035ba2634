"""Every public function rejects bad input with a clear error naming the argument (issue 20).

The cases are data (``tests/bad_input_cases.py``); this file runs them and enumerates the public API, so a
new public function without a bad-input case fails ``test_every_public_function_has_a_bad_input_case``.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from bad_input_cases import CASES

import vislib

#: Layers whose public functions are checked; plotting draws given results and tools are maintainer commands.
SKIPPED_PACKAGES = ("vislib.plotting", "vislib.tools")

#: Public functions and classes that do not have a bad-input case yet (issue 20 left them for later). The test
#: below fails if one of them gains a case (remove it here) or if a new public function is missing from both.
KNOWN_GAPS = {
    "vislib.analysis.receptive_field.Layer",
    "vislib.analysis.receptive_field.output_size",
    "vislib.analysis.receptive_field.output_sizes",
    "vislib.analysis.receptive_field.minimum_input_size",
    "vislib.analysis.receptive_field.field_of_unit",
    "vislib.analysis.receptive_field.field_of_unit_2d",
    "vislib.analysis.receptive_field.input_support",
    "vislib.analysis.receptive_field.path_counts",
    "vislib.analysis.receptive_field.input_support_2d",
    "vislib.analysis.receptive_field.build_stack",
    "vislib.analysis.receptive_field.gradient_map",
    "vislib.analysis.receptive_field.with_dilations",
    "vislib.analysis.receptive_field.average_gradient_map",
    "vislib.analysis.receptive_field.mass_radius",
    "vislib.analysis.region_cnn.time_rcnn_and_fast_rcnn",
    "vislib.exercises",  # checkers of students' functions: they report a student's bad output, by design
    "vislib.models.deeplab.ConvBNReLU",
    "vislib.models.deeplab.Decoder",
    "vislib.models.deeplab.Encoder",
    "vislib.models.faster_rcnn.SmallBackbone",
    "vislib.models.faster_rcnn.rpn_proposals",
    "vislib.models.region_cnn.rcnn_features",
    "vislib.models.region_cnn.rcnn_forward",
    "vislib.models.region_cnn.fast_rcnn_features",
    "vislib.models.region_cnn.fast_rcnn_forward",
    "vislib.models.segmentation.ConvBlock",
    "vislib.models.segmentation.Encoder",
    "vislib.models.segmentation.FCNBaseline",
    "vislib.models.segmentation.PSPNet",
    "vislib.models.segmentation.SegNet",
    "vislib.models.segmentation.TransposedConvNet",
    "vislib.analysis.parameters.count_parameters",
    "vislib.models.segmentation.stage_pictures",
    "vislib.models.small_cnn.ConvBlock",
    "vislib.models.yolo.ConvBlock",
    "vislib.ops.batchnorm.block_activations",
    "vislib.ops.batchnorm.batch_mean_samples",
    "vislib.ops.selective_search.selective_search",
    "vislib.progress.progress",
    "vislib.runtime",
    "vislib.training.classification.train_classifier",
    "vislib.training.faster_rcnn.predict",
    "vislib.training.faster_rcnn.train_faster_rcnn",
    "vislib.training.segmentation.evaluate_segmenter",
    "vislib.training.segmentation.train_segmenter",
    "vislib.training.yolo.prepare_data",
    "vislib.training.yolo.train_detector",
    "vislib.training.yolo.predict",
    # Merged in the same session as this test (notebooks 02, 03, 09, TIDE): their bad input is tested in their
    # own test files (test_residual*, test_grouped_conv*, test_mask_rcnn*, test_tide*); cases as data to follow.
    "vislib.analysis.grouped_conv.conv_counts",
    "vislib.analysis.grouped_conv.count_multiply_adds",
    "vislib.analysis.grouped_conv.depthwise_separable_counts",
    "vislib.analysis.grouped_conv.module_counts",
    "vislib.analysis.grouped_conv.time_forward",
    "vislib.analysis.grouped_conv.time_grouped_layers",
    "vislib.analysis.residual.Shortcut",
    "vislib.analysis.residual.block_deletion_accuracy",
    "vislib.analysis.residual.delete_block",
    "vislib.analysis.residual.filter_normalized_direction",
    "vislib.analysis.residual.first_to_last_ratio",
    "vislib.analysis.residual.gradients_at_initialization",
    "vislib.analysis.residual.loss_landscape_1d",
    "vislib.analysis.residual.loss_landscape_2d",
    "vislib.data.grouped_conv.load_ilsvrc_top5",
    "vislib.metrics.tide.coco_analyze",
    "vislib.metrics.tide.oracle_combinations",
    "vislib.metrics.tide.tide_errors",
    "vislib.models.grouped_conv.AggregatedPaths",
    "vislib.models.grouped_conv.EarlyConcatenation",
    "vislib.models.grouped_conv.GroupedConvBlock",
    "vislib.models.grouped_conv.ResNeXtBottleneck",
    "vislib.models.grouped_conv.SmallResNeXt",
    "vislib.models.grouped_conv.bottleneck_width",
    "vislib.models.grouped_conv.figure3_forms",
    "vislib.models.grouped_conv.matched_base_width",
    "vislib.models.mask_rcnn.MultiScaleRoIPool",
    "vislib.models.mask_rcnn.make_pooler",
    "vislib.models.mask_rcnn.small_mask_rcnn",
    "vislib.models.residual.BasicBlock",
    "vislib.models.residual.Bottleneck",
    "vislib.models.residual.CifarResNet",
    "vislib.models.residual.PaddingShortcut",
    "vislib.models.residual.blocks_per_stage",
    "vislib.models.residual.conv1x1",
    "vislib.models.residual.conv3x3",
    "vislib.ops.grouped_conv.channel_shuffle",
    "vislib.ops.grouped_conv.check_grouped_conv_arguments",
    "vislib.ops.grouped_conv.grouped_conv2d",
    "vislib.ops.masks.mask_iou",
    "vislib.ops.masks.paste_masks",
    "vislib.ops.masks.project_masks_on_boxes",
    "vislib.states.grouped_conv.connectivity_matrix",
    "vislib.states.grouped_conv.connectivity_state",
    "vislib.states.grouped_conv.divisors",
    "vislib.states.grouped_conv.shuffle_permutation",
    "vislib.states.mask_rcnn.InstanceExplorer",
    "vislib.states.residual.gradient_flow_state",
    "vislib.states.tide.OracleExplorer",
    "vislib.training.grouped_conv.compare_groups",
    "vislib.training.mask_rcnn.compare_poolers",
    "vislib.training.mask_rcnn.evaluate",
    "vislib.training.mask_rcnn.predict",
    "vislib.training.mask_rcnn.to_coco_mask_results",
    "vislib.training.mask_rcnn.train_mask_rcnn",
    "vislib.training.residual.GradientRecorder",
    "vislib.training.residual.dataset_loss",
    "vislib.training.residual.degradation_experiment",
    "vislib.training.residual.learning_rate_at",
    "vislib.training.residual.train_network",
    "vislib.training.yolo.yolo_recipe",
    "vislib.widgets.grouped_conv.connectivity_widget",
    "vislib.widgets.mask_rcnn.instance_explorer_widget",
    "vislib.widgets.receptive_field.conv_layer_count",
    "vislib.widgets.residual.gradient_flow_widget",
    "vislib.widgets.tide.oracle_widget",
}


def _resolve(target: str):
    module_name, _, name = target.rpartition(".")
    return getattr(importlib.import_module(module_name), name)


def public_api() -> dict[str, object]:
    """``{"module.name": object}`` for every public function and class defined in vislib (not re-exports).

    The public names are each module's ``__all__`` (``test_every_module_declares_its_public_names`` proves
    that it lists every public function and class the module defines).
    """
    found = {}
    for info in pkgutil.walk_packages(vislib.__path__, "vislib."):
        if info.name.startswith(SKIPPED_PACKAGES) or info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):  # test_every_module_declares_its_public_names: it is there
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or obj.__module__ != module.__name__:
                continue
            if inspect.isclass(obj) and (dataclasses.is_dataclass(obj) or issubclass(obj, (tuple, Exception))):
                continue  # result containers: built by vislib, not by hand
            found[f"{module.__name__}.{name}"] = obj
    return found


@pytest.mark.parametrize("bad", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_rejected_with_a_clear_error(bad):
    function = _resolve(bad.target)
    with pytest.raises(bad.error) as raised:
        function(*bad.args, **bad.kwargs)
    message = str(raised.value)
    missing = [word for word in bad.words if word not in message]
    assert not missing, f"{bad.target}: message {message!r} lacks {missing}"


def _gap(name: str) -> bool:
    return any(name == gap or name.startswith(gap + ".") for gap in KNOWN_GAPS)


def test_every_public_function_has_a_bad_input_case():
    covered = {c.target for c in CASES}
    api = public_api()
    missing = sorted(name for name in api if name not in covered and not _gap(name))
    assert not missing, f"public functions without a bad-input case in tests/bad_input_cases.py: {missing}"
    stale = sorted(gap for gap in KNOWN_GAPS if gap in covered)
    assert not stale, f"these now have cases; remove them from KNOWN_GAPS: {stale}"
    unknown = sorted(c.target for c in CASES if c.target not in api)
    assert not unknown, f"cases for names that are not public vislib functions: {unknown}"


def _all_modules():
    """Every vislib module: (dotted name, path). ``__main__`` modules are read, not imported (they run)."""
    package = Path(vislib.__file__).parent
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(package.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _binds_public_names(tree) -> bool:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            not (alias.asname or alias.name).startswith("_") and alias.name != "annotations" for alias in node.names
        ):
            return True
    return False


@pytest.mark.parametrize("name,path", list(_all_modules()), ids=[name for name, _ in _all_modules()])
def test_every_module_declares_its_public_names(name, path):
    """``__all__`` in every module (a package ``__init__`` that only holds a docstring is exempt): each name in it
    exists and is public, and it lists every public function and class the module defines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    declared = [
        node
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        and any(
            getattr(t, "id", None) == "__all__"
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
    ]
    if not declared:
        assert path.name == "__init__.py" and not _binds_public_names(tree), f"{name} has no __all__"
        return
    defined = {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_")
    }
    if path.name == "__main__.py":
        names = ast.literal_eval(declared[0].value)
    else:
        module = importlib.import_module(name)
        names = list(module.__all__)
        missing = [n for n in names if not hasattr(module, n)]
        assert not missing, f"{name}.__all__ names what the module does not have: {missing}"
    assert len(names) == len(set(names)), f"{name}.__all__ lists a name twice"
    private = [n for n in names if n.startswith("_")]
    assert not private, f"{name}.__all__ lists private names {private}"
    unlisted = sorted(defined - set(names))
    assert not unlisted, f"{name} defines public {unlisted} but its __all__ does not list them"
