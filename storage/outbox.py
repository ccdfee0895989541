"""The SQL outbox repository (core.services.ports.OutboxRepository)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from core.services.ports import OutboxItem
from storage.tables import OutboxRow


def _item(row: OutboxRow) -> OutboxItem:
    assert row.id is not None
    return OutboxItem(
        id=row.id, recipient=row.recipient, kind=row.kind, text=row.text,
        booking_id=row.booking_id, actions=list(row.actions), attempts=row.attempts,
        created_at=row.created_at,
    )


class SqlOutbox:
    def __init__(self, session: Session, server_id: int, *, whole_pool: bool = False) -> None:
        self._session = session
        self._server_id = server_id
        self._whole_pool = whole_pool  # due and sent read every server's messages

    def add(
        self, *, recipient: str, kind: str, text: str, booking_id: int | None,
        actions: list[dict[str, str]], now: datetime,
    ) -> int:
        row = OutboxRow(
            server_id=self._server_id, recipient=recipient, kind=kind, text=text,
            booking_id=booking_id, actions=actions, created_at=now, next_attempt_at=now,
        )
        self._session.add(row)
        self._session.flush()
        assert row.id is not None
        return row.id

    def _rows(self, *conditions: Any, limit: int | None = None) -> list[OutboxRow]:
        if not self._whole_pool:
            conditions = (col(OutboxRow.server_id) == self._server_id, *conditions)
        statement = select(OutboxRow).where(*conditions).order_by(col(OutboxRow.id))
        if limit is not None:
            statement = statement.limit(limit)
        return list(self._session.scalars(statement).all())

    def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        rows = self._rows(
            col(OutboxRow.sent_at).is_(None),
            col(OutboxRow.next_attempt_at) <= now,
            limit=limit,
        )
        return [_item(row) for row in rows]

    def _get(self, item_id: int) -> OutboxRow:
        row = self._session.get(OutboxRow, item_id)
        if row is None:
            raise LookupError(f"outbox message {item_id} vanished")
        return row

    def mark_sent(self, item_id: int, at: datetime, channel: str) -> None:
        row = self._get(item_id)
        row.sent_at = at
        row.channel = channel
        row.attempts += 1
        self._session.add(row)
        self._session.flush()

    def mark_attempt(self, item_id: int, error: str, retry_at: datetime) -> None:
        row = self._get(item_id)
        row.attempts += 1
        row.last_error = error[:2000]
        row.next_attempt_at = retry_at
        self._session.add(row)
        self._session.flush()

    def sent(self, booking_id: int) -> list[OutboxItem]:
        rows = self._rows(
            col(OutboxRow.booking_id) == booking_id,
            col(OutboxRow.sent_at).is_not(None),
        )
        return [_item(row) for row in rows]
