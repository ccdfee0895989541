"""GPU inventory. No NVIDIA driver here, so NVML itself is stood in for by a
small module with the same functions; the device machine, when a task has one,
checks the real thing."""

from __future__ import annotations

import sys
import types

import pytest

from core.domain.gpus import GpuInventory
from core.runtime.gpu_inventory import gpu_inventory


class NVMLError(Exception):
    pass


def fake_nvml(count: int, linked: set[tuple[int, int]]) -> types.ModuleType:
    module = types.ModuleType("pynvml")
    module.NVMLError = NVMLError  # type: ignore[attr-defined]
    module.NVML_P2P_CAPS_INDEX_NVLINK = 2  # type: ignore[attr-defined]
    module.NVML_P2P_STATUS_OK = 0  # type: ignore[attr-defined]
    module.nvmlInit = lambda: None  # type: ignore[attr-defined]
    module.nvmlShutdown = lambda: None  # type: ignore[attr-defined]
    module.nvmlDeviceGetCount = lambda: count  # type: ignore[attr-defined]
    module.nvmlDeviceGetHandleByIndex = lambda i: f"gpu{i}"  # type: ignore[attr-defined]

    def p2p(a: str, b: str, index: int) -> int:
        assert index == 2
        pair = (int(a[3:]), int(b[3:]))
        if pair == (0, 3):
            raise NVMLError("not supported")
        return 0 if pair in linked else 4  # 4: NVML_P2P_STATUS_NOT_SUPPORTED

    module.nvmlDeviceGetP2PStatus = p2p  # type: ignore[attr-defined]
    return module


def test_auto_counts_gpus_and_finds_nvlink_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(4, {(0, 1), (2, 3)}))
    assert gpu_inventory("auto") == GpuInventory(
        4, frozenset({frozenset((0, 1)), frozenset((2, 3))})
    )


def test_a_configured_count_keeps_only_links_among_its_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(4, {(0, 1), (2, 3)}))
    assert gpu_inventory(2) == GpuInventory(2, frozenset({frozenset((0, 1))}))


def test_without_a_driver_auto_means_no_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = types.ModuleType("pynvml")

    def no_driver() -> None:
        raise OSError("NVML Shared Library Not Found")

    broken.nvmlInit = no_driver  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynvml", broken)
    assert gpu_inventory("auto") == GpuInventory(0)
    assert gpu_inventory(3) == GpuInventory(3)
