"""The benchmark: notebook wall time and peak memory, and widget update times.

Speed and memory goals are checked here, not in timed unit tests. One run
executes each registered notebook in a fresh kernel (recording wall time and
the kernel's peak resident memory, plus peak GPU memory on a GPU), times each
registered widget's update path over many random control changes (median
and 95th percentile), and writes the figures into ``BENCHMARKS.md`` under a
section for this profile and device: the rows it measured replace their old
rows, the others stay (so ``--only`` updates a few rows).

Usage (from the repository root)::

    make benchmark                      # quick profile
    VISLIB_PROFILE=full make benchmark  # the lecture profile

New notebooks and widgets register below, in ``NOTEBOOKS`` and ``WIDGETS``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ipywidgets

from vislib import runtime
from vislib._checks import check_int, check_type
from vislib.widgets.core import Interactive

REPOSITORY = Path(__file__).resolve().parents[2]
BENCHMARKS_FILE = REPOSITORY / "BENCHMARKS.md"
MEASURE_MARK = "VISLIB_BENCHMARK_MEASUREMENT"


@dataclass(frozen=True)
class NotebookGoal:
    path: str  # relative to the repository root
    quick_seconds: float
    full_seconds: float


@dataclass(frozen=True)
class WidgetBenchmark:
    name: str
    factory: str  # "module:function" returning an Interactive
    median_ms: float = 50.0
    p95_ms: float = 150.0


NOTEBOOKS = [
    NotebookGoal("notebooks/00_start_here.ipynb", quick_seconds=60, full_seconds=60),
    NotebookGoal("notebooks/01_batch_normalization.ipynb", quick_seconds=90, full_seconds=180),
    NotebookGoal("notebooks/04_semantic_segmentation.ipynb", quick_seconds=120, full_seconds=1500),
    NotebookGoal("notebooks/05_atrous_deeplab.ipynb", quick_seconds=120, full_seconds=300),
    NotebookGoal("notebooks/06_detection_scoring.ipynb", quick_seconds=90, full_seconds=300),
    NotebookGoal("notebooks/07_yolo.ipynb", quick_seconds=120, full_seconds=600),
    NotebookGoal("notebooks/08_rcnn_family.ipynb", quick_seconds=120, full_seconds=600),
    NotebookGoal("notebooks/09_instance_segmentation.ipynb", quick_seconds=120, full_seconds=900),
]

WIDGETS = [
    WidgetBenchmark("00 start here: saturation", "vislib.widgets.nonlinearities:saturation_widget"),
    WidgetBenchmark("01 batch norm: activation distributions",
                    "vislib.tools.benchmark:batchnorm_activation_widget"),
    WidgetBenchmark("05 atrous: receptive-field explorer", "vislib.widgets.receptive_field:receptive_field_widget"),
    WidgetBenchmark("06 scoring: IoU of two boxes", "vislib.widgets.scoring:iou_widget"),
    WidgetBenchmark("06 scoring: precision and recall at a threshold",
                    "vislib.tools.benchmark:detection_precision_recall_widget"),
    WidgetBenchmark("07 YOLO: grid predictions", "vislib.tools.benchmark:yolo_grid_widget"),
    WidgetBenchmark("08 R-CNN: RoIAlign sampling", "vislib.widgets.roi:roi_align_widget"),
    WidgetBenchmark("09 Mask R-CNN: instance explorer", "vislib.tools.benchmark:instance_explorer_widget"),
]


def yolo_grid_widget() -> Interactive:
    """The 07 notebook's grid widget on its quick-profile model (300 images, 3 epochs) and 12 held-out images."""
    import torch

    from vislib.data.shapes import ShapesDataset
    from vislib.models.yolo import TinyYolo
    from vislib.training.detection import train_detector
    from vislib.widgets.yolo import grid_prediction_widget
    from vislib.yolo_grid import GridPredictions

    train_set = ShapesDataset(300, image_size=64, seed=1)
    held_out = ShapesDataset(12, image_size=64, seed=2)
    torch.manual_seed(0)
    model = TinyYolo(image_size=64, grid_size=4, num_boxes=2, num_classes=len(train_set.classes))
    train_detector(model, train_set, epochs=3, lr=2e-3, device=runtime.device())
    shown = [held_out[i] for i in range(len(held_out))]
    grid = GridPredictions(model.cpu(), torch.stack([image for image, _ in shown]), [t for _, t in shown], num_boxes=2)
    return grid_prediction_widget(grid, train_set.classes)


