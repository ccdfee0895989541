"""Maintenance windows in the database (table `maintenance`, migration 0007).

The booking decision reads the windows that overlap a request with one statement through
the unit of work's own DBAPI connection (storage/uow.py, _Driver), by server and a range of
ends on ix_maintenance_server_end, as the integer microseconds the database generates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core.domain.allocation import from_micros, micros
from core.domain.maintenance import MaintenanceWindow

if TYPE_CHECKING:
    from storage.uow import _Driver

_COLUMNS = "id, start_us, end_us, gpu_ids, reason, created_by"


def _window(row: tuple[Any, ...]) -> MaintenanceWindow:
    row_id, start, end, gpu_ids, reason, created_by = row
    return MaintenanceWindow(
        start=from_micros(start), end=from_micros(end),
        gpu_ids=tuple(int(part) for part in gpu_ids.split(",") if part), reason=reason,
        created_by=created_by, id=row_id,
    )


class SqlMaintenance:
    def __init__(self, server_id: int, driver: _Driver) -> None:
        self._server_id = server_id
        self._driver = driver

    _BETWEEN = (
        f"SELECT {_COLUMNS} FROM maintenance "
        "WHERE server_id = :server AND end_us > :start AND start_us < :end"
    )

    def between(self, start: datetime, end: datetime) -> list[MaintenanceWindow]:
        """Windows that overlap [start, end), earliest first."""
        rows = self._driver.execute(
            self._BETWEEN, {"server": self._server_id, "start": micros(start), "end": micros(end)}
        ).fetchall()
        return sorted(map(_window, rows), key=lambda w: (w.start, w.id or 0))

    _POOL_BETWEEN = (
        "SELECT server.name, maintenance.id, maintenance.start_us, maintenance.end_us, "
        "maintenance.gpu_ids, maintenance.reason, maintenance.created_by FROM maintenance "
        "JOIN server ON server.id = maintenance.server_id "
        "WHERE maintenance.end_us > :start AND maintenance.start_us < :end"
    )

    def pool_between(self, start: datetime, end: datetime) -> dict[str, list[MaintenanceWindow]]:
        """`between` for every server of the pool at once, by server name."""
        found: dict[str, list[MaintenanceWindow]] = {}
        for server, *row in self._driver.execute(
                self._POOL_BETWEEN, {"start": micros(start), "end": micros(end)}).fetchall():
            found.setdefault(server, []).append(_window(tuple(row)))
        for windows in found.values():
            windows.sort(key=lambda w: (w.start, w.id or 0))
        return found

    def get(self, window_id: int) -> MaintenanceWindow | None:
        row = self._driver.execute(
            f"SELECT {_COLUMNS} FROM maintenance WHERE server_id = :server AND id = :id",
            {"server": self._server_id, "id": window_id},
        ).fetchone()
        return None if row is None else _window(row)

    def add(self, *, start: datetime, end: datetime, gpu_ids: tuple[int, ...], reason: str,
            actor: str) -> MaintenanceWindow:
        driver = self._driver
        row_id = driver.execute(
            "INSERT INTO maintenance (server_id, start_at, end_at, gpu_ids, reason, created_by, "
            "created_at) VALUES (:server, :start, :end, :gpu_ids, :reason, :actor, :created) "
            "RETURNING id",
            {"server": self._server_id, "start": driver.time(start), "end": driver.time(end),
             "gpu_ids": ",".join(map(str, gpu_ids)), "reason": reason, "actor": actor,
             "created": driver.time(datetime.now(UTC))},
        ).fetchone()[0]
        return MaintenanceWindow(start=start, end=end, gpu_ids=gpu_ids, reason=reason,
                                 created_by=actor, id=int(row_id))

    def remove(self, window_id: int) -> bool:
        cursor = self._driver.execute(
            "DELETE FROM maintenance WHERE server_id = :server AND id = :id",
            {"server": self._server_id, "id": window_id},
        )
        return bool(cursor.rowcount == 1)
