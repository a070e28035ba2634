"""vislib: computations, plots and widgets for the modern-CNN lecture notebooks.

Layers (see ARCHITECTURE.md): computation modules (``runtime``, ``nonlinearities``,
``checks``, and later ``ops``, ``metrics``, ``data``, ``models``, ``training``)
never import plotting; ``vislib.plotting`` draws onto given axes;
``vislib.widgets`` wires ipywidgets controls to a state function and a plot.
"""

__version__ = "0.1.0"
