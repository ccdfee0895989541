"""The host's GPUs' utilisation, from NVML (the `pynvml` module of nvidia-ml-py), for the
idle watch (core/services/idle_watch.py). NVML is started on the first read and kept;
without a driver every read answers nothing, and that is logged once."""

from __future__ import annotations

import logging
import threading
from types import ModuleType

log = logging.getLogger(__name__)


class NvmlUtilisation:
    def __init__(self) -> None:
        self._nvml: ModuleType | None = None
        self._told = False  # "NVML unavailable" is logged once, not every minute
        self._lock = threading.Lock()

    def utilisation(self) -> dict[int, float]:
        """Percent busy per GPU index (NVML's `gpu` rate over its last sample period);
        a GPU that does not answer is left out."""
        with self._lock:
            nvml = self._started()
            if nvml is None:
                return {}
            try:
                count = int(nvml.nvmlDeviceGetCount())
            except Exception as exc:  # the driver went away: start again next time
                log.warning("NVML stopped answering (%s)", exc)
                self._stop()
                return {}
            found: dict[int, float] = {}
            for index in range(count):
                try:
                    handle = nvml.nvmlDeviceGetHandleByIndex(index)
                    found[index] = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
                except Exception as exc:  # NVMLError_GpuIsLost, NotSupported, ...
                    log.debug("GPU %d: no utilisation (%s)", index, exc)
            return found

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _started(self) -> ModuleType | None:
        if self._nvml is not None:
            return self._nvml
        try:
            import pynvml

            pynvml.nvmlInit()
        except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
            if not self._told:
                log.info("NVML unavailable (%s): GPU utilisation is not watched", exc)
                self._told = True
            return None
        self._nvml = pynvml
        return pynvml

    def _stop(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception as exc:
                log.debug("NVML shutdown: %s", exc)
            self._nvml = None
