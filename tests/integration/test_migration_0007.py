"""Migration 0007 on real SQLite and real PostgreSQL: a database with bookings gets the
maintenance table, its windows get their generated microseconds, bookings stay as they
were, and the way down removes only the table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, inspect, text

from core.domain.allocation import micros
from core.domain.model import Account, Booking, Resources
from storage.engine import MIGRATIONS, make_engine, migrate
from storage.maintenance import SqlMaintenance
from storage.uow import SqlUnitOfWork, ensure_server

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


def test_0007_adds_maintenance_windows_to_a_database_with_bookings(engine: Engine) -> None:
    _alembic(engine, "0006")
    server_id = ensure_server(engine, "lab")
    with SqlUnitOfWork(engine, server_id) as uow:
        uow.accounts.add(Account(name="bob"))
        uow.bookings.add(Booking(
            account="bob", start=NOW, end=NOW + timedelta(days=1), resources=Resources(1, 1, 1),
            gpu_ids=(0,), port=10001, image="lab/gpu:1"))
        uow.commit()
    assert "maintenance" not in inspect(engine).get_table_names()

    migrate(engine)

    start = NOW + timedelta(hours=2, microseconds=7)
    with SqlUnitOfWork(engine, server_id) as uow:
        window = uow.maintenance.add(start=start, end=start + timedelta(hours=3), gpu_ids=(0, 1),
                                     reason="new PSU", actor="root")
        uow.commit()
    with SqlUnitOfWork(engine, server_id) as uow:
        assert [w.id for w in uow.maintenance.between(NOW, NOW + timedelta(days=1))] == [window.id]
        assert uow.maintenance.between(NOW + timedelta(days=1), NOW + timedelta(days=2)) == []
        assert len(uow.bookings.spans_between(NOW, NOW + timedelta(days=1))) == 1
    with engine.connect() as connection:
        assert connection.execute(text("SELECT start_us FROM maintenance")).scalar() == micros(start)

    _alembic(engine, "0006", down=True)
    assert "maintenance" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM booking")).scalar() == 1


def test_the_decision_reads_windows_through_their_index(tmp_path: Path) -> None:
    """The one extra read of a booking decision searches the windows by server and end, so
    past windows do not slow it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'booking.db'}")
    migrate(engine)
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + SqlMaintenance._BETWEEN, {"server": 1, "start": 0, "end": 1}
        ).fetchall()
    engine.dispose()
    assert [row[-1] for row in plan] == [
        "SEARCH maintenance USING INDEX ix_maintenance_server_end (server_id=? AND end_us>?)"]
