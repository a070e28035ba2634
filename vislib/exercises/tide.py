"""Checker for the error-analysis exercise (notebook 06): classify a detection into TIDE's error types."""

from __future__ import annotations

from collections.abc import Callable

import torch

from vislib._validation import check_callable

__all__ = ["BOX", "CASES", "check_tide_error_type", "RULES"]

BOX = (20.0, 20.0, 40.0, 40.0)  # x, y, w, h
# Each case: objects [(class, box)], higher-scoring detections that already found objects, the detection.
CASES = [
    ("a perfect box of the right class", [(1, BOX)], [], (1, BOX)),
    ("the right class, shifted by half its width", [(1, BOX)], [], (1, (40.0, 20.0, 40.0, 40.0))),
    ("a perfect box, the wrong class", [(1, BOX)], [], (2, BOX)),
    ("a second box on an object already found", [(1, BOX)], [(1, BOX)], (1, (22.0, 20.0, 40.0, 40.0))),
    ("a box far from every object", [(1, BOX)], [], (2, (0.0, 85.0, 10.0, 10.0))),
    ("the wrong class, shifted by half its width", [(1, BOX)], [], (2, (40.0, 20.0, 40.0, 40.0))),
    (
        "a poor box of its class that fits an object of another class well",
        [(1, BOX), (2, (36.0, 20.0, 40.0, 40.0))],
        [],
        (1, (36.0, 20.0, 40.0, 40.0)),
    ),
    ("a loose second box on an object already found", [(1, BOX)], [(1, BOX)], (1, (40.0, 20.0, 40.0, 40.0))),
    ("a detection in an image without objects", [], [], (1, BOX)),
]
RULES = {
    "TP": "it overlaps a free object of its class with IoU >= t_f = 0.5: a true positive",
    "Loc": "its best IoU with an object of its class is between t_b = 0.1 and t_f = 0.5 (TIDE tests this first)",
    "Cls": "its IoU with an object of another class is >= t_f = 0.5 (and no object of its class is within [t_b, t_f])",
    "Dupe": "its IoU with an object of its class is >= t_f = 0.5, but a higher-scoring detection already found it",
    "Bkg": "its IoU with every object is <= t_b = 0.1 (or the image has no objects)",
    "Both": "none of the others: the wrong class and t_b < IoU < t_f with an object of another class",
}


def check_tide_error_type(tide_error_type: Callable) -> int:
    """Check ``tide_error_type(same_ious, taken, other_ious) -> str``.

    ``same_ious``: the detection's IoU with each object of its class; ``taken``: whether a
    higher-scoring detection already found that object; ``other_ious``: its IoU with each
    object of other classes. The answer is one of ``"TP", "Loc", "Cls", "Dupe", "Bkg", "Both"``.
    The oracle is :func:`vislib.metrics.tide.tide_errors` on a one-image data set built from
    each case.
    """
    from vislib.metrics.tide import tide_errors
    from vislib.ops.boxes import box_convert, box_iou

    check_callable("tide_error_type", tide_error_type)
    for description, objects, found, (label, box) in CASES:
        gt = {
            "images": [{"id": 1, "width": 100, "height": 100}],
            "annotations": [
                {"id": i + 1, "image_id": 1, "category_id": c, "bbox": list(b), "area": b[2] * b[3], "iscrowd": 0}
                for i, (c, b) in enumerate(objects)
            ],
            "categories": [{"id": 1, "name": "circle"}, {"id": 2, "name": "square"}],
        }
        results = [{"image_id": 1, "category_id": c, "bbox": list(b), "score": 0.9} for c, b in found]
        results.append({"image_id": 1, "category_id": label, "bbox": list(box), "score": 0.5})
        expected = tide_errors(gt, results).detection_types[-1]
        xyxy = box_convert(torch.tensor([box]), "xywh", "xyxy")
        ious = (
            box_iou(xyxy, box_convert(torch.tensor([b for _, b in objects]), "xywh", "xyxy"))[0].tolist()
            if objects
            else []
        )
        same = [round(iou, 4) for (c, _), iou in zip(objects, ious) if c == label]
        other = [round(iou, 4) for (c, _), iou in zip(objects, ious) if c != label]
        taken = [any(c == label and b == o for c, b in found) for c, o in objects if c == label]
        call = f"tide_error_type(same_ious={same}, taken={taken}, other_ious={other})"
        got = tide_error_type(list(same), list(taken), list(other))
        if got != expected:
            raise AssertionError(
                f"{description}: {call} returned {got!r}, expected {expected!r}: {RULES[expected]}."
                + (f" ({got!r} would need: {RULES[got]}.)" if got in RULES else "")
            )
    return len(CASES)
