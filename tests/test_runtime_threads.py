"""The runtime's CPU count (affinity mask and cgroup quota, from fake cgroup files) and its thread setting."""

import os
import subprocess
import sys

import pytest
import torch

from vislib import runtime


def _cgroup_v2(tmp_path, text):
    (tmp_path / "cpu.max").write_text(text)
    return str(tmp_path)


def _cgroup_v1(tmp_path, quota, period):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text(f"{period}\n")
    return str(tmp_path)


@pytest.mark.parametrize(
    "text, quota", [("max 100000\n", None), ("200000 100000\n", 2.0), ("150000 100000", 1.5), ("50000 100000", 0.5)]
)
def test_cgroup_v2_quota(tmp_path, text, quota):
    assert runtime.cgroup_cpu_quota(_cgroup_v2(tmp_path, text)) == quota


@pytest.mark.parametrize("quota, period, expected", [(-1, 100000, None), (300000, 100000, 3.0), (50000, 100000, 0.5)])
def test_cgroup_v1_quota(tmp_path, quota, period, expected):
    assert runtime.cgroup_cpu_quota(_cgroup_v1(tmp_path, quota, period)) == expected


def test_no_cgroup_files_mean_no_quota(tmp_path):
    assert runtime.cgroup_cpu_quota(str(tmp_path)) is None
    (tmp_path / "cpu.max").write_text("garbage")
    assert runtime.cgroup_cpu_quota(str(tmp_path)) is None


def test_available_cpus_is_the_affinity_mask_capped_by_the_quota(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5, 6, 7})
    assert runtime.available_cpus(cgroup_root=str(tmp_path)) == 8  # no cgroup files: the mask
    assert runtime.available_cpus(cgroup_root=_cgroup_v2(tmp_path, "250000 100000")) == 2  # 2.5 CPUs: 2 threads
    assert runtime.available_cpus(cgroup_root=_cgroup_v2(tmp_path, "max 100000")) == 8
    assert runtime.available_cpus(cgroup_root=_cgroup_v2(tmp_path, "20000 100000")) == 1  # at least one
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    assert runtime.available_cpus(cgroup_root=_cgroup_v2(tmp_path, "400000 100000")) == 1  # the mask is smaller


def test_available_cpus_without_affinity_falls_back_to_cpu_count(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert runtime.available_cpus(cgroup_root=str(tmp_path)) == 6


def test_configure_threads_sets_torch_from_the_variable_or_the_cpus(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("VISLIB_THREADS", "1")
        assert runtime.configure_threads() == 1 and torch.get_num_threads() == 1
        monkeypatch.delenv("VISLIB_THREADS")
        monkeypatch.setenv("OMP_NUM_THREADS", "1")  # a user's OpenMP setting is kept
        assert runtime.configure_threads() == 1
        monkeypatch.delenv("OMP_NUM_THREADS")
        assert runtime.configure_threads() == runtime.available_cpus() == torch.get_num_threads()
        assert runtime.configure_threads(1) == 1
        monkeypatch.setenv("VISLIB_THREADS", "two")
        with pytest.raises(ValueError, match="VISLIB_THREADS must be a positive integer, got 'two'"):
            runtime.configure_threads()
        with pytest.raises(ValueError, match="threads"):
            runtime.configure_threads(0)
    finally:
        torch.set_num_threads(before)


def test_importing_vislib_before_torch_makes_openmp_threads_wait_passively():
    code = "import os; import vislib.runtime, torch; print(os.environ['OMP_WAIT_POLICY'])"
    environment = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
    output = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "PASSIVE"
    environment["OMP_WAIT_POLICY"] = "ACTIVE"  # the environment wins
    output = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "ACTIVE"


def test_device_and_seeding_configure_threads_once(monkeypatch):
    calls = []
    monkeypatch.setattr(runtime, "_configured_threads", None)
    monkeypatch.setattr(runtime, "configure_threads", lambda threads=None: calls.append(threads) or 1)
    runtime.device()
    assert calls == [None]
