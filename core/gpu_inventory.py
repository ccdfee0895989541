"""How many GPUs the host has: NVML where a driver exists, else the config."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def nvml_gpu_count() -> int | None:
    """The number of GPUs NVML sees, or None when there is no NVIDIA driver."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
        log.info("NVML unavailable (%s)", exc)
        return None
    try:
        return int(pynvml.nvmlDeviceGetCount())
    finally:
        pynvml.nvmlShutdown()


def gpu_count(configured: int | str) -> int:
    """`capacity.gpus`: a number is taken as is; `auto` asks NVML (0 without a driver)."""
    if configured != "auto":
        return int(configured)
    found = nvml_gpu_count()
    if found is None:
        log.warning("capacity.gpus is auto but no NVIDIA driver answers: booking without GPUs")
        return 0
    return found
