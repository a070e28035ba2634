"""The error-oracle widget: toggle which of TIDE's error types an oracle fixes; see the PR curve and AP."""

from __future__ import annotations

import ipywidgets

from vislib._validation import check_type
from vislib.metrics.tide import ERROR_NAMES, ERROR_TYPES
from vislib.plotting.tide import OracleView
from vislib.states.tide import CONTROL_NAMES, OracleExplorer
from vislib.widgets.core import Interactive, make_control

__all__ = ["oracle_widget"]


def oracle_widget(explorer: OracleExplorer) -> Interactive:
    """One checkbox per error type (Cls, Loc, Both, Dupe, Bkg, Miss); the curve of the chosen oracles."""
    check_type("explorer", explorer, OracleExplorer, "an OracleExplorer (vislib.states.tide)")
    controls = {
        name: make_control(name, ipywidgets.Checkbox, False, description=f"fix {t} ({ERROR_NAMES[t].split(' (')[0]})")
        for name, t in zip(CONTROL_NAMES, ERROR_TYPES)
    }
    return Interactive(explorer.state, OracleView(), controls, figsize=(6.5, 4.5), controls_per_row=3)
