"""Writing ``BENCHMARKS.md``: one section per profile and device (:func:`render_section`); a run replaces only
the rows it measured (:func:`merge_section`).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path

from vislib import runtime
from vislib.tools.benchmark.registry import MEASUREMENTS, NOTEBOOKS, REPOSITORY, WIDGETS

__all__ = [
    "BENCHMARKS_FILE",
    "EARLIER_RUNS",
    "HEADER",
    "machine_description",
    "merge_rows",
    "merge_section",
    "render_section",
]

BENCHMARKS_FILE = REPOSITORY / "BENCHMARKS.md"


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
    """The load average around the run (and its peak during the run, when sampled): above the number of cores,
    other work shared the machine."""
    if "load_start" not in machine:
        return ""
    loads = [float(machine[key]) for key in ("load_start", "load_end", "load_peak") if key in machine]
    busy = max(loads) > 1.25 * int(machine["cores"])
    peak = f", {float(machine['load_peak']):.1f} at its peak" if "load_peak" in machine else ""
    return (
        f"; load average {float(machine['load_start']):.1f} at the start, {float(machine['load_end']):.1f} at "
        f"the end{peak}" + (" (**shared machine: the times are inflated**)" if busy else "")
    )


def render_section(
    profile: str, machine: dict, notebooks: dict, widgets: dict, measurements: dict | None = None
) -> str:
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
            lines.append(
                f"| `{name}` | {result['wall_s']:.1f} | {goal:.0f} | {result['peak_rss_mib']:.0f} | {gpu} | {ok} |"
            )
        lines.append("")
    reported = {name: result["results"] for name, result in notebooks.items() if result.get("results")}
    if reported:
        lines += [
            "### Results the notebooks reported (their `RESULTS` cell)",
            "",
            "| notebook | result | value |",
            "|---|---|---:|",
        ]
        for name, results in reported.items():
            for what, value in results.items():
                if isinstance(value, dict):
                    continue  # a claim: the claims table below
                shown = f"{value:.4g}" if isinstance(value, float) else str(value)
                lines.append(f"| `{name}` | {what} | {shown} |")
        lines.append("")
    claims = [
        (name, value)
        for name, results in reported.items()
        for value in results.values()
        if isinstance(value, dict) and "holds" in value
    ]
    if claims:
        lines += [
            "### The slides' claims, measured (a claim holds when every seed shows the effect)",
            "",
            "| notebook | claim | measured (mean ± sd over seeds) | seeds | holds |",
            "|---|---|---|---:|:---:|",
        ]
        for name, claim in claims:
            verdict = "yes" if claim["holds"] == "yes" else "**no**"
            lines.append(f"| `{name}` | {claim['claim']} | {claim['measured']} | {claim['seeds']} | {verdict} |")
        lines.append("")
    if widgets:
        lines += [
            "### Widget updates (state + draw + image encoding, random control changes)",
            "",
            "| widget | changes | median (ms) | p95 (ms) | goal median / p95 (ms) | state only, median (ms) "
            "| meets goal |",
            "|---|---:|---:|---:|---:|---:|:---:|",
        ]
        for name, result in widgets.items():
            ok = (
                "yes"
                if result["median_ms"] <= result["goal_median_ms"] and result["p95_ms"] <= result["goal_p95_ms"]
                else "**no**"
            )
            lines.append(
                f"| {name} | {result['changes']} | {result['median_ms']:.1f} | {result['p95_ms']:.1f} | "
                f"{result['goal_median_ms']:.0f} / {result['goal_p95_ms']:.0f} | "
                f"{result['state_median_ms']:.2f} | {ok} |"
            )
        lines.append("")
    if measurements:
        lines += [
            "### Other measurements",
            "",
            "| measurement | what | value | goal | meets goal |",
            "|---|---|---:|---|:---:|",
        ]
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
    names = (
        [f"`{entry.path}`" for entry in NOTEBOOKS]
        + [entry.name for entry in WIDGETS]
        + [entry.name for entry in MEASUREMENTS]
    )
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
        return document[: found.start()] + merged + document[found.end() :]
    return document.rstrip("\n") + "\n\n" + section + "\n"
