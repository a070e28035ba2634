"""The exercise pipeline: student notebooks are generated, in sync, leak nothing, and fail only in checks."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from vislib.tools import student_notebooks as tool

SOURCES = tool.exercise_notebooks()
REPOSITORY = Path(__file__).resolve().parents[1]


def _notebook(*cells):
    notebook = new_notebook()
    notebook.cells = list(cells)
    return notebook


# -- the generator on small made-up notebooks ---------------------------------
def test_solution_becomes_a_not_implemented_error_that_names_the_function():
    source = "def area(w, h):\n    '''Doc.'''\n    ### BEGIN SOLUTION\n    return w * h\n    ### END SOLUTION\n"
    student, regions = tool.make_student_version(_notebook(new_code_cell(source)))
    text = student.cells[0].source
    assert "return w * h" not in text and "BEGIN SOLUTION" not in text
    assert text.startswith("def area(w, h):\n    '''Doc.'''\n    # YOUR CODE HERE\n    raise NotImplementedError(")
    assert "area()" in text
    assert regions == [tool.Region(0, "solution", ("    return w * h",))]
    namespace = {}
    exec(text, namespace)  # the student cell itself runs; calling the function fails
    with pytest.raises(NotImplementedError, match=r"Exercise: write the body of area\(\)"):
        namespace["area"](2, 3)


def test_hidden_tests_are_removed_and_visible_ones_kept():
    source = "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\nprint('ok')"
    student, regions = tool.make_student_version(_notebook(new_code_cell(source)))
    assert student.cells[0].source == "assert f(1) == 1\nprint('ok')"
    assert regions[0].kind == "hidden"


def test_markdown_answers_are_cleared_and_outputs_dropped():
    code = new_code_cell("1 + 1")
    code.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"})]
    code.execution_count = 3
    answer = new_markdown_cell("Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION")
    student, _ = tool.make_student_version(_notebook(code, answer))
    assert student.cells[0].outputs == [] and student.cells[0].execution_count is None
    assert student.cells[1].source == "Why?\nYOUR ANSWER HERE"


@pytest.mark.parametrize(
    "source, message",
    [
        ("x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION", "must be inside a function body"),
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "without a matching '### END SOLUTION'"),
        ("def f():\n    return 1\n    ### END SOLUTION", "without a matching BEGIN"),
        ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN HIDDEN TESTS\n    ### END SOLUTION", "nested"),
    ],
)
def test_malformed_markers_are_refused(source, message):
    with pytest.raises(tool.MarkerError, match=message):
        tool.make_student_version(_notebook(new_code_cell(source)))


# -- the committed notebooks ---------------------------------------------------
def test_there_are_exercise_notebooks():
    assert any(path.name == "00_start_here.ipynb" for path in SOURCES)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_committed_student_version_is_in_sync(source):
    student, _ = tool.make_student_version(nbformat.read(source, as_version=4), source.name)
    committed = tool.student_path(source)
    assert committed.exists(), f"{committed} is missing: run `make student-notebooks`"
    assert committed.read_text(encoding="utf-8") == tool.render(student), (
        f"{committed.name} is out of date: run `make student-notebooks`"
    )


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_student_version_leaks_no_solution(source):
    notebook = nbformat.read(source, as_version=4)
    _, regions = tool.make_student_version(notebook, source.name)
    student = nbformat.read(tool.student_path(source), as_version=4)
    student_text = "\n".join(cell.source for cell in student.cells)
    for marker in tool.MARKERS:
        assert marker not in student_text
    solution_lines = {line.strip() for region in regions for line in region.lines if line.strip()}
    # Lines the notebook also shows outside its solutions (say, in a worked example) are no secret.
    outside = "\n".join(
        re.sub(r"### BEGIN (SOLUTION|HIDDEN TESTS).*?### END \1", "", cell.source, flags=re.S)
        for cell in notebook.cells
    )
    secret = [line for line in solution_lines if len(line) > 6 and line not in outside]
    assert secret, "every exercise must hide at least one line"
    for line in secret:
        assert line not in student_text, f"solution line leaked into the student notebook: {line!r}"


def _names_defined_in_solutions(notebook):
    names = set()
    for cell in notebook.cells:
        if cell.cell_type == "code" and tool.BEGIN_SOLUTION in cell.source:
            tree = ast.parse(cell.source)
            names |= {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    return names


def _is_check_cell(cell):
    return bool(cell.metadata.get("nbgrader", {}).get("grade"))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_later_cells_never_use_the_students_code(source):
    notebook = nbformat.read(source, as_version=4)
    exercised = _names_defined_in_solutions(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or _is_check_cell(cell) or tool.BEGIN_SOLUTION in cell.source:
            continue
        used = {node.id for node in ast.walk(ast.parse(cell.source)) if isinstance(node, ast.Name)}
        assert not used & exercised, f"cell {index} uses the exercise function(s) {used & exercised}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_student_version_fails_only_in_its_check_cells(source, monkeypatch):
    """Run the student notebook up to its last check cell (later cells match the solution notebook,
    which nbval runs, and use no exercise function: see the test above)."""
    monkeypatch.setenv("VISLIB_PROFILE", "quick")
    student = nbformat.read(tool.student_path(source), as_version=4)
    checks = [i for i, cell in enumerate(student.cells) if _is_check_cell(cell)]
    assert checks, "an exercise notebook needs check cells (nbgrader metadata grade: true)"
    student.cells = student.cells[: checks[-1] + 1]
    NotebookClient(
        student,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(source.parent)}},
    ).execute()
    failed = {}
    for index, cell in enumerate(student.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                failed[index] = f"{output.ename}: {output.evalue}"
    assert set(failed) == set(checks), f"cells that failed: {failed}; check cells: {checks}"
    for error in failed.values():
        assert error.startswith("NotImplementedError: Exercise: write the body of"), error


# -- Run All goes on past an unfinished exercise; nbval still reports it ------------------------------------
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_check_cells_are_tagged_so_run_all_goes_on(source):
    student = nbformat.read(tool.student_path(source), as_version=4)
    checks = [cell for cell in student.cells if _is_check_cell(cell)]
    assert checks and all(tool.RAISES_EXCEPTION in cell.metadata.get("tags", []) for cell in checks)
    others = [cell for cell in student.cells if not _is_check_cell(cell)]
    assert not any(tool.RAISES_EXCEPTION in cell.metadata.get("tags", []) for cell in others)


def test_nbval_still_fails_a_tagged_check_cell_that_raises(tmp_path):
    """The repository's conftest.py makes nbval ignore ``raises-exception`` on check cells (as ``make check``
    runs it): a failing check is reported, the cells after it still run."""
    check = new_code_cell('raise NotImplementedError("Exercise: write the body of f")', id="check")
    check.metadata.update({"nbgrader": {"grade": True, "solution": False}, "tags": [tool.RAISES_EXCEPTION]})
    notebook = _notebook(check, new_code_cell("assert 1 + 1 == 2", id="later"))
    path = tmp_path / "student.ipynb"
    nbformat.write(notebook, path)
    command = [sys.executable, "-m", "pytest", "-p", "conftest", "--nbval-lax", "--nbval-current-env", str(path)]
    result = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 1 passed" in result.stdout and "NotImplementedError" in result.stdout
