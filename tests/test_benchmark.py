"""The benchmark harness measures for real; its report merges by section."""

import random

import ipywidgets
import nbformat
import pytest

from vislib.tools.benchmark.measurements import measure_shapes_throughput
from vislib.tools.benchmark.registry import MEASUREMENTS, NOTEBOOKS, WIDGETS, is_selected
from vislib.tools.benchmark.report import merge_section, render_section
from vislib.tools.benchmark.timing import load_factory, random_control_value, run_notebook, time_widget
from vislib.widgets.core import Interactive
from vislib.widgets.nonlinearities import saturation_widget


def test_random_values_are_valid_for_every_control_kind():
    rng = random.Random(0)
    controls = [
        ipywidgets.IntSlider(min=2, max=20, step=3),
        ipywidgets.FloatSlider(min=-1, max=1, step=0.25),
        ipywidgets.Dropdown(options=[("one", 1), ("two", 2)]),
        ipywidgets.ToggleButtons(options=["a", "b"]),
        ipywidgets.Checkbox(value=False),
        ipywidgets.IntRangeSlider(min=0, max=10),
    ]
    for _ in range(50):
        for control in controls:
            control.value = random_control_value(control, rng)  # traitlets reject invalid values
    assert controls[0].value in range(2, 21, 3)
    with pytest.raises(TypeError, match="cannot choose a value for a Text"):
        random_control_value(ipywidgets.Text(), rng)


def test_time_widget_reports_median_and_p95():
    widget = saturation_widget()
    before = widget.redraws
    result = time_widget(widget, changes=12)
    assert widget.redraws == before + 12
    assert result["changes"] == 12
    assert 0 < result["state_median_ms"] <= result["median_ms"] <= result["p95_ms"]


def test_every_registered_widget_builds():
    for entry in WIDGETS:
        assert isinstance(load_factory(entry.factory)(), Interactive)


def test_measurements_are_registered_functions():
    for entry in MEASUREMENTS:
        assert callable(load_factory(entry.function))


def test_shapes_throughput_measures_for_real():
    rows = measure_shapes_throughput(images=10)
    assert [r[0] for r in rows] == ["ShapesDataset at 64 px", "ShapesDataset at 128 px", "ShapesDataset at 256 px"]
    assert all(r[1] > 0 and r[2] == "images/s" for r in rows)


