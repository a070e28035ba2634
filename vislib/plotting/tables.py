"""Small tables for notebooks, rendered as Markdown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from IPython.display import Markdown

__all__ = ["evaluation_table", "markdown_table", "results_table"]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> Markdown:
    """A Markdown table; display it as the last expression of a cell."""
    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"every row must have {len(header)} cells, like the header")
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return Markdown("\n".join(lines))


def results_table(results: Mapping[str, object]) -> Markdown:
    """A notebook's ``RESULTS`` as a two-column Markdown table (result, value); a claim reads
    "holds: yes / no, <what was measured>"."""

    def shown(value):
        if isinstance(value, dict) and "holds" in value:
            return f"holds: **{value['holds']}**; {value['measured']}"
        return value

    return markdown_table(["result", "value"], [[name, shown(value)] for name, value in results.items()])


def evaluation_table(evaluation, class_names: Sequence[str], iou_threshold: float = 0.5) -> Markdown:
    """A :class:`~vislib.metrics.coco.CocoEvaluation` as a table: COCO's summary numbers (AP, AP50, ..., "n/a"
    where the data set has no objects of that size), then each class's AP at ``iou_threshold``
    (``class_names`` in label order, label 1 first)."""
    per_class = evaluation.per_class_ap(iou_threshold=iou_threshold)
    rows = [
        [name, f"{value:.3f}" if value >= 0 else "n/a (no objects of that size)"]
        for name, value in evaluation.summary.items()
    ]
    rows += [
        [f"AP@{iou_threshold:g}, {name}", f"{per_class[label]:.3f}"] for label, name in enumerate(class_names, start=1)
    ]
    return markdown_table(["metric", "value"], rows)
