"""Widget states: pure, cheap functions of precomputed results (no matplotlib, no ipywidgets)."""
