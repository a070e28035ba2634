"""ImageNet's top-5 error by year, for notebook 03's "What's NeXt?" (read from ``assets/ilsvrc_top5.csv``)."""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["ILSVRC_FILE", "load_ilsvrc_top5"]

ILSVRC_FILE = Path(__file__).resolve().parents[2] / "assets" / "ilsvrc_top5.csv"


def load_ilsvrc_top5(path: str | Path = ILSVRC_FILE) -> list[dict]:
    """The rows of the file: ``year`` (int), ``model``, ``kind`` (entry / baseline / human),
    ``top5_error_percent`` (float), ``source``, ``checked``; comment lines (``#``) skipped."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path must be the ILSVRC table (assets/ilsvrc_top5.csv), got {path}")
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    for number, row in enumerate(rows, 1):
        try:
            row["year"] = int(row["year"])
            row["top5_error_percent"] = float(row["top5_error_percent"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"path {path}: data row {number} must have an integer year and a number top5_error_percent, "
                f"got {dict(row)}"
            ) from error
    return rows
