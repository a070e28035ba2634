"""The benchmark (``python -m vislib.tools.benchmark``): notebook wall time and peak memory, widget update
times and other measurements, written to ``BENCHMARKS.md``.

* :mod:`~vislib.tools.benchmark.registry`: what is measured, with its goals;
* :mod:`~vislib.tools.benchmark.fixtures`: widgets that need a set-up before they can be timed;
* :mod:`~vislib.tools.benchmark.measurements`: measurements beyond notebooks and widgets;
* :mod:`~vislib.tools.benchmark.timing`: timing widgets and notebooks;
* :mod:`~vislib.tools.benchmark.report`: writing ``BENCHMARKS.md``.
"""
