"""The claims API: paired per-seed effects, the verdict, and how RESULTS and BENCHMARKS.md carry a claim."""

import pytest

from vislib import runtime
from vislib.analysis.claims import measure_claim
from vislib.plotting.tables import results_table
from vislib.tools.benchmark.report import render_section


def _claim(with_values, without_values, **kwargs):
    return measure_claim(
        "pre-training helps",
        "mIoU",
        with_values,
        without_values,
        with_label="pre-trained",
        without_label="from scratch",
        **kwargs,
    )


def test_holds_only_when_every_seed_agrees():
    assert _claim([0.6, 0.7, 0.65], [0.5, 0.6, 0.6]).holds
    # a larger mean effect carried by one seed is not enough
    assert not _claim([0.9, 0.5, 0.5], [0.5, 0.55, 0.52]).holds
    assert _claim([0.9, 0.5, 0.5], [0.5, 0.55, 0.52]).mean_effect > 0


def test_lower_is_better_and_min_effect():
    faster = _claim([1.0, 1.1], [2.0, 2.2], higher_is_better=False)
    assert faster.holds and faster.effects == pytest.approx((1.0, 1.1))
    assert not _claim([0.61, 0.62], [0.6, 0.6], min_effect=0.05).holds


def test_measured_text_and_result():
    claim = _claim([0.6, 0.8], [0.5, 0.5])
    assert claim.measured() == "mIoU 0.7 ± 0.14 (pre-trained) vs 0.5 ± 0 (from scratch), 2 seeds"
    assert _claim([0.6], [0.5]).measured() == "mIoU 0.6 (pre-trained) vs 0.5 (from scratch), 1 seed"
    result = runtime.notebook_results({"steps": 10}, claims=[claim])
    entry = result["claim: pre-training helps"]
    assert entry["holds"] == "yes" and entry["seeds"] == 2
    assert entry["with_mean"] == pytest.approx(0.7) and entry["without_sd"] == 0
    assert "holds: **yes**" in results_table(result).data


def test_benchmark_writes_a_claims_table():
    claim = _claim([0.4, 0.45, 0.5], [0.5, 0.5, 0.5])
    results = runtime.notebook_results({"steps": 10}, claims=[claim])
    machine = {"key": "cpu", "device": "CPU", "cpu": "x", "cores": "2", "memory": "1 GiB", "python": "3", "torch": "2"}
    notebooks = {"nb.ipynb": {"wall_s": 1.0, "goal_s": 2.0, "peak_rss_mib": 1.0, "results": results}}
    section = render_section("quick", machine, notebooks, {})
    assert (
        "| `nb.ipynb` | pre-training helps | mIoU 0.45 ± 0.05 (pre-trained) vs 0.5 ± 0 (from scratch), 3 seeds "
        "| 3 | **no** |" in section
    )
    assert "claim: pre-training helps" not in section  # not repeated among the plain results


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"with_values": [], "without_values": []}, TypeError, "with_values must be a non-empty sequence"),
        ({"with_values": [0.1, 0.2], "without_values": [0.1]}, ValueError, "one value per seed"),
        ({"with_values": [float("nan")], "without_values": [0.1]}, ValueError, r"with_values\[0\] must be finite"),
        ({"with_values": "0.5", "without_values": [0.1]}, TypeError, "with_values"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        _claim(**kwargs)
    with pytest.raises(TypeError, match="claims must hold"):
        runtime.notebook_results({}, claims=[{"claim": "x"}])