def instance_explorer_widget() -> Interactive:
    """The 09 notebook's instance explorer on a small Mask R-CNN (160 images, 2 epochs) and 8 held-out images."""
    import torch

    from vislib.data.shapes import ShapesDataset
    from vislib.models.mask_rcnn import small_mask_rcnn
    from vislib.states.mask_rcnn import InstanceExplorer
    from vislib.training.mask_rcnn import train_mask_rcnn
    from vislib.widgets.mask_rcnn import instance_explorer_widget as widget

    train_set = ShapesDataset(160, image_size=128, seed=1)
    held_out = ShapesDataset(8, image_size=128, seed=2)
    torch.manual_seed(0)
    model = small_mask_rcnn(len(train_set.classes) + 1, 128)
    train_mask_rcnn(model, train_set, epochs=2, device=runtime.device())
    explorer = InstanceExplorer(model.cpu(), [held_out[i] for i in range(len(held_out))], min_score=0.3)
    return widget(explorer, train_set.classes)


def detection_precision_recall_widget() -> Interactive:
    """The 06 notebook's precision-recall widget on its quick-profile data (60 shapes images)."""
    from vislib.data.shapes import ShapesDataset
    from vislib.scoring import SimulatedDetector
    from vislib.widgets.scoring import precision_recall_widget

    dataset = ShapesDataset(60, image_size=128, seed=0)
    samples = [dataset[i] for i in range(len(dataset))]
    detector = SimulatedDetector([t for _, t in samples], num_classes=len(dataset.classes), image_size=128)
    return precision_recall_widget(detector, [samples[i][0].permute(1, 2, 0).numpy() for i in (0, 1)])


@dataclass(frozen=True)
class Measurement:
    """A named speed or quality figure: ``function()`` returns ``[(what, value, unit, goal text, met?)]``."""

    name: str
    function: str  # "module:function"


def measure_coco_speed() -> list[tuple]:
    """coco_evaluate against pycocotools on 1,000 images with 100 detections each (issue: >= 5x, equal to 1e-9)."""
    from vislib.tools.bench_coco import compare_with_pycocotools

    result = compare_with_pycocotools(n_images=1000, dets_per_image=100, seed=0)
    return [
        ("pycocotools COCOeval (index, loadRes, evaluate, accumulate, summarize)", result["pycocotools_s"], "s", "", None),
        ("vislib coco_evaluate", result["vislib_s"], "s", "", None),
        ("speed-up", result["speedup"], "x", ">= 5", result["speedup"] >= 5),
        ("largest difference (summary, precision, recall)", result["max_abs_difference"], "", "<= 1e-9",
         result["equal"]),
    ]


def measure_shapes_throughput(images: int = 400) -> list[tuple]:
    """Images per second the shapes generator renders (it must not starve a GPU's training)."""
    from vislib.data.shapes import ShapesDataset

    rows = []
    for size in (64, 128, 256):
        dataset = ShapesDataset(images, image_size=size, seed=0)
        start = time.perf_counter()
        for i in range(len(dataset)):
            dataset[i]
        rows.append((f"ShapesDataset at {size} px", len(dataset) / (time.perf_counter() - start), "images/s", "", None))
    return rows


def measure_monitor_cost() -> list[tuple]:
    """The live training monitor's cost per epoch next to the epoch (notebook 06's quick-profile run)."""
    import torch

    from vislib.data.shapes import ShapesDataset, to_coco
    from vislib.models.yolo import TinyYolo
    from vislib.plotting.monitor import TrainingMonitor
    from vislib.training.detection import predict, train_detector

    train_set = ShapesDataset(300, image_size=64, seed=1)
    held_out = ShapesDataset(60, image_size=64, seed=2)
    torch.manual_seed(0)
    model = TinyYolo(image_size=64, grid_size=4, num_classes=4)
    monitor = TrainingMonitor(lambda m: predict(m, held_out), to_coco(held_out), train_set.classes, live=False)
    run = train_detector(model, train_set, epochs=3, device=runtime.device(), on_epoch=monitor)
    epoch = statistics.mean(run.epoch_seconds)
    cost = statistics.mean(run.on_epoch_seconds)
    return [
        ("training epoch (300 images, 64 px, TinyYolo)", epoch, "s", "", None),
        ("monitor per epoch (predict 60 images + COCO evaluation)", cost, "s", "", None),
        ("monitor / epoch", cost / epoch, "", "small", cost < 0.5 * epoch),
    ]


