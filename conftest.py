"""pytest configuration for the whole repository (loaded for ``tests/`` and for ``make check NB=...``).

Student notebooks tag their check cells ``raises-exception``, so that JupyterLab's *Run All* goes on past an
unfinished exercise. nbval honours that tag too, and would then pass a failing check; here nbval is told to
ignore it on check cells (nbgrader ``grade: true``), so ``make check`` still reports every failing check.
"""

from __future__ import annotations


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        cell = getattr(item, "cell", None)
        options = getattr(item, "options", None)
        if cell is None or options is None:
            continue
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            options["check_exception"] = False  # a check cell that raises is a failed check
