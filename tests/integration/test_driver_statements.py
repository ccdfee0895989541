"""The unit of work's driver-level statements (storage/uow.py, _Driver) write and read
exactly what the ORM and Core statements around them do, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from core.domain.allocation import micros
from core.domain.model import Account, Booking, Resources, Status
from storage.engine import make_engine, migrate
from storage.tables import OWN_PORT_INDEX_COLUMNS, OWN_PORT_SQL, BookingEventRow, BookingRow
from storage.uow import SqlUnitOfWork, ensure_server

START = datetime(2031, 3, 4, 5, 30, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    migrate(engine)
    return engine


def test_accounts_round_trip_and_see_their_own_writes(engine: Engine) -> None:
    server = ensure_server(engine, "gpu1")
    with SqlUnitOfWork(engine, server) as uow:
        uow.accounts.add(Account(name="ann", is_admin=True, limits={"cpus": 2.5, "gpus": "max"},
                                 slack_id="U1", ssh_keys="ssh-ed25519 AAAA ann"))
        uow.accounts.add(Account(name="bob", preferred_port=10005))
        ann = uow.accounts.get("ann")
        assert ann is not None and ann.is_admin is True and ann.limits == {"cpus": 2.5, "gpus": "max"}
        ann.preferred_port = 10002
        ann.timezone = "Asia/Taipei"
        uow.accounts.save(ann)
        assert uow.accounts.get("ann") == ann  # the same transaction sees the save
        assert uow.accounts.by_chat_id("slack", "U1") == ann
        assert uow.accounts.reserved_ports(except_name="ann") == frozenset({10005})
        assert uow.accounts.reserved_ports(except_name="bob") == frozenset({10002})
        uow.commit()
    with SqlUnitOfWork(engine, server) as uow:
        assert uow.accounts.get("ann") == ann
        assert uow.accounts.count() == 2
        assert sorted(a.name for a in uow.accounts.all()) == ["ann", "bob"]
        with pytest.raises(LookupError):
            uow.accounts.save(Account(name="gone", id=999))


def test_bookings_and_events_are_stored_as_the_orm_reads_them(engine: Engine) -> None:
    server = ensure_server(engine, "gpu1")
    with SqlUnitOfWork(engine, server) as uow:
        uow.accounts.add(Account(name="ann"))
        booking = uow.bookings.add(Booking(
            account="ann", start=START, end=START + timedelta(hours=6),
            resources=Resources(1.5, 4, 2), gpu_ids=(2, 3), port=10001, image="lab/gpu:latest",
        ))
        uow.bookings.record(booking.id or 0, "created", "ann", note="é")
        # Saved, then read back in the same transaction (no identity map in between).
        longer = replace(booking, end=START + timedelta(hours=9), status=Status.RUNNING)
        uow.bookings.save(longer)
        assert uow.bookings.get(booking.id or 0) == longer
        spans = uow.bookings.spans_between(START, START + timedelta(minutes=30))
        assert spans == [(booking.id, spans[0][1], micros(START), micros(START + timedelta(hours=9)),
                          1.5, 4, "2,3", 10001)]
        assert uow.bookings.spans_between(START + timedelta(hours=9), START + timedelta(hours=10)) == []
        uow.commit()
    with Session(engine) as session:  # the ORM reads what the driver wrote
        row = session.scalars(select(BookingRow)).one()
        assert (row.start_at, row.end_at, row.status) == (START, START + timedelta(hours=9), "running")
        event = session.scalars(select(BookingEventRow)).one()
        assert (event.kind, event.actor, event.detail) == ("created", "ann", {"note": "é"})
        assert event.at.tzinfo is not None
    with SqlUnitOfWork(engine, server) as uow, pytest.raises(LookupError):
        uow.bookings.save(replace(longer, id=999))


def test_spans_carry_the_times_the_database_generates_to_the_microsecond(engine: Engine) -> None:
    """start_us and end_us (migration 0006) are the database's own: whatever time is
    written, off the slot grid or ended early, the decision reads it exactly."""
    server = ensure_server(engine, "gpu1")
    odd = START + timedelta(minutes=7, seconds=13, microseconds=250_001)
    with SqlUnitOfWork(engine, server) as uow:
        uow.accounts.add(Account(name="ann"))
        booking = uow.bookings.add(Booking(
            account="ann", start=odd, end=odd + timedelta(days=3, microseconds=999_999),
            resources=Resources(2, 8, 0), gpu_ids=(), port=10002, image="lab/gpu:latest",
        ))
        uow.commit()
    far = (START - timedelta(days=30), START + timedelta(days=30))
    with SqlUnitOfWork(engine, server) as uow:
        ((_, _, begin, finish, *_),) = uow.bookings.spans_between(*far)
        assert (begin, finish) == (micros(odd), micros(odd + timedelta(days=3, microseconds=999_999)))
        ended = replace(booking, end=odd + timedelta(hours=1, microseconds=3))  # `end now`
        uow.bookings.save(ended)
        assert uow.bookings.spans_between(*far)[0][3] == micros(ended.end)
        # Half-open: a window that starts at its end, or ends at its start, misses it.
        assert uow.bookings.spans_between(ended.end, ended.end + timedelta(hours=1)) == []
        assert uow.bookings.spans_between(odd - timedelta(hours=1), odd) == []
        assert len(uow.bookings.spans_between(ended.end - timedelta(microseconds=1), far[1])) == 1
        uow.bookings.save(replace(ended, status=Status.FINISHED))  # no longer holds anything
        assert uow.bookings.spans_between(*far) == []


def test_the_own_port_index_is_the_one_the_migration_made() -> None:
    path = Path(__file__).parents[2] / "storage/migrations/versions/0005_account_port_index.py"
    spec = importlib.util.spec_from_file_location("migration_0005", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module._WHERE == OWN_PORT_SQL
    assert tuple(module._COLUMNS) == OWN_PORT_INDEX_COLUMNS
