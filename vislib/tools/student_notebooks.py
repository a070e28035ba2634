"""Generate the student notebooks from the solution notebooks.

Solution notebooks in ``notebooks/`` mark their exercises with nbgrader's
markers; this tool writes the student versions into ``notebooks/student/``:

* in code cells, the lines between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` become ``# YOUR CODE HERE`` and a
  ``raise NotImplementedError(...)`` that names the function to write;
* in markdown cells, the same region becomes ``YOUR ANSWER HERE``;
* the lines between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``
  are removed;
* outputs and execution counts are cleared;
* check cells (nbgrader ``grade: true``) are tagged ``raises-exception``, so
  that JupyterLab's *Run All* goes on past an unfinished exercise (the
  repository's ``conftest.py`` makes nbval ignore that tag on check cells,
  so ``make check`` still reports every failing check).

Rules the tool enforces, so that a student notebook keeps running:
a solution region in a code cell must sit inside a function body (the
notebook then fails only where that function is called: in the check
cells), and markers must come in matched pairs.

Usage (from the repository root)::

    python -m vislib.tools.student_notebooks          # write notebooks/student/
    python -m vislib.tools.student_notebooks --check  # exit 1 if out of date
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = [
    "BEGIN_HIDDEN",
    "BEGIN_SOLUTION",
    "END_HIDDEN",
    "END_SOLUTION",
    "EXERCISE_MESSAGE_PREFIX",
    "exercise_notebooks",
    "generate",
    "main",
    "make_student_version",
    "MarkerError",
    "MARKERS",
    "RAISES_EXCEPTION",
    "Region",
    "render",
    "REPOSITORY",
    "SOURCE_DIRECTORY",
    "STUDENT_DIRECTORY",
    "student_path",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)
EXERCISE_MESSAGE_PREFIX = "Exercise:"

REPOSITORY = Path(__file__).resolve().parents[2]
SOURCE_DIRECTORY = REPOSITORY / "notebooks"
STUDENT_DIRECTORY = SOURCE_DIRECTORY / "student"

_DEF = re.compile(r"^(\s*)def\s+([A-Za-z_]\w*)\s*\(")


class MarkerError(ValueError):
    """A solution notebook whose exercise markers cannot be turned into a student version."""


@dataclass(frozen=True)
class Region:
    """The lines of one marked region in one cell (marker lines excluded)."""

    cell_index: int
    kind: str  # "solution" or "hidden"
    lines: tuple[str, ...]


def _enclosing_function(lines: list[str], marker_index: int, marker_indent: str) -> str | None:
    for line in reversed(lines[:marker_index]):
        match = _DEF.match(line)
        if match and len(match.group(1)) < len(marker_indent):
            return match.group(2)
    return None


def _clear_cell(cell, cell_index: int, where: str) -> tuple[str, list[Region]]:
    lines = cell.source.split("\n")
    output: list[str] = []
    regions: list[Region] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped in (BEGIN_SOLUTION, BEGIN_HIDDEN):
            end = END_SOLUTION if stripped == BEGIN_SOLUTION else END_HIDDEN
            try:
                stop = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == end)
            except StopIteration:
                raise MarkerError(f"{where}: {stripped!r} without a matching {end!r}") from None
            inner = lines[index + 1 : stop]
            if any(inner_line.strip() in MARKERS for inner_line in inner):
                raise MarkerError(f"{where}: markers nested inside {stripped!r}")
            indent = line[: len(line) - len(line.lstrip())]
            if stripped == BEGIN_SOLUTION:
                regions.append(Region(cell_index, "solution", tuple(inner)))
                if cell.cell_type == "markdown":
                    output.append("YOUR ANSWER HERE")
                else:
                    name = _enclosing_function(lines, index, indent)
                    if name is None:
                        raise MarkerError(
                            f"{where}: a code solution region must be inside a function body, "
                            "so that the student notebook fails only where the function is checked"
                        )
                    output.append(f"{indent}# YOUR CODE HERE")
                    output.append(
                        f'{indent}raise NotImplementedError("{EXERCISE_MESSAGE_PREFIX} write the body of '
                        f'{name}() in this cell, then run its check cell.")'
                    )
            else:
                if cell.cell_type != "code":
                    raise MarkerError(f"{where}: hidden tests belong in code cells")
                regions.append(Region(cell_index, "hidden", tuple(inner)))
            index = stop + 1
            continue
        if stripped in (END_SOLUTION, END_HIDDEN):
            raise MarkerError(f"{where}: {stripped!r} without a matching BEGIN marker")
        output.append(line)
        index += 1
    return "\n".join(output).rstrip("\n"), regions


#: The cell tag JupyterLab (and nbclient) honour: an error in the cell does not stop *Run All*.
RAISES_EXCEPTION = "raises-exception"


def make_student_version(notebook: nbformat.NotebookNode, name: str = "notebook"):
    """Return ``(student_notebook, regions)`` for a solution notebook."""
    student = copy.deepcopy(notebook)
    regions: list[Region] = []
    for index, cell in enumerate(student.cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if cell.cell_type in ("code", "markdown"):
            cell.source, found = _clear_cell(cell, index, f"{name}, cell {index}")
            regions.extend(found)
        if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            tags = cell.metadata.setdefault("tags", [])
            if RAISES_EXCEPTION not in tags:
                tags.append(RAISES_EXCEPTION)
    return student, regions


def exercise_notebooks(directory: Path = SOURCE_DIRECTORY) -> list[Path]:
    """The solution notebooks that carry at least one exercise marker."""
    found = []
    for path in sorted(directory.glob("*.ipynb")):
        if BEGIN_SOLUTION in path.read_text(encoding="utf-8"):
            found.append(path)
    return found


def render(notebook: nbformat.NotebookNode) -> str:
    """The exact text committed for a notebook."""
    return nbformat.writes(notebook) + "\n"


def student_path(source: Path) -> Path:
    return STUDENT_DIRECTORY / source.name


def generate(check_only: bool = False) -> list[Path]:
    """Write (or, with ``check_only``, compare) every student notebook; return the stale ones."""
    stale = []
    for source in exercise_notebooks():
        notebook = nbformat.read(source, as_version=4)
        student, _ = make_student_version(notebook, source.name)
        text = render(student)
        target = student_path(source)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(target)
            if not check_only:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale student notebooks")
    arguments = parser.parse_args(argv)
    stale = generate(check_only=arguments.check)
    for path in stale:
        verb = "out of date" if arguments.check else "written"
        print(f"{path.relative_to(REPOSITORY)}: {verb}")
    if arguments.check and stale:
        print("Run `make student-notebooks` to regenerate them.")
        return 1
    if not stale:
        print("student notebooks are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
