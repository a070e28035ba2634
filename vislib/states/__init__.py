"""Widget states: pure, cheap functions of control values that index precomputed results (no matplotlib, no ipywidgets)."""
