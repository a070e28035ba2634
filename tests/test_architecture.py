"""The rules of the road in ARCHITECTURE.md, enforced."""

import ast
from pathlib import Path

import pytest

import vislib

PACKAGE = Path(vislib.__file__).parent
PLOTTING_IMPORTS = ("matplotlib", "ipywidgets", "IPython", "vislib.plotting", "vislib.widgets")


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _layer(path: Path) -> str:
    relative = path.relative_to(PACKAGE).parts
    if relative[0] in ("plotting", "widgets", "tools"):
        return relative[0]
    return "computations"


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layers_only_import_downwards(path):
    layer = _layer(path)
    imported = list(_imports(path))
    if layer == "computations":
        bad = [name for name in imported if name.startswith(PLOTTING_IMPORTS)]
        assert not bad, f"computation module imports plotting/widget code: {bad}"
    if layer == "plotting":
        bad = [name for name in imported if name.startswith(("ipywidgets", "vislib.widgets", "vislib.tools"))]
        assert not bad, f"plotting module imports widget code: {bad}"
    if layer == "widgets":
        bad = [name for name in imported if name.startswith("vislib.tools")]
        assert not bad, f"widget module imports tools: {bad}"


def test_architecture_document_lists_every_module(repository):
    text = (repository / "ARCHITECTURE.md").read_text()
    for path in _modules():
        if path.name == "__init__.py":
            continue
        dotted = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        assert f"`{dotted}`" in text, f"ARCHITECTURE.md does not describe {dotted}"
