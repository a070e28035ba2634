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

#: Public functions and classes without a bad-input case, each with its reason. The test below fails if one of
#: them gains a case (remove it here) or if a new public function is missing from both. A function that takes
#: no arguments cannot be given bad input and needs no case.
KNOWN_GAPS = {
    "vislib.exercises",  # checkers of students' functions: they report a student's bad output, by design
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
            if inspect.isfunction(obj) and not inspect.signature(obj).parameters:
                continue  # no arguments, no bad input
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


def test_dilation_costs_one_pass_whatever_the_radius():
    """A radius far beyond the image (the audit's 1e9) is answered at once and equals scipy's dilation."""
    import numpy as np
    import torch
    from scipy import ndimage

    from vislib.metrics.boundary import boundary_band, dilate

    rng = np.random.default_rng(0)
    mask = rng.random((2, 13, 17)) > 0.93
    for radius in (1, 2, 5, 16, 17, 10**9):
        ours = dilate(torch.from_numpy(mask), radius).numpy()
        steps = min(radius, 17)
        expected = np.stack([ndimage.binary_dilation(m, np.ones((3, 3)), iterations=steps) for m in mask])
        np.testing.assert_array_equal(ours, expected, err_msg=f"radius {radius}")
    labels = torch.zeros(64, 64, dtype=torch.long)
    labels[10:30, 10:40] = 1
    assert boundary_band(labels, 10**9).all()


def test_valid_edge_inputs_of_the_new_checks_are_accepted():
    """What the mirrored library (torch, torchvision) accepts, the checks added for issue 20 accept too."""
    import torch
    import torch.nn.functional as F
    from torchvision.ops import MultiScaleRoIAlign

    from vislib.models.mask_rcnn import MultiScaleRoIPool, make_pooler
    from vislib.models.residual import conv1x1, conv3x3
    from vislib.models.segmentation import PSPNet
    from vislib.ops.grouped_conv import grouped_conv2d
    from vislib.training.mask_rcnn import to_coco_mask_results

    generator = torch.Generator().manual_seed(0)
    x, w = torch.randn(1, 4, 7, 6, generator=generator), torch.randn(6, 2, 3, 3, generator=generator)
    for options in ({"stride": (2, 1), "padding": (1, 0)}, {"stride": 1, "padding": 0, "dilation": (1, 2)}):
        expected = F.conv2d(x, w, groups=2, **options)
        torch.testing.assert_close(grouped_conv2d(x, w, groups=2, **options), expected)
    assert isinstance(make_pooler("align", 7, featmap_names=("0", "1"), sampling_ratio=-1), MultiScaleRoIAlign)
    assert MultiScaleRoIPool(("0",), (7, 5)).output_size == (7, 5)
    assert conv3x3(4, 8, stride=2, groups=4, dilation=2).groups == 4 and conv1x1(4, 8).kernel_size == (1, 1)
    assert PSPNet(3, bins=()).pyramid is None  # documented: the network without its context module
    detection = {
        "boxes": torch.tensor([[1.0, 1.0, 3.0, 3.0]] * 2),
        "scores": torch.tensor([0.9, 0.8]),
        "labels": torch.tensor([1, 2]),
    }
    as_bool = torch.zeros(2, 4, 4, dtype=torch.bool)
    as_bool[0, 1:3, 1:3] = True
    for masks in (as_bool, as_bool.to(torch.uint8), as_bool.float()):
        results = to_coco_mask_results([{**detection, "masks": masks}], [7])
        assert [r["segmentation"]["counts"] for r in results] == [[5, 2, 2, 2, 5], [16]]


def test_a_malformed_ilsvrc_table_is_named_not_a_bare_conversion_error(tmp_path):
    from vislib.data.grouped_conv import load_ilsvrc_top5

    table = tmp_path / "table.csv"
    table.write_text("year,model,kind,top5_error_percent,source,checked\n2012,AlexNet,entry,fifteen,x,yes\n")
    with pytest.raises(ValueError, match="data row 1 must have an integer year and a number top5_error_percent"):
        load_ilsvrc_top5(table)