# Notebook 07's training run, profile by profile (keep in step with the notebook's "training-run" cell).
YOLO_RECIPE = {"quick": {"train_images": 300, "held_out_images": 60, "epochs": 3},
               "full": {"train_images": 4000, "held_out_images": 300, "epochs": 20}}
YOLO_MAP50_GOAL = 0.8


def measure_yolo_training() -> list[tuple]:
    """Notebook 07's TinyYolo run in this profile: mAP@.5 on held-out shapes per epoch, and the time to reach 0.8."""
    import torch

    from vislib.data.shapes import ShapesDataset, to_coco
    from vislib.models.yolo import TinyYolo
    from vislib.plotting.monitor import TrainingMonitor
    from vislib.training.detection import predict, train_detector

    recipe = YOLO_RECIPE[runtime.profile().name]
    train_set = ShapesDataset(recipe["train_images"], image_size=64, seed=1)
    held_out = ShapesDataset(recipe["held_out_images"], image_size=64, seed=2)
    torch.manual_seed(0)
    model = TinyYolo(image_size=64, grid_size=4, num_boxes=2, num_classes=len(train_set.classes))
    monitor = TrainingMonitor(lambda m: predict(m, held_out), to_coco(held_out), train_set.classes, live=False)
    run = train_detector(model, train_set, epochs=recipe["epochs"], lr=2e-3, lr_schedule="cosine",
                         device=runtime.device(), on_epoch=monitor)
    ap50 = monitor.history.ap50
    elapsed = [run.prepare_seconds + sum(run.epoch_seconds[: e + 1]) + sum(run.on_epoch_seconds[: e + 1])
               for e in range(run.epochs)]
    reached = next((e for e, value in enumerate(ap50) if value >= YOLO_MAP50_GOAL), None)
    rows = [
        (f"{recipe['train_images']} training images, {recipe['epochs']} epochs: training steps",
         sum(run.epoch_seconds), "s", "", None),
        ("whole run (rendering, training, monitoring every epoch)", elapsed[-1], "s", "", None),
        ("mAP@.5 per epoch", " ".join(f"{value:.2f}" for value in ap50), "", "", None),
        (f"final mAP@.5 on {len(held_out)} held-out images", ap50[-1], "",
         f">= {YOLO_MAP50_GOAL} (full profile)", ap50[-1] >= YOLO_MAP50_GOAL if runtime.profile().name == "full" else None),
        ("final mAP@[.5:.95]", monitor.history.epochs[-1].summary["AP"], "", "", None),
    ]
    if reached is not None:
        rows.append((f"time to reach mAP@.5 >= {YOLO_MAP50_GOAL}", elapsed[reached], "s",
                     f"epoch {reached + 1}", None))
    return rows


MEASUREMENTS = [
    Measurement("COCO evaluation speed (06)", "vislib.tools.benchmark:measure_coco_speed"),
    Measurement("shapes data set throughput (06)", "vislib.tools.benchmark:measure_shapes_throughput"),
    Measurement("training monitor cost (06)", "vislib.tools.benchmark:measure_monitor_cost"),
    Measurement("YOLO training run (07)", "vislib.tools.benchmark:measure_yolo_training"),
]