def test_every_notebook_is_registered(repository):
    registered = {entry.path for entry in NOTEBOOKS}
    present = {f"notebooks/{p.name}" for p in (repository / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert present == registered


def test_sections_are_replaced_by_key_and_others_kept():
    machine = {"device": "CPU", "key": "cpu", "cpu": "x", "cores": "2", "memory": "1 GiB", "torch": "t", "python": "p"}
    widget = {
        "w": {
            "changes": 50,
            "median_ms": 10,
            "p95_ms": 20,
            "state_median_ms": 1,
            "goal_median_ms": 50,
            "goal_p95_ms": 150,
        }
    }
    notebooks = {"n.ipynb": {"wall_s": 100.0, "peak_rss_mib": 300, "goal_s": 90}}
    quick = render_section("quick", machine, notebooks, widget)
    assert "| `n.ipynb` | 100.0 | 90 | 300 | - | **no** |" in quick
    assert "| w | 50 | 10.0 | 20.0 | 50 / 150 | 1.00 | yes |" in quick
    document = merge_section("", quick)
    document = merge_section(document, render_section("full", machine, notebooks, {}))
    with_measurements = render_section(
        "quick", machine, {}, {}, {"m": [("speed-up", 9.5, "x", ">= 5", True), ("rate", 480.2, "images/s", "", None)]}
    )
    assert "| m | speed-up | 9.5x | >= 5 | yes |" in with_measurements
    assert "| m | rate | 480 images/s |  |  |" in with_measurements
    updated = merge_section(document, quick.replace("100.0", "80.0"))
    assert updated.count("<!-- BEGIN quick-cpu -->") == 1 and "80.0" in updated and "100.0 | 90" in updated
    assert "<!-- BEGIN full-cpu -->" in updated and updated.startswith("# Benchmarks")
    assert "earlier runs" not in updated  # every row was measured again


def test_a_partial_run_replaces_its_rows_and_keeps_the_others():
    machine = {"device": "CPU", "key": "cpu", "cpu": "x", "cores": "2", "memory": "1 GiB", "torch": "t", "python": "p"}
    notebooks = {
        "a.ipynb": {"wall_s": 10.0, "peak_rss_mib": 300, "goal_s": 90},
        "b.ipynb": {"wall_s": 20.0, "peak_rss_mib": 300, "goal_s": 90},
    }
    measurements = {"m": [("first", 1.0, "s", "", None), ("second", 2.0, "s", "", None)]}
    document = merge_section("", render_section("full", machine, notebooks, {}, measurements))
    again = render_section(
        "full",
        {**machine, "cpu": "y"},
        {"a.ipynb": {**notebooks["a.ipynb"], "wall_s": 11.0}},
        {},
        {"m": [("only", 3.0, "s", "", None)]},
    )
    updated = merge_section(document, again)
    rows = [line for line in updated.splitlines() if line.startswith("| `") or line.startswith("| m ")]
    assert rows == [
        "| `a.ipynb` | 11.0 | 90 | 300 | - | yes |",
        "| `b.ipynb` | 20.0 | 90 | 300 | - | yes |",
        "| m | only | 3.00 s |  |  |",
    ]
    assert "Measured" in updated and "on y," in updated
    assert "come from earlier runs: " in updated and "on x," in updated.split("earlier runs")[1]
    assert merge_section(updated, again) == updated


def test_run_notebook_measures_time_and_memory(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "block = bytearray(64 * 2**20)\nRESULTS = {'mIoU': 0.5 + 0.25, 'epochs': 3, 'device': object()}"
        )
    ]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(notebook, path)
    result = run_notebook(path)
    assert result["wall_s"] > 0
    assert result["peak_rss_mib"] > 64
    assert result["results"]["mIoU"] == 0.75 and result["results"]["epochs"] == 3
    assert result["results"]["device"].startswith("<object object")


def test_reported_results_get_their_own_table():
    machine = {"device": "CPU", "key": "cpu", "cpu": "x", "cores": "2", "memory": "1 GiB", "torch": "t", "python": "p"}
    notebooks = {
        "n.ipynb": {
            "wall_s": 10.0,
            "peak_rss_mib": 300,
            "goal_s": 90,
            "results": {"mIoU": 0.7391, "training seconds": 12},
        },
        "m.ipynb": {"wall_s": 10.0, "peak_rss_mib": 300, "goal_s": 90},
    }
    section = render_section("full", machine, notebooks, {})
    assert "| `n.ipynb` | mIoU | 0.7391 |" in section
    assert "| `n.ipynb` | training seconds | 12 |" in section
    assert "`m.ipynb` |" not in section.split("### Results")[1]


def test_the_load_around_a_run_is_stated():
    machine = {"device": "CPU", "key": "cpu", "cpu": "x", "cores": "2", "memory": "1 GiB", "torch": "t", "python": "p"}
    quiet = render_section("full", {**machine, "load_start": 0.4, "load_end": 1.9}, {}, {})
    busy = render_section("full", {**machine, "load_start": 1.0, "load_end": 6.5}, {}, {})
    assert "load average 0.4 at the start, 1.9 at the end." in quiet and "shared" not in quiet
    assert "load average 1.0 at the start, 6.5 at the end (**shared machine: the times are inflated**)" in busy
    # Quiet at both ends but busy in between: the sampled peak says so.
    between = render_section("full", {**machine, "load_start": 0.4, "load_end": 1.9, "load_peak": 5.2}, {}, {})
    assert "load average 0.4 at the start, 1.9 at the end, 5.2 at its peak (**shared machine" in between


def test_only_selects_by_any_comma_separated_part():
    paths = [entry.path for entry in NOTEBOOKS]
    assert [p for p in paths if is_selected(p, "")] == paths
    picked = [p for p in paths if is_selected(p, "00_start, 07_yolo")]
    assert picked == ["notebooks/00_start_here.ipynb", "notebooks/07_yolo.ipynb"]
    assert not any(is_selected(p, "no such notebook") for p in paths)


def test_merged_rows_follow_the_registry_order_whichever_run_measured_them():
    machine = {"device": "CPU", "key": "cpu", "cpu": "x", "cores": "2", "memory": "1 GiB", "torch": "t", "python": "p"}
    first, second, third = (entry.path for entry in NOTEBOOKS[:3])
    run = {"wall_s": 10.0, "peak_rss_mib": 300, "goal_s": 90}
    document = merge_section("", render_section("full", machine, {third: run, first: run}, {}))
    updated = merge_section(document, render_section("full", machine, {second: run}, {}))
    rows = [line.split("|")[1].strip() for line in updated.splitlines() if line.startswith("| `")]
    assert rows == [f"`{first}`", f"`{second}`", f"`{third}`"]
