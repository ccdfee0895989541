"""The pool's heartbeats (migration 0009): every host's `serve` writes its server's row every
few seconds (`record_heartbeat`); the pool watch (core/services/pool_watch.py) reads every
server's row, and the bookings of any server, through `SqlHeartbeats` in its unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from core.domain.gpus import links_from_text, links_text
from core.domain.model import HOLDING
from core.domain.server_health import HeldBooking, ServerHealth
from storage.tables import AccountRow, BookingRow, ServerHeartbeatRow, ServerRow

_HOLDING = sorted(status.value for status in HOLDING)
_TABLE: Any = ServerHeartbeatRow.__table__  # type: ignore[attr-defined]


class SqlHeartbeats:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _sqlite(self) -> bool:
        return self._session.get_bind().dialect.name == "sqlite"

    def beat(self, server_id: int, at: datetime, gpus: int | None, host: str | None,
             nvlinks: frozenset[frozenset[int]] = frozenset()) -> None:
        """The server was heard from at `at`. down_told_at is left as it is: the pool watch
        sees a fresh beat after a told one as the server being back, tells, then clears it."""
        dialect: Any = sqlite if self._sqlite() else postgresql
        host = host[:255] if host else host
        statement = dialect.insert(_TABLE).values(
            server_id=server_id, seen_at=at, gpus=gpus, host=host,
            nvlinks=links_text(nvlinks)[:2000] or None)
        statement = statement.on_conflict_do_update(
            index_elements=[_TABLE.c.server_id],
            set_={"seen_at": statement.excluded.seen_at, "gpus": statement.excluded.gpus,
                  "nvlinks": statement.excluded.nvlinks,
                  "host": statement.excluded.host},
        )
        self._session.connection().execute(statement)

    def lock_all(self) -> None:
        """Until commit or rollback, no other transaction changes a heartbeat row, so two
        watchers never both tell. SQLite already holds the database's write lock (BEGIN
        IMMEDIATE); PostgreSQL locks every row, in one order (no deadlock between watchers)."""
        if not self._sqlite():
            self._session.connection().execute(
                select(_TABLE.c.server_id).order_by(_TABLE.c.server_id).with_for_update()
            ).all()

    def all(self) -> list[ServerHealth]:
        """Every server, by name; one never heard from has seen_at None."""
        statement = (
            select(col(ServerRow.id), col(ServerRow.name), col(ServerHeartbeatRow.seen_at),
                   col(ServerHeartbeatRow.gpus), col(ServerHeartbeatRow.down_told_at),
                   col(ServerHeartbeatRow.nvlinks))
            .outerjoin(ServerHeartbeatRow, col(ServerHeartbeatRow.server_id) == col(ServerRow.id))
            .order_by(col(ServerRow.name))
        )
        return [
            ServerHealth(name=name, seen_at=seen, gpus=gpus, down_told_at=told, server_id=sid,
                         nvlinks=links_from_text(links, gpus or 0))
            for sid, name, seen, gpus, told, links in self._session.execute(statement)
        ]

    def mark_down_told(self, server_id: int, at: datetime | None) -> None:
        """When the server's being down was told; None: it is back and that was told."""
        self._session.connection().execute(
            update(_TABLE).where(_TABLE.c.server_id == server_id).values(down_told_at=at))

    def holding_on(self, server_id: int, *, starts_before: datetime,
                   ends_after: datetime) -> list[HeldBooking]:
        """Bookings on any server of the pool (not only the unit of work's) that hold
        resources, start before `starts_before` and end after `ends_after`, by start."""
        statement = (
            select(col(BookingRow.id), col(AccountRow.name), col(BookingRow.start_at),
                   col(BookingRow.end_at))
            .join(AccountRow, col(AccountRow.id) == col(BookingRow.account_id))
            .where(col(BookingRow.server_id) == server_id,
                   col(BookingRow.status).in_(_HOLDING),
                   col(BookingRow.start_at) < starts_before,
                   col(BookingRow.end_at) > ends_after)
            .order_by(col(BookingRow.start_at), col(BookingRow.id))
        )
        return [HeldBooking(booking_id, account, start, end)
                for booking_id, account, start, end in self._session.execute(statement)]


def record_heartbeat(engine: Engine, server_id: int, *, gpus: int | None, host: str | None,
                     now: datetime, nvlinks: frozenset[frozenset[int]] = frozenset()) -> None:
    """One beat of this host's server, in its own short transaction."""
    with Session(engine) as session:
        SqlHeartbeats(session).beat(server_id, now, gpus, host, nvlinks)
        session.commit()
