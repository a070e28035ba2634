"""The rules of the road in ARCHITECTURE.md, enforced."""

import ast
from pathlib import Path

import pytest

import vislib

PACKAGE = Path(vislib.__file__).parent

#: Packages (and top-level modules) of each layer; a module's layer is its first name below ``vislib``.
COMPUTATIONS = ("data", "ops", "analysis", "models", "metrics", "training", "runtime", "progress", "_validation")
LAYERS = {name: "computations" for name in COMPUTATIONS} | {
    name: name for name in ("states", "plotting", "widgets", "exercises", "tools")
}
DRAWING = ("matplotlib", "ipywidgets", "IPython")

#: What each layer must not import: vislib layers, and third-party drawing or widget packages. Nothing but tools
#: imports tools (tests may).
FORBIDDEN = {
    "computations": (
        *DRAWING,
        "vislib.states",
        "vislib.plotting",
        "vislib.widgets",
        "vislib.exercises",
        "vislib.tools",
    ),
    "states": (*DRAWING, "vislib.plotting", "vislib.widgets", "vislib.exercises", "vislib.tools"),
    "exercises": (*DRAWING, "vislib.plotting", "vislib.widgets", "vislib.tools"),
    "plotting": ("ipywidgets", "vislib.widgets", "vislib.exercises", "vislib.tools"),
    "widgets": ("vislib.exercises", "vislib.tools"),
    "tools": (),
}


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _layer(path: Path) -> str:
    relative = path.relative_to(PACKAGE).with_suffix("").parts
    if relative == ("__init__",):
        return "computations"  # the package's docstring: it imports nothing
    if relative[0] not in LAYERS:
        raise AssertionError(f"vislib/{'/'.join(relative)}.py belongs to no layer: add it to one (ARCHITECTURE.md)")
    return LAYERS[relative[0]]


def _imports(source: str):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            if node.module == "vislib":  # from vislib import tools
                yield from (f"vislib.{alias.name}" for alias in node.names)


def _violations(layer: str, source: str) -> list[str]:
    forbidden = FORBIDDEN[layer]
    return [name for name in _imports(source) if any(name == f or name.startswith(f + ".") for f in forbidden)]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layers_only_import_downwards(path):
    layer = _layer(path)
    bad = _violations(layer, path.read_text())
    assert not bad, f"{layer} module {path.relative_to(PACKAGE)} imports {bad} (see ARCHITECTURE.md's layers)"


@pytest.mark.parametrize(
    "layer, source",
    [
        ("computations", "from vislib.plotting.style import OKABE_ITO"),
        ("computations", "import matplotlib.pyplot as plt"),
        ("computations", "from vislib.states.yolo import GridState"),
        ("computations", "from vislib import tools"),
        ("states", "from vislib.plotting.view import View"),
        ("states", "def f():\n    from vislib.widgets.core import Interactive"),
        ("exercises", "from vislib.plotting import new_figure"),
        ("exercises", "from vislib.tools.benchmark.registry import NOTEBOOKS"),
        ("plotting", "from vislib.widgets.core import Interactive"),
        ("widgets", "import vislib.tools.student_notebooks"),
    ],
)
def test_a_violation_is_caught(layer, source):
    assert _violations(layer, source)


def test_allowed_imports_pass():
    assert not _violations("exercises", "from vislib.states.scoring import iou_state\nfrom vislib.ops import box_iou")
    assert not _violations(
        "widgets", "from vislib.plotting.view import View\nfrom vislib.states.roi import RoIAlignState"
    )
    assert not _violations("tools", "from vislib.widgets.core import Interactive")


def test_architecture_document_lists_every_module(repository):
    text = (repository / "ARCHITECTURE.md").read_text()
    for path in _modules():
        if path.name == "__init__.py":
            continue
        dotted = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        assert f"`{dotted}`" in text, f"ARCHITECTURE.md does not describe {dotted}"