def batchnorm_activation_widget() -> Interactive:
    """The 01 notebook's widget on the notebook's quick-profile recordings (150 steps, every 5th)."""
    import torch

    from vislib.data.digits import load_digits
    from vislib.models.small_cnn import SmallCNN
    from vislib.training.classification import train_classifier
    from vislib.training.recording import ActivationRecorder
    from vislib.widgets.activation_distributions import activation_distribution_widget

    data = load_digits(size=16, seed=0)
    histories = []
    for placement in ("none", "before"):
        torch.manual_seed(0)
        model = SmallCNN(batchnorm=placement)
        recorder = ActivationRecorder(model)
        train_classifier(model, data, steps=150, lr=0.05, recorder=recorder, record_every=5)
        histories.append(recorder.history())
    return activation_distribution_widget(*histories)


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
    if isinstance(control, (ipywidgets.Dropdown, ipywidgets.ToggleButtons, ipywidgets.RadioButtons,
                            ipywidgets.SelectionSlider)):
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

    code = (f"import json; from vislib.tools.benchmark import load_factory, time_widget; "
            f"print(json.dumps(time_widget(load_factory({factory!r})(), changes={int(changes)})))")
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
    _measurement["results"] = {{str(k): (v if isinstance(v, (int, float, str)) else str(v)) for k, v in RESULTS.items()}}
print("{MEASURE_MARK}", _json.dumps(_measurement))
"""


def run_notebook(path: Path, timeout: int = 1200) -> dict[str, float]:
    """Execute a notebook in a fresh kernel; return wall time, peak memory and the notebook's ``RESULTS``."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(_MEASURE_CELL))
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    text = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    measured = json.loads(text.split(MEASURE_MARK, 1)[1])
    return {"wall_s": wall, **measured}


