"""What the Prometheus metrics read from the database at scrape time (bot/metrics.py):
counts and sums per server in a few aggregate queries, and for the start-lag histogram
three times per started booking (never whole rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, func, select
from sqlmodel import Session, col

from core.domain.allocation import micros
from core.domain.model import HOLDING, Status
from storage.tables import BookingEventRow, BookingRow, OutboxRow

# Statuses whose container exists (or is being made or removed).
_CONTAINER = (Status.STARTING, Status.RUNNING, Status.ENDING)


@dataclass
class ServerState:
    by_status: dict[str, int] = field(default_factory=dict)  # every status, 0 when none
    gpus_booked: int = 0  # GPUs of bookings whose window covers now
    gpus_held: int = 0  # GPUs of bookings whose container exists
    outbox_backlog: int = 0  # messages recorded and not sent yet
    start_lags: list[float] = field(default_factory=list)  # seconds, one per started booking


def read_state(engine: Engine, server_id: int, now: datetime) -> ServerState:
    state = ServerState(by_status={status.value: 0 for status in Status})
    at = micros(now)
    holding = [s.value for s in HOLDING]
    with Session(engine) as session:
        mine = col(BookingRow.server_id) == server_id
        for status, count in session.execute(
            select(col(BookingRow.status), func.count()).where(mine).group_by(col(BookingRow.status))
        ):
            state.by_status[status] = int(count)
        state.gpus_booked = int(session.scalar(
            select(func.coalesce(func.sum(BookingRow.gpus), 0)).where(
                mine, col(BookingRow.status).in_(holding),
                col(BookingRow.start_us) <= at, col(BookingRow.end_us) > at)) or 0)
        state.gpus_held = int(session.scalar(
            select(func.coalesce(func.sum(BookingRow.gpus), 0)).where(
                mine, col(BookingRow.status).in_([s.value for s in _CONTAINER]))) or 0)
        state.outbox_backlog = int(session.scalar(
            select(func.count()).select_from(OutboxRow).where(
                col(OutboxRow.server_id) == server_id, col(OutboxRow.sent_at).is_(None))) or 0)
        state.start_lags = _start_lags(session, server_id)
    return state


def _start_lags(session: Session, server_id: int) -> list[float]:
    """Per started booking: from the later of its start and its making (a `now` booking
    starts at the beginning of its half hour) to its first `running` event."""
    first: dict[int, float] = {}
    rows = session.execute(
        select(col(BookingRow.id), col(BookingRow.start_at), col(BookingRow.created_at),
               col(BookingEventRow.at))
        .join(BookingEventRow, and_(col(BookingEventRow.booking_id) == col(BookingRow.id),
                                    col(BookingEventRow.kind) == "running"))
        .where(col(BookingRow.server_id) == server_id)
    )
    for booking_id, start, created, running in rows:
        lag = max(timedelta(0), _aware(running) - max(_aware(start), _aware(created)))
        seconds = lag.total_seconds()
        first[booking_id] = min(first.get(booking_id, seconds), seconds)
    return list(first.values())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
