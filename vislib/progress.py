"""Progress bars for anything that takes more than a couple of seconds.

``progress`` is ``tqdm.auto.tqdm`` with the course's defaults: a widget bar
in Jupyter, a text bar in a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable

from tqdm.auto import tqdm

from vislib._validation import check_bool, check_number

__all__ = ["progress"]


def progress(iterable=None, *, desc: str | None = None, total: int | None = None, leave: bool = True, **options):
    """Wrap ``iterable`` (or count to ``total``) with a progress bar."""
    if desc is not None and not isinstance(desc, str):
        raise TypeError(f"desc must be a string, got {desc!r}")
    if iterable is not None and not isinstance(iterable, Iterable):
        raise TypeError(f"iterable must be iterable (or None with total), got {type(iterable).__name__}")
    if total is not None:
        total = check_number("total", total, min_value=0)
    leave = leave if leave is None else check_bool("leave", leave)
    return tqdm(iterable, desc=desc, total=total, leave=leave, dynamic_ncols=True, **options)