# -- the report -----------------------------------------------------------------
def machine_description() -> dict[str, str]:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{kib / 2**20:.0f} GiB"
    except (OSError, AttributeError):
        pass
    chosen = runtime.device()
    gpu = torch.cuda.get_device_name(0) if chosen.type == "cuda" else ""
    return {
        "cpu": cpu,
        "cores": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "memory": memory,
        "device": gpu or "CPU",
        "key": "gpu" if gpu else "cpu",
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def _format(value: float | str, unit: str) -> str:
    if isinstance(value, str):
        return value
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "x":
        return f"{value:.1f}x"
    if unit == "images/s":
        return f"{value:.0f} images/s"
    return f"{value:.3g}"


def _load_note(machine: dict) -> str:
    """The load average around the run: above the number of cores, other work shared the machine."""
    if "load_start" not in machine:
        return ""
    busy = max(float(machine["load_start"]), float(machine["load_end"])) > 1.25 * int(machine["cores"])
    return (f"; load average {float(machine['load_start']):.1f} at the start, {float(machine['load_end']):.1f} at "
            f"the end" + (" (**shared machine: the times are inflated**)" if busy else ""))


def render_section(profile: str, machine: dict, notebooks: dict, widgets: dict, measurements: dict | None = None) -> str:
    key = f"{profile}-{machine['key']}"
    lines = [
        f"<!-- BEGIN {key} -->",
        f"## {profile} profile on {machine['device']}",
        "",
        f"Measured {dt.date.today().isoformat()} on {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory']} RAM, device {machine['device']}; Python {machine['python']}, "
        f"torch {machine['torch']}{_load_note(machine)}.",
        "",
    ]
    if notebooks:
        lines += [
            "### Notebooks (fresh kernel, top to bottom)",
            "",
            "| notebook | wall time (s) | goal (s) | peak RAM (MiB) | peak GPU (MiB) | meets goal |",
            "|---|---:|---:|---:|---:|:---:|",
        ]
        for name, result in notebooks.items():
            goal = result["goal_s"]
            gpu = f"{result['peak_gpu_mib']:.0f}" if "peak_gpu_mib" in result else "-"
            ok = "yes" if result["wall_s"] <= goal else "**no**"
            lines.append(f"| `{name}` | {result['wall_s']:.1f} | {goal:.0f} | {result['peak_rss_mib']:.0f} | {gpu} | {ok} |")
        lines.append("")
    reported = {name: result["results"] for name, result in notebooks.items() if result.get("results")}
    if reported:
        lines += ["### Results the notebooks reported (their `RESULTS` cell)", "", "| notebook | result | value |",
                  "|---|---|---:|"]
        for name, results in reported.items():
            for what, value in results.items():
                shown = f"{value:.4g}" if isinstance(value, float) else str(value)
                lines.append(f"| `{name}` | {what} | {shown} |")
        lines.append("")
    if widgets:
        lines += [
            "### Widget updates (state + draw + image encoding, random control changes)",
            "",
            "| widget | changes | median (ms) | p95 (ms) | goal median / p95 (ms) | state only, median (ms) | meets goal |",
            "|---|---:|---:|---:|---:|---:|:---:|",
        ]
        for name, result in widgets.items():
            ok = "yes" if result["median_ms"] <= result["goal_median_ms"] and result["p95_ms"] <= result["goal_p95_ms"] else "**no**"
            lines.append(
                f"| {name} | {result['changes']} | {result['median_ms']:.1f} | {result['p95_ms']:.1f} | "
                f"{result['goal_median_ms']:.0f} / {result['goal_p95_ms']:.0f} | {result['state_median_ms']:.2f} | {ok} |"
            )
        lines.append("")
    if measurements:
        lines += ["### Other measurements", "", "| measurement | what | value | goal | meets goal |", "|---|---|---:|---|:---:|"]
        for name, rows in measurements.items():
            for what, value, unit, goal, met in rows:
                verdict = "" if met is None else ("yes" if met else "**no**")
                lines.append(f"| {name} | {what} | {_format(value, unit)} | {goal} | {verdict} |")
        lines.append("")
    lines.append(f"<!-- END {key} -->")
    return "\n".join(lines)


HEADER = """# Benchmarks

Written by `make benchmark` (`python -m vislib.tools.benchmark`); one section per
profile and kind of device. A run replaces the rows it measured and keeps the others.
Goals come from the issues; a "no" is a regression to fix, not to hide.
"""


EARLIER_RUNS = "Rows not measured again by that run come from earlier runs: "


def _split_section(section: str) -> tuple[list[str], dict[str, tuple[list[str], list[str]]]]:
    """A section's opening lines, and per ``###`` table its heading lines and its rows (in order)."""
    opening, tables, current = [], {}, None
    for line in section.splitlines():
        if line.startswith("<!-- END"):
            break
        if line.startswith("### "):
            current = line
            tables[current] = ([line], [])
        elif current is None:
            opening.append(line)
        elif line.startswith("| ") and len(tables[current][0]) >= 4:  # after the heading, blank, header, rule
            tables[current][1].append(line)
        elif line.strip():
            tables[current][0].append(line)
        elif len(tables[current][0]) < 2:
            tables[current][0].append(line)
    return opening, tables


def _row_subject(row: str) -> str:
    return row.split("|")[1].strip()


def _registry_rank(subject: str) -> int:
    """Where a row's subject stands in the registries (notebooks, widgets, measurements); unregistered last."""
    names = ([f"`{entry.path}`" for entry in NOTEBOOKS] + [entry.name for entry in WIDGETS]
             + [entry.name for entry in MEASUREMENTS])
    return names.index(subject) if subject in names else len(names)


def merge_rows(old: str, new: str) -> str:
    """``new``, plus the rows of ``old`` whose subject (first cell: notebook, widget, measurement) ``new`` did not
    measure again. A partial run (``--only``) thus updates its own rows and keeps the others. Rows follow the
    order of the registries (``NOTEBOOKS``, ``WIDGETS``, ``MEASUREMENTS``), whichever run measured them."""
    old_opening, old_tables = _split_section(old)
    new_opening, new_tables = _split_section(new)
    kept_from_old = False
    merged = dict(new_tables)
    for title, (heading, rows) in old_tables.items():
        new_heading, new_rows = new_tables.get(title, (heading, []))
        fresh: dict[str, list[str]] = {}
        for row in new_rows:
            fresh.setdefault(_row_subject(row), []).append(row)
        combined = []
        for row in rows:  # the old order, each re-measured subject's rows in place of its old ones
            subject = _row_subject(row)
            if subject not in fresh:
                combined.append(row)
                kept_from_old = True
            elif fresh[subject]:
                combined += fresh[subject]
                fresh[subject] = []
        combined += [row for rows_ in fresh.values() for row in rows_]
        merged[title] = (new_heading, sorted(combined, key=lambda row: _registry_rank(_row_subject(row))))
    lines = list(new_opening)
    if kept_from_old:
        earlier = []
        for line in old_opening:
            if line.startswith("Measured "):
                earlier.append(line.removeprefix("Measured ").rstrip("."))
            elif line.startswith(EARLIER_RUNS):
                earlier.extend(line.removeprefix(EARLIER_RUNS).rstrip(".").split(" and "))
        this_run = [line.removeprefix("Measured ").rstrip(".") for line in new_opening if line.startswith("Measured ")]
        earlier = [run for run in earlier if run not in this_run]
        while lines and not lines[-1].strip():
            lines.pop()
        lines += [EARLIER_RUNS + " and ".join(dict.fromkeys(earlier)) + ".", ""]
    for heading, rows in merged.values():
        lines += heading[:4] + rows + [""]
    key = re.match(r"<!-- BEGIN (\S+) -->", new).group(1)
    return "\n".join(lines + [f"<!-- END {key} -->"])


def merge_section(document: str, section: str) -> str:
    """Put ``section`` into ``document`` in place of the section with the same key, keeping the rows of the old
    section that ``section`` did not measure again (see :func:`merge_rows`), or append it."""
    key = re.match(r"<!-- BEGIN (\S+) -->", section).group(1)
    pattern = re.compile(rf"<!-- BEGIN {re.escape(key)} -->.*?<!-- END {re.escape(key)} -->", re.S)
    if not document.strip():
        document = HEADER
    found = pattern.search(document)
    if found:
        merged = merge_rows(found.group(0), section)
        return document[: found.start()] + merged + document[found.end():]
    return document.rstrip("\n") + "\n\n" + section + "\n"


def is_selected(name: str, only: str) -> bool:
    """Whether ``--only`` picks ``name``: it contains one of the comma-separated parts (an empty ``only``: all)."""
    parts = [part.strip() for part in only.split(",") if part.strip()]
    return not parts or any(part in name for part in parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the notebooks and widgets; update BENCHMARKS.md.")
    parser.add_argument("--changes", type=int, default=60, help="control changes per widget (default 60)")
    parser.add_argument("--skip-notebooks", action="store_true")
    parser.add_argument("--skip-widgets", action="store_true")
    parser.add_argument("--skip-measurements", action="store_true")
    parser.add_argument("--only", default="",
                        help="run only the notebooks, widgets and measurements whose name contains this "
                             "(several, comma-separated: any of them)")
    parser.add_argument("--output", type=Path, default=BENCHMARKS_FILE)
    arguments = parser.parse_args(argv)

    os.environ.setdefault("MPLBACKEND", "Agg")
    profile = runtime.profile().name
    machine = machine_description()
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"profile {profile}, device {machine['device']}")

    widgets = {}
    if not arguments.skip_widgets:
        for entry in [w for w in WIDGETS if is_selected(w.name, arguments.only)]:
            result = time_widget_in_fresh_process(entry.factory, arguments.changes)
            widgets[entry.name] = {**result, "goal_median_ms": entry.median_ms, "goal_p95_ms": entry.p95_ms}
            print(f"widget {entry.name}: median {result['median_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms")

    notebooks = {}
    if not arguments.skip_notebooks:
        for entry in [n for n in NOTEBOOKS if is_selected(n.path, arguments.only)]:
            goal = entry.quick_seconds if profile == "quick" else entry.full_seconds
            # A cell may take up to twice the notebook's goal before the run gives up (a slow run is still measured).
            result = run_notebook(REPOSITORY / entry.path, timeout=int(max(1200, 2 * goal)))
            notebooks[entry.path] = {**result, "goal_s": goal}
            print(f"notebook {entry.path}: {result['wall_s']:.1f} s, peak {result['peak_rss_mib']:.0f} MiB")

    measurements = {}
    if not arguments.skip_measurements:
        for entry in [m for m in MEASUREMENTS if is_selected(m.name, arguments.only)]:
            measurements[entry.name] = load_factory(entry.function)()
            print(f"measured {entry.name}: {measurements[entry.name]}")

    document = arguments.output.read_text(encoding="utf-8") if arguments.output.exists() else ""
    if load_start is not None:
        machine = {**machine, "load_start": load_start, "load_end": os.getloadavg()[0]}
    section = render_section(profile, machine, notebooks, widgets, measurements)
    arguments.output.write_text(merge_section(document, section), encoding="utf-8")
    print(f"wrote {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
