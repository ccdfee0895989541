"""The waitlist table (migration 0008) and its repository on real SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, inspect

from core.domain.model import Account, Resources, Window
from core.domain.waitlist_match import WaitlistEntry
from storage.engine import MIGRATIONS, make_engine, migrate
from storage.uow import SqlUnitOfWork, ensure_server

NOW = datetime(2031, 5, 6, 7, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    yield built
    built.dispose()


def _entry(account: str, hours: int, *, auto: bool = False) -> WaitlistEntry:
    start = NOW + timedelta(hours=hours)
    return WaitlistEntry(account, Resources(2.5, 8, 1), Window(start, start + timedelta(hours=4)),
                         auto, "lab/gpu:1", "python train.py > log")


def test_entries_are_stored_read_offered_and_dropped(engine: Engine) -> None:
    migrate(engine)
    server_id = ensure_server(engine, "lab")
    with SqlUnitOfWork(engine, server_id) as uow:
        for name in ("bob", "carol"):
            uow.accounts.add(Account(name=name))
        first = uow.waitlist.add(_entry("bob", 1), NOW)
        second = uow.waitlist.add(_entry("carol", 10, auto=True), NOW)
        uow.waitlist.add(_entry("bob", -5), NOW)  # its window ended at NOW - 1h
        uow.commit()
    with SqlUnitOfWork(engine, server_id) as uow:
        assert uow.waitlist.remove_ended(NOW) == 1
        bobs = uow.waitlist.of_account("bob")
        assert [e.id for e in bobs] == [first]
        assert bobs[0] == WaitlistEntry(
            "bob", Resources(2.5, 8, 1), Window(NOW + timedelta(hours=1), NOW + timedelta(hours=5)),
            False, "lab/gpu:1", "python train.py > log", first, None, bobs[0].created)
        # Only entries starting before the freed end and ending after the given time.
        found = uow.waitlist.starting_before(NOW + timedelta(hours=2), ending_after=NOW)
        assert [e.id for e in found] == [first]
        uow.waitlist.mark_offered(first, NOW + timedelta(hours=3))
        uow.commit()
    with SqlUnitOfWork(engine, server_id) as uow:
        assert uow.waitlist.of_account("bob")[0].offered == NOW + timedelta(hours=3)
        assert uow.waitlist.of_account("carol")[0].auto is True
        uow.waitlist.remove([first, second])
        uow.commit()
    with SqlUnitOfWork(engine, server_id) as uow:
        assert uow.waitlist.of_account("bob") == [] and uow.waitlist.of_account("carol") == []


def test_0008_adds_the_table_and_the_way_down_removes_it(engine: Engine) -> None:
    migrate(engine)
    assert "waitlist" in inspect(engine).get_table_names()
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    tables = inspect(engine).get_table_names()
    assert "waitlist" not in tables and "booking" in tables
