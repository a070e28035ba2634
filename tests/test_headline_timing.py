"""The benchmark's issue-18 figures: each headline widget cell exists, and time_to_cell stops at it."""

import nbformat
import pytest

from vislib.tools.benchmark.measurements import time_to_cell
from vislib.tools.benchmark.registry import HEADLINE_WIDGETS, NOTEBOOKS


def test_every_headline_widget_cell_exists(repository):
    assert set(HEADLINE_WIDGETS) <= {entry.path for entry in NOTEBOOKS}
    for notebook, cell_id in HEADLINE_WIDGETS.items():
        ids = [cell.get("id") for cell in nbformat.read(repository / notebook, as_version=4).cells]
        assert cell_id in ids, f"{notebook} has no cell {cell_id!r}"


def test_time_to_cell_runs_the_cells_up_to_the_named_one(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("x = 1", id="first"),
        nbformat.v4.new_code_cell("import time; time.sleep(0.5)", id="widget"),
        nbformat.v4.new_code_cell("raise RuntimeError('ran past the widget')", id="after"),
    ]
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook, path)
    assert time_to_cell(path, "widget") >= 0.5
    with pytest.raises(ValueError, match="no cell with id 'missing'"):
        time_to_cell(path, "missing")
