"""Widget states: pure, cheap functions of the controls' values over precomputed results (no matplotlib, no
ipywidgets), so a widget can be tested and timed without a browser."""
