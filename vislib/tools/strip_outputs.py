"""Strip outputs from notebooks before committing them: ``make strip``.

JupyterLab saves outputs into the notebook it runs; the repository commits notebooks without outputs (the
tests check what is committed, the git index). This removes every code cell's outputs and execution count,
and the execution timings JupyterLab records in cell metadata, and writes the notebook back in the
repository's format (nbformat's, with a final newline). Notebooks that hold no outputs are left untouched.

Usage (from the repository root)::

    python -m vislib.tools.strip_outputs                 # every notebooks/**/*.ipynb
    python -m vislib.tools.strip_outputs PATH [PATH...]  # only these
    python -m vislib.tools.strip_outputs --check         # exit 1 if a notebook holds outputs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

__all__ = ["main", "REPOSITORY", "RUN_METADATA", "strip_notebook", "strip_paths"]

REPOSITORY = Path(__file__).resolve().parents[2]
#: Cell metadata JupyterLab adds while running a notebook.
RUN_METADATA = ("execution", "collapsed", "scrolled")


def strip_notebook(notebook: nbformat.NotebookNode) -> bool:
    """Remove outputs, execution counts and run metadata in place; return whether anything changed."""
    changed = False
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            cell.outputs = []
            cell.execution_count = None
            changed = True
        for key in RUN_METADATA:
            if key in cell.metadata:
                del cell.metadata[key]
                changed = True
    return changed


def strip_paths(paths: list[Path], check_only: bool = False) -> list[Path]:
    """Strip (or, with ``check_only``, only find) the notebooks among ``paths`` that hold outputs."""
    found = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        if strip_notebook(notebook):
            found.append(path)
            if not check_only:
                path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: every notebooks/**/*.ipynb)")
    parser.add_argument("--check", action="store_true", help="only report notebooks with outputs; exit 1 if any")
    args = parser.parse_args(argv)
    paths = args.paths or sorted((REPOSITORY / "notebooks").rglob("*.ipynb"))
    found = strip_paths(paths, check_only=args.check)
    for path in found:
        print(f"{path}: {'holds outputs' if args.check else 'stripped'}")
    return 1 if args.check and found else 0


if __name__ == "__main__":
    sys.exit(main())
