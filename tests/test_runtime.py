import numpy as np
import pytest
import torch

from vislib import runtime


@pytest.mark.parametrize("value, expected", [("quick", "quick"), ("full", "full"), (" QUICK ", "quick")])
def test_profile_is_read_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("VISLIB_PROFILE", value)
    assert runtime.profile().name == expected


def test_profile_defaults_to_quick_under_ci_and_full_otherwise(monkeypatch):
    monkeypatch.delenv("VISLIB_PROFILE", raising=False)
    monkeypatch.setenv("CI", "true")
    assert runtime.profile().is_quick
    monkeypatch.delenv("CI")
    assert runtime.profile().name == "full"


def test_unknown_profile_names_the_variable(monkeypatch):
    monkeypatch.setenv("VISLIB_PROFILE", "fast")
    with pytest.raises(ValueError, match="VISLIB_PROFILE must be 'quick' or 'full', got 'fast'"):
        runtime.profile()


def test_pick_chooses_by_profile():
    assert runtime.Profile("quick").pick(quick=2, full=20) == 2
    assert runtime.Profile("full").pick(quick=2, full=20) == 20
    with pytest.raises(ValueError, match="profile name"):
        runtime.Profile("medium")


def test_device_follows_availability_and_override(monkeypatch):
    monkeypatch.delenv("VISLIB_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert runtime.device().type == expected
    monkeypatch.setenv("VISLIB_DEVICE", "cpu")
    assert runtime.device().type == "cpu"
    monkeypatch.setenv("VISLIB_DEVICE", "tpu")
    with pytest.raises(ValueError, match="VISLIB_DEVICE"):
        runtime.device()


def test_seed_everything_makes_runs_repeat():
    def draw():
        return (np.random.rand(3), torch.rand(3), torch.nn.Linear(4, 2).weight.detach().clone())

    runtime.seed_everything(123)
    first = draw()
    runtime.seed_everything(123)
    second = draw()
    assert np.array_equal(first[0], second[0])
    assert torch.equal(first[1], second[1]) and torch.equal(first[2], second[2])
    runtime.seed_everything(124)
    assert not torch.equal(first[1], torch.rand(3))


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1.5, TypeError), ("0", TypeError), (True, TypeError)])
def test_seed_rejects_bad_values(bad, error):
    with pytest.raises(error, match="seed"):
        runtime.seed_everything(bad)


def test_torch_generator_is_seeded():
    a = torch.randperm(10, generator=runtime.torch_generator(5))
    b = torch.randperm(10, generator=runtime.torch_generator(5))
    assert torch.equal(a, b)


def test_environment_report_names_versions_device_and_profile(monkeypatch):
    monkeypatch.setenv("VISLIB_PROFILE", "quick")
    report = runtime.environment_report()
    assert report["profile"] == "quick"
    assert report["device"] in ("cpu", "cuda")
    assert report["packages"]["torch"] == torch.__version__.split("+")[0]
    assert all(version for version in report["packages"].values()), report["packages"]


def test_notebook_results_records_the_profile_and_device_then_the_numbers_rounded(monkeypatch):
    monkeypatch.setenv("VISLIB_PROFILE", "quick")
    results = runtime.notebook_results(
        {"mAP": 0.812345, "small": 0.0395123, "seconds": 48.8321, "images": 300, "goal": None, "name": "x"},
        device=torch.device("cpu"),
    )
    assert list(results) == ["profile", "device", "mAP", "small", "seconds", "images", "goal", "name"]
    assert results["profile"] == "quick" and results["device"] == "cpu"
    assert results["mAP"] == 0.8123 and results["small"] == 0.0395 and results["seconds"] == 48.83
    assert results["images"] == 300 and isinstance(results["images"], int)
    assert results["goal"] == "not reached" and results["name"] == "x"
    assert runtime.notebook_results({"accuracy": np.float32(0.5)})["accuracy"] == 0.5
    assert "device" not in runtime.notebook_results({})
