"""What the core needs from storage for maintenance windows (storage/maintenance.py).

A unit of work without a `maintenance` repository (a test's fake) has no windows."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.domain.maintenance import MaintenanceWindow


class MaintenanceRepository(Protocol):
    def between(self, start: datetime, end: datetime) -> list[MaintenanceWindow]:
        """Windows that overlap [start, end), earliest first."""

    def pool_between(self, start: datetime, end: datetime) -> dict[str, list[MaintenanceWindow]]:
        """`between` for every server of a pool at once, by server name."""

    def get(self, window_id: int) -> MaintenanceWindow | None: ...

    def add(self, *, start: datetime, end: datetime, gpu_ids: tuple[int, ...], reason: str,
            actor: str) -> MaintenanceWindow: ...

    def remove(self, window_id: int) -> bool: ...


def repository(uow: object) -> MaintenanceRepository | None:
    return getattr(uow, "maintenance", None)


def windows_between(uow: object, start: datetime, end: datetime) -> list[MaintenanceWindow]:
    found = repository(uow)
    return [] if found is None else found.between(start, end)


def pool_windows_between(uow: object, start: datetime, end: datetime,
                         ) -> dict[str, list[MaintenanceWindow]]:
    found = repository(uow)
    return {} if found is None else found.pool_between(start, end)
