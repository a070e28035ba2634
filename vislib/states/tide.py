"""The error-oracle widget's state: which of TIDE's error types are fixed, and the AP and PR curve that gives.

Every subset of the six error types is evaluated once (:func:`vislib.metrics.tide.oracle_combinations`,
64 COCO evaluations); a state is then one dictionary look-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vislib._validation import check_type
from vislib.metrics.tide import ERROR_TYPES, TideErrors, oracle_combinations

__all__ = ["CONTROL_NAMES", "OracleExplorer", "OracleState"]

# The widget's control names, one per error type (in ERROR_TYPES order).
CONTROL_NAMES = ("fix_cls", "fix_loc", "fix_both", "fix_dupe", "fix_bkg", "fix_miss")


@dataclass(frozen=True)
class OracleState:
    """AP and the class-averaged PR curve (101 recall points) with ``fixed`` error types fixed."""

    fixed: tuple
    ap: float
    curve: np.ndarray
    base_ap: float
    base_curve: np.ndarray
    recall: np.ndarray
    delta_ap: dict  # each type alone, for reference


class OracleExplorer:
    """Precomputes AP and PR curve for all 64 combinations of fixed error types of one detector.

    Args:
        errors (TideErrors): :func:`vislib.metrics.tide.tide_errors`'s result.
    """

    def __init__(self, errors: TideErrors):
        check_type("errors", errors, TideErrors, "a TideErrors from tide_errors")
        self.errors = errors
        self.combinations = oracle_combinations(errors)
        self.recall = np.linspace(0, 1, 101)
        self.base_ap, self.base_curve = self.combinations[frozenset()]

    def state(self, fix_cls=False, fix_loc=False, fix_both=False, fix_dupe=False, fix_bkg=False, fix_miss=False):
        """The AP and curve with the chosen oracles applied -> :class:`OracleState`."""
        flags = (fix_cls, fix_loc, fix_both, fix_dupe, fix_bkg, fix_miss)
        for name, flag in zip(CONTROL_NAMES, flags):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        fixed = tuple(t for t, flag in zip(ERROR_TYPES, flags) if flag)
        ap, curve = self.combinations[frozenset(fixed)]
        return OracleState(
            fixed=fixed,
            ap=ap,
            curve=curve,
            base_ap=self.base_ap,
            base_curve=self.base_curve,
            recall=self.recall,
            delta_ap={t: self.errors.delta_ap[t] for t in ERROR_TYPES},
        )
