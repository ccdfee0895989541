"""GPU utilisation from NVML. No NVIDIA driver here, so `pynvml` is stood in for by a small
module with the functions the adapter calls; on a GPU machine it is checked on real GPUs."""

from __future__ import annotations

import logging
import sys
import types
from typing import Any

import pytest

from core.runtime.gpu_usage import NvmlUtilisation


class NVMLError(Exception):
    pass


def fake_nvml(rates: dict[int, Any], calls: list[str]) -> types.ModuleType:
    """GPUs 0..n-1 busy as `rates` says; a rate that is an exception is raised instead."""
    module = types.ModuleType("pynvml")
    module.NVMLError = NVMLError  # type: ignore[attr-defined]
    module.nvmlInit = lambda: calls.append("init")  # type: ignore[attr-defined]
    module.nvmlShutdown = lambda: calls.append("shutdown")  # type: ignore[attr-defined]
    module.nvmlDeviceGetCount = lambda: len(rates)  # type: ignore[attr-defined]
    module.nvmlDeviceGetHandleByIndex = lambda i: f"gpu{i}"  # type: ignore[attr-defined]

    def utilization(handle: str) -> types.SimpleNamespace:
        rate = rates[int(handle[3:])]
        if isinstance(rate, Exception):
            raise rate
        return types.SimpleNamespace(gpu=rate, memory=0)

    module.nvmlDeviceGetUtilizationRates = utilization  # type: ignore[attr-defined]
    return module


def test_each_gpus_utilisation_by_index_and_nvml_started_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    rates: dict[int, Any] = {0: 3, 1: NVMLError("GPU is lost"), 2: 97}
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(rates, calls))
    usage = NvmlUtilisation()
    assert usage.utilisation() == {0: 3.0, 2: 97.0}  # the lost GPU is left out
    rates[0] = 41
    assert usage.utilisation() == {0: 41.0, 2: 97.0}
    usage.close()
    assert calls == ["init", "shutdown"]


def test_without_a_driver_nothing_is_read_and_that_is_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    broken = types.ModuleType("pynvml")

    def no_driver() -> None:
        raise OSError("NVML Shared Library Not Found")

    broken.nvmlInit = no_driver  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynvml", broken)
    usage = NvmlUtilisation()
    with caplog.at_level(logging.INFO, logger="core.runtime.gpu_usage"):
        assert usage.utilisation() == {}
        assert usage.utilisation() == {}
    assert [r.message for r in caplog.records] == [
        "NVML unavailable (NVML Shared Library Not Found): GPU utilisation is not watched"]


def test_a_driver_that_stops_answering_is_started_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    module = fake_nvml({0: 10}, calls)
    monkeypatch.setitem(sys.modules, "pynvml", module)
    usage = NvmlUtilisation()
    assert usage.utilisation() == {0: 10.0}

    def gone() -> int:
        raise NVMLError("Driver Not Loaded")

    module.nvmlDeviceGetCount = gone  # type: ignore[attr-defined]
    assert usage.utilisation() == {}
    module.nvmlDeviceGetCount = lambda: 1  # type: ignore[attr-defined]
    assert usage.utilisation() == {0: 10.0}
    assert calls == ["init", "shutdown", "init"]


def _real_gpu_count() -> int:
    """GPUs the real NVIDIA driver answers for; 0 without one (then the test is skipped)."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:
        return 0
    try:
        return int(pynvml.nvmlDeviceGetCount())
    finally:
        pynvml.nvmlShutdown()


@pytest.mark.skipif(_real_gpu_count() == 0, reason="no NVIDIA driver: checked on a GPU machine")
def test_on_real_gpus_every_gpu_reads_a_percentage() -> None:
    """On a GPU machine, the real `pynvml`: the GPUs are read by index, each 0-100 (a GPU
    in MIG mode answers no utilisation and is left out, as the adapter says)."""
    usage = NvmlUtilisation()
    try:
        read = usage.utilisation()
    finally:
        usage.close()
    assert read and set(read) <= set(range(_real_gpu_count()))
    assert all(0.0 <= rate <= 100.0 for rate in read.values())
