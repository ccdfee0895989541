"""The host's GPUs: how many, and which pairs share an NVLink.

NVML answers where an NVIDIA driver exists; otherwise `capacity.gpus` in the
config gives the count and no links are known.
"""

from __future__ import annotations

import logging

from core.domain.gpus import GpuInventory

log = logging.getLogger(__name__)


def nvml_inventory() -> GpuInventory | None:
    """What NVML sees, or None when there is no NVIDIA driver."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
        log.info("NVML unavailable (%s)", exc)
        return None
    try:
        count = int(pynvml.nvmlDeviceGetCount())
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        links = set()
        for i in range(count):
            for j in range(i + 1, count):
                try:
                    status = pynvml.nvmlDeviceGetP2PStatus(
                        handles[i], handles[j], pynvml.NVML_P2P_CAPS_INDEX_NVLINK
                    )
                except pynvml.NVMLError:
                    continue  # this driver or GPU cannot tell
                if status == pynvml.NVML_P2P_STATUS_OK:
                    links.add(frozenset((i, j)))
        return GpuInventory(count, frozenset(links))
    finally:
        pynvml.nvmlShutdown()


def gpu_inventory(configured: int | str) -> GpuInventory:
    """`capacity.gpus`: `auto` asks NVML (0 GPUs without a driver); a number is taken
    as is, with NVLinks from NVML where it answers."""
    found = nvml_inventory()
    if configured == "auto":
        if found is None:
            log.warning("capacity.gpus is auto but no NVIDIA driver answers: booking without GPUs")
            return GpuInventory(0)
        return found
    count = int(configured)
    links = found.nvlinks if found is not None else frozenset()
    return GpuInventory(count, frozenset(pair for pair in links if max(pair) < count))
