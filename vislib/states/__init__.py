"""Widget states: pure, cheap functions of the control values; no matplotlib, no ipywidgets."""
