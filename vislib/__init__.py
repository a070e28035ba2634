"""vislib: computations, plots and widgets for the modern-CNN lecture notebooks.

One package per layer (see ARCHITECTURE.md): computations (``data``, ``ops``, ``analysis``, ``models``,
``metrics``, ``training``, ``runtime``, ``progress``) import no plotting or widget code; ``states`` holds the
widgets' pure states; ``plotting`` draws onto given axes; ``widgets`` wires ipywidgets controls to a state and
a plot; ``exercises`` checks students' functions; ``tools`` holds maintainer commands. A topic keeps one
module name in every layer it appears in.
"""

__version__ = "0.1.0"
