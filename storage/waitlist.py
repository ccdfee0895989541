"""The SQL waitlist repository (core.services.waitlist.WaitlistRepository)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from core.domain.model import Resources, Window
from core.domain.waitlist_match import WaitlistEntry
from storage.tables import AccountRow, WaitlistRow


class SqlWaitlist:
    def __init__(self, session: Session, server_id: int) -> None:
        self._session = session
        self._server_id = server_id

    def add(self, entry: WaitlistEntry, now: datetime) -> int:
        account_id = self._session.scalars(
            select(col(AccountRow.id)).where(col(AccountRow.name) == entry.account)
        ).one()
        assert account_id is not None
        r = entry.resources
        row = WaitlistRow(
            server_id=self._server_id, account_id=account_id, cpus=r.cpus, memory=r.memory,
            gpus=r.gpus, start_at=entry.window.start, end_at=entry.window.end,
            image=entry.image, command=entry.command, auto=entry.auto, created_at=now,
        )
        self._session.add(row)
        self._session.flush()
        assert row.id is not None
        return row.id

    def _entries(self, *conditions: Any) -> list[WaitlistEntry]:
        statement = (
            select(WaitlistRow, col(AccountRow.name))
            .join(AccountRow, col(AccountRow.id) == col(WaitlistRow.account_id))
            .where(col(WaitlistRow.server_id) == self._server_id, *conditions)
            .order_by(col(WaitlistRow.id))
        )
        return [
            WaitlistEntry(
                account=name, resources=Resources(row.cpus, row.memory, row.gpus),
                window=Window(row.start_at, row.end_at), auto=row.auto, image=row.image,
                command=row.command, id=row.id, offered=row.offered_start, created=row.created_at,
            )
            for row, name in self._session.execute(statement)
        ]

    def of_account(self, account: str) -> list[WaitlistEntry]:
        return self._entries(col(AccountRow.name) == account)

    def starting_before(self, before: datetime, *, ending_after: datetime) -> list[WaitlistEntry]:
        """Entries whose window starts before `before` and ends after `ending_after`."""
        return self._entries(col(WaitlistRow.start_at) < before,
                             col(WaitlistRow.end_at) > ending_after)

    def mark_offered(self, entry_id: int, start: datetime) -> None:
        self._session.execute(
            update(WaitlistRow).where(col(WaitlistRow.id) == entry_id).values(offered_start=start)
        )

    def remove(self, entry_ids: list[int]) -> None:
        if entry_ids:
            self._session.execute(delete(WaitlistRow).where(col(WaitlistRow.id).in_(entry_ids)))

    def remove_ended(self, now: datetime) -> int:
        """Drop the entries whose window ended; how many."""
        result = self._session.execute(delete(WaitlistRow).where(
            col(WaitlistRow.server_id) == self._server_id, col(WaitlistRow.end_at) <= now))
        return int(result.rowcount)  # type: ignore[attr-defined]
