"""Checkers for the detection-metric exercises (notebook 06): average precision."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from vislib._validation import check_callable

__all__ = ["check_average_precision"]


def check_average_precision(average_precision: Callable) -> int:
    """Check ``average_precision(tp_flags, num_ground_truth) -> float``: PASCAL VOC 2010+ all-point AP.

    ``tp_flags`` are 1 (true positive) / 0 (false positive) for detections
    already ranked by decreasing score. The oracle is ``vislib.metrics.voc_ap``
    on ``vislib.metrics.precision_recall_curve`` (both tested against the
    devkit's formula and pycocotools).
    """
    from vislib.metrics.detection import precision_recall_curve, voc_ap

    check_callable("average_precision", average_precision)
    generator = torch.Generator().manual_seed(0)
    cases = [([1, 1, 0, 1, 0, 0, 1], 5), ([1, 0, 0, 0], 1), ([0, 0, 1, 1], 2), ([1, 1, 1], 3), ([0, 1, 0, 1, 1, 0], 4)]
    cases += [((torch.rand(n, generator=generator) < 0.3).int().tolist(), g) for n, g in ((30, 20), (100, 45))]
    for flags, total in cases:
        tp = torch.tensor(flags, dtype=torch.bool)
        precision, recall = precision_recall_curve(tp, total)
        expected = voc_ap(recall, precision)
        got = average_precision(list(flags), total)
        call = f"average_precision({flags if len(flags) <= 10 else f'<{len(flags)} flags>'}, {total})"
        if not isinstance(got, (int, float)) and not (isinstance(got, torch.Tensor) and got.numel() == 1):
            raise AssertionError(f"{call} must return a number, got {type(got).__name__}")
        got = float(got)
        if abs(got - expected) > 1e-6:
            p, r = precision.numpy(), recall.numpy()
            raw_area = float(np.sum(np.diff(np.concatenate([[0.0], r])) * p))
            tp_mean = float(p[tp.numpy()].sum() / total)
            hint = ""
            if abs(got - raw_area) < 1e-6 and abs(raw_area - expected) > 1e-9:
                hint = (
                    "You summed the raw precision: use the monotone envelope (precision at recall r is the best "
                    "precision at any recall >= r) before taking the area."
                )
            elif abs(got - tp_mean) < 1e-6:
                hint = "Close: that is precision averaged at each TP. VOC 2010+ takes the area under the envelope."
            elif abs(got - float(np.trapezoid(p, r) if hasattr(np, "trapezoid") else 0)) < 1e-6:
                hint = "Trapezoids interpolate between points; AP uses the step function of the envelope."
            raise AssertionError(f"{call} returned {got:.6f}, expected {expected:.6f}. {hint}".strip())
    return len(cases)
