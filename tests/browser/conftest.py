"""After a real-browser run, write what it measured (``build/browser/*.json``) into ``BENCHMARKS.md``."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
RESULTS = REPOSITORY / "build" / "browser"
BEGIN, END = "<!-- browser:begin -->", "<!-- browser:end -->"


def render_browser_section(reports: list[dict], machine: str) -> str:
    """A markdown section: per notebook, style and widget, the end-to-end latency and the pictures' scales."""
    lines = [
        BEGIN,
        "## In a real browser (JupyterLab in headless Chromium, quick profile)",
        "",
        f"`make test-browser` on {machine}. Latency: a key press on the widget's first slider (else a click on",
        "its toggle buttons, drop-down or checkbox) until the new picture has loaded in the page (median and p95",
        "over the moves). Scale: displayed width / natural CSS",
        "width of each picture (1 = natural size; below 1 only where the output area is narrower).",
        "",
        "Wall and CPU time: the whole notebook in the browser (run, checks, moves), CPU of all its processes;",
        "load: the machine's 1-minute load average at its start and end.",
        "",
        "| notebook | style | wall (s) | CPU (s) | load | widget | moves | median (ms) | p95 (ms) "
        "| scales at 1440 px | scales at 1920 px |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for report in sorted(reports, key=lambda r: (r["notebook"], r["style"])):
        scales = {str(width): values for width, values in report["scales"].items()}
        small = ", ".join(f"{s:.2f}" for s in scales.get("1440", [])) or "-"
        large = ", ".join(f"{s:.2f}" for s in scales.get("1920", [])) or "-"
        widgets = report["widgets"] or [{"index": "-", "moves": 0, "median_ms": "-", "p95_ms": "-"}]
        for widget in widgets:
            load = "–".join(str(value) for value in report.get("load", [])) or "-"
            lines.append(
                f"| `{report['notebook']}` | {report['style']} | {report.get('wall_s', '-')} "
                f"| {report.get('cpu_s', '-')} | {load} | {widget['index']} | {widget['moves']} "
                f"| {widget['median_ms']} | {widget['p95_ms']} | {small} | {large} |"
            )
    lines.append(END)
    return "\n".join(lines)


def merge_browser_section(text: str, section: str) -> str:
    if BEGIN in text and END in text:
        return re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: section, text, flags=re.S)
    return text.rstrip("\n") + "\n\n" + section + "\n"


_STARTED = time.time()


def pytest_sessionfinish(session, exitstatus) -> None:
    """Write every notebook's latest results, when this session measured at least one (a skipped run writes
    nothing)."""
    if os.environ.get("VISLIB_BROWSER_TEST") != "1" or not RESULTS.is_dir():
        return
    paths = sorted(RESULTS.glob("*.json"))
    if not any(path.stat().st_mtime >= _STARTED for path in paths):
        return
    reports = [json.loads(path.read_text()) for path in paths]
    machine = f"{os.cpu_count()} CPU cores (load average at the end of the run: {os.getloadavg()[0]:.1f})"
    benchmarks = REPOSITORY / "BENCHMARKS.md"
    benchmarks.write_text(merge_browser_section(benchmarks.read_text(), render_browser_section(reports, machine)))
