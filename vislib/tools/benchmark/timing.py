"""Timing: a widget's update path over many random control changes (:func:`time_widget`, optionally in a
fresh process), and a notebook executed in a fresh kernel with its wall time, peak memory and ``RESULTS``
(:func:`run_notebook`).
"""

from __future__ import annotations

import importlib
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import ipywidgets

from vislib._validation import check_int, check_type
from vislib.widgets.core import Interactive

__all__ = [
    "load_factory",
    "MEASURE_MARK",
    "random_control_value",
    "run_notebook",
    "time_widget",
    "time_widget_in_fresh_process",
]

MEASURE_MARK = "VISLIB_BENCHMARK_MEASUREMENT"


# -- widgets ------------------------------------------------------------------
def random_control_value(control: ipywidgets.ValueWidget, rng: random.Random):
    """A random valid value for one control (sliders, dropdowns, toggles, checkboxes)."""
    if isinstance(control, (ipywidgets.IntSlider, ipywidgets.BoundedIntText)):
        step = control.step or 1
        return control.min + step * rng.randrange((control.max - control.min) // step + 1)
    if isinstance(control, (ipywidgets.FloatSlider, ipywidgets.BoundedFloatText)):
        step = control.step or (control.max - control.min) / 100
        count = int(round((control.max - control.min) / step))
        return min(control.max, control.min + step * rng.randrange(count + 1))
    if isinstance(control, (ipywidgets.IntRangeSlider, ipywidgets.FloatRangeSlider)):
        a, b = sorted(rng.uniform(control.min, control.max) for _ in range(2))
        if isinstance(control, ipywidgets.IntRangeSlider):
            a, b = int(a), int(b)
        return (a, b)
    if isinstance(control, (ipywidgets.Checkbox, ipywidgets.ToggleButton)):
        return not control.value
    if isinstance(
        control, (ipywidgets.Dropdown, ipywidgets.ToggleButtons, ipywidgets.RadioButtons, ipywidgets.SelectionSlider)
    ):
        option = rng.choice(list(control.options))
        return option[1] if isinstance(option, tuple) and len(option) == 2 else option
    raise TypeError(f"the benchmark cannot choose a value for a {type(control).__name__}")


def time_widget(widget: Interactive, changes: int = 50, seed: int = 0) -> dict[str, float]:
    """Move one random control at a time ``changes`` times; return update-time statistics in ms."""
    check_type("widget", widget, Interactive, "a vislib Interactive")
    changes = check_int("changes", changes, min_value=1)
    rng = random.Random(seed)
    totals, states = [], []
    names = list(widget.controls)
    for _ in range(changes):
        name = rng.choice(names)
        timing = widget.set(**{name: random_control_value(widget.controls[name], rng)})
        if not timing:  # the state function refused this combination; not an update
            continue
        totals.append(timing["total_s"] * 1000)
        states.append(timing["state_s"] * 1000)
    if not totals:
        raise RuntimeError("no control change produced a redraw")
    totals.sort()
    return {
        "changes": len(totals),
        "median_ms": statistics.median(totals),
        "p95_ms": totals[min(len(totals) - 1, int(round(0.95 * (len(totals) - 1))))],
        "state_median_ms": statistics.median(states),
    }


def time_widget_in_fresh_process(factory: str, changes: int) -> dict[str, float]:
    """:func:`time_widget` on ``factory()`` in a new Python process, as a fresh notebook kernel would run it.

    Isolating each widget keeps one widget's set-up (say, training a model, after which torch's worker
    threads linger) from slowing the next one's measurement.
    """
    import subprocess

    code = (
        f"import json; from vislib.tools.benchmark.timing import load_factory, time_widget; "
        f"print(json.dumps(time_widget(load_factory({factory!r})(), changes={int(changes)})))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def load_factory(spec: str) -> Callable[[], Interactive]:
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)


# -- notebooks ----------------------------------------------------------------
_MEASURE_CELL = f"""
import json as _json, resource as _resource, sys as _sys
_measurement = {{"peak_rss_mib": _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024}}
if "torch" in _sys.modules and _sys.modules["torch"].cuda.is_available():
    _measurement["peak_gpu_mib"] = _sys.modules["torch"].cuda.max_memory_allocated() / 2**20
if isinstance(globals().get("RESULTS"), dict):   # the headline numbers the notebook reports, if it names them
    _measurement["results"] = {{
        str(k): (v if isinstance(v, (int, float, str)) or (isinstance(v, dict) and "holds" in v) else str(v))
        for k, v in RESULTS.items()
    }}
print("{MEASURE_MARK}", _json.dumps(_measurement))
"""


def run_notebook(path: Path, timeout: int = 1200) -> dict[str, float]:
    """Execute a notebook in a fresh kernel; return wall time, peak memory and the notebook's ``RESULTS``."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(_MEASURE_CELL))
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    text = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    measured = json.loads(text.split(MEASURE_MARK, 1)[1])
    return {"wall_s": wall, **measured}
