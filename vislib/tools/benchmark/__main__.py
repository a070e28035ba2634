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

New notebooks and widgets register in :mod:`vislib.tools.benchmark.registry` (``NOTEBOOKS``, ``WIDGETS``).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path

from vislib import runtime
from vislib.tools.benchmark.registry import MEASUREMENTS, NOTEBOOKS, REPOSITORY, WIDGETS, is_selected
from vislib.tools.benchmark.report import BENCHMARKS_FILE, machine_description, merge_section, render_section
from vislib.tools.benchmark.timing import load_factory, run_notebook, time_widget_in_fresh_process

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the notebooks and widgets; update BENCHMARKS.md.")
    parser.add_argument("--changes", type=int, default=60, help="control changes per widget (default 60)")
    parser.add_argument("--skip-notebooks", action="store_true")
    parser.add_argument("--skip-widgets", action="store_true")
    parser.add_argument("--skip-measurements", action="store_true")
    parser.add_argument(
        "--only",
        default="",
        help="run only the notebooks, widgets and measurements whose name contains this "
        "(several, comma-separated: any of them)",
    )
    parser.add_argument("--output", type=Path, default=BENCHMARKS_FILE)
    arguments = parser.parse_args(argv)

    os.environ.setdefault("MPLBACKEND", "Agg")
    profile = runtime.profile().name
    machine = machine_description()
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    peak_load = _PeakLoad() if load_start is not None else None
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
        peak = peak_load.stop()
        machine = {**machine, "load_start": load_start, "load_end": os.getloadavg()[0], "load_peak": peak}
    section = render_section(profile, machine, notebooks, widgets, measurements)
    arguments.output.write_text(merge_section(document, section), encoding="utf-8")
    print(f"wrote {arguments.output}")
    return 0


class _PeakLoad:
    """The highest 1-minute load average seen during the run (sampled every ``every`` seconds in a thread):
    the start and end values alone miss other work that ran in between."""

    def __init__(self, every: float = 10.0):
        self.peak = os.getloadavg()[0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every,), daemon=True)
        self._thread.start()

    def _sample(self, every: float) -> None:
        while not self._stop.wait(every):
            self.peak = max(self.peak, os.getloadavg()[0])

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, os.getloadavg()[0])


if __name__ == "__main__":
    sys.exit(main())
