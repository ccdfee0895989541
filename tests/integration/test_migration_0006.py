"""Migration 0006 on real SQLite and real PostgreSQL: bookings already stored get their
generated start_us and end_us, the decision reads them through the rebuilt holding index,
and the way down keeps every row."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, insert, inspect, select, text
from sqlalchemy.exc import SAWarning

from core.domain.allocation import micros
from core.domain.model import Account, Booking, Resources
from storage.engine import MIGRATIONS, make_engine, migrate
from storage.tables import HOLDING_INDEX_COLUMNS, AccountRow, BookingRow
from storage.uow import SqlBookings, SqlUnitOfWork, ensure_server

NOW = datetime(2031, 5, 6, 7, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    yield built
    built.dispose()


def _alembic(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def _holding_index(engine: Engine) -> list[str | None]:
    with warnings.catch_warnings():  # SQLite's inspector skips the expression index, and says so
        warnings.simplefilter("ignore", SAWarning)
        indexes = inspect(engine).get_indexes("booking")
    (index,) = [i for i in indexes if i["name"] == "ix_booking_holding"]
    return list(index["column_names"])


def _index_names(engine: Engine) -> set[str]:
    """Every index of the booking table, expression indexes included (which SQLAlchemy's
    SQLite inspector leaves out)."""
    query = ("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'booking'"
             if engine.dialect.name == "sqlite" else
             "SELECT indexname FROM pg_indexes WHERE tablename = 'booking'")
    with engine.connect() as connection:
        return {name for (name,) in connection.exec_driver_sql(query)}


def _stored(engine: Engine, server_id: int) -> dict[str, tuple[datetime, datetime]]:
    """Bookings as a 0005 database holds them, one per status, at odd times."""
    times = {}
    with engine.begin() as connection:
        account_id = connection.execute(
            select(AccountRow.id).where(AccountRow.name == "bob")  # type: ignore[call-overload]
        ).scalar_one()
        for n, status in enumerate(["booked", "running", "starting", "ending", "finished",
                                    "cancelled", "failed"]):
            start = NOW + timedelta(hours=n, minutes=n, microseconds=n * 1001)
            end = start + timedelta(days=1, seconds=n)
            connection.execute(insert(BookingRow).values(  # type: ignore[call-overload]
                server_id=server_id, account_id=account_id, status=status, start_at=start,
                end_at=end, cpus=1.0, memory=1, gpus=0, gpu_ids="", port=10001 + n,
                image="lab/gpu:1", command=None, created_at=NOW,
            ))
            times[status] = (start, end)
    return times


def test_0006_gives_stored_bookings_their_microseconds_and_the_way_down_keeps_them(
    engine: Engine,
) -> None:
    _alembic(engine, "0005")
    server_id = ensure_server(engine, "lab")
    with SqlUnitOfWork(engine, server_id) as uow:
        uow.accounts.add(Account(name="bob"))
        uow.commit()
    times = _stored(engine, server_id)

    migrate(engine)

    assert _holding_index(engine) == list(HOLDING_INDEX_COLUMNS)
    assert ("ix_booking_holding_length" in _index_names(engine)) == (engine.dialect.name == "sqlite")
    with SqlUnitOfWork(engine, server_id) as uow:
        spans = uow.bookings.spans_between(NOW - timedelta(days=1), NOW + timedelta(days=3))
        added = uow.bookings.add(Booking(
            account="bob", start=NOW + timedelta(days=2), end=NOW + timedelta(days=3),
            resources=Resources(1, 1, 0), gpu_ids=(), port=10100, image="lab/gpu:1"))
        uow.commit()
    holding = {"booked", "running", "starting", "ending"}
    assert sorted((s[2], s[3]) for s in spans) == sorted(
        (micros(start), micros(end)) for status, (start, end) in times.items() if status in holding)
    with SqlUnitOfWork(engine, server_id) as uow:
        late = uow.bookings.spans_between(NOW + timedelta(days=2), NOW + timedelta(days=4))
    assert [s[0] for s in late] == [added.id]

    _alembic(engine, "0005", down=True)
    columns = {c["name"] for c in inspect(engine).get_columns("booking")}
    assert "start_us" not in columns and "end_us" not in columns
    assert "ix_booking_holding_length" not in _index_names(engine)
    assert _holding_index(engine) == ["server_id", "end_at", "start_at", "account_id", "cpus",
                                      "memory", "gpu_ids", "port"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM booking")).scalar() == len(times) + 1
    migrate(engine)
    with SqlUnitOfWork(engine, server_id) as uow:
        assert len(uow.bookings.spans_between(NOW - timedelta(days=1), NOW + timedelta(days=4))) == 5


def test_the_decision_reads_holding_bookings_through_the_partial_index(tmp_path: Path) -> None:
    """On SQLite, past bookings stay out of the decision's read: the query searches the
    partial index of holding bookings by server and a range of ends, bounded by the longest
    holding booking (read from the index of their lengths)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'booking.db'}")
    migrate(engine)
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + SqlBookings._SPANS_SQLITE, {"server": 1, "start": 0, "end": 1}
        ).fetchall()
    engine.dispose()
    assert [row[-1] for row in plan] == [
        "SEARCH booking USING INDEX ix_booking_holding (server_id=? AND end_us>? AND end_us<?)",
        "SCALAR SUBQUERY 1",
        "SEARCH booking USING INDEX ix_booking_holding_length (server_id=?)",
    ]
