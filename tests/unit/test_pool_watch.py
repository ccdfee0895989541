"""A pool's health (issue 14): heartbeats and the pool watch on real SQLite and PostgreSQL,
with a fake clock, the real outbox and words. What admins and members see: a server silent
for a minute is down, told once to the admins and to the members of its bookings that run
now or start within a day; when it beats again the admins are told it is back, once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, inspect, select
from sqlmodel import Session

from bot.pool_health import start_heartbeat
from core.chat import pool_words
from core.domain.model import Account, Booking, Resources, Status
from core.domain.passwords import PasswordDeriver
from core.domain.server_health import ServerHealth
from core.domain.zones import member_zone
from core.services.accounts import admin_names
from core.services.outbox import OutboxSender
from core.services.pool_watch import PoolWatch
from storage.engine import MIGRATIONS, make_engine, migrate
from storage.heartbeat import record_heartbeat
from storage.tables import ServerHeartbeatRow
from storage.uow import SqlUnitOfWork, ensure_server
from tests.factories import Clock, make_config
from tests.integration.scheduler_world import RecordingNotifier

NOW = datetime(2031, 5, 6, 6, 0, tzinfo=UTC)  # 14:00 in Taipei
CONFIG = make_config()  # admins: alice; times in Asia/Taipei


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (f"sqlite:///{tmp_path / 'db.sqlite'}" if request.param == "sqlite"
           else str(request.getfixturevalue("postgres_url")))
    built = make_engine(url)
    migrate(built)
    yield built
    built.dispose()


class Pool:
    """Servers gpu1 and gpu2 in one database; gpu1's host watches (and sends its outbox)."""

    def __init__(self, engine: Engine, words: Any = pool_words) -> None:
        self.engine = engine
        self.clock = Clock(NOW)
        self.ids = {name: ensure_server(engine, name) for name in ("gpu1", "gpu2")}
        with SqlUnitOfWork(engine, self.ids["gpu1"]) as uow:
            for name in ("alice", "bob", "carol", "dave", "erin"):
                uow.accounts.add(Account(name=name))
            uow.commit()
        self.watch = self.watcher("gpu1", words)
        self.chat = RecordingNotifier()

    def watcher(self, server: str, words: Any = pool_words) -> PoolWatch:
        return PoolWatch(uow=lambda: SqlUnitOfWork(self.engine, self.ids[server]), words=words,
                         clock=self.clock, admins=partial(admin_names, config=CONFIG),
                         zone=partial(member_zone, config=CONFIG))

    def beat(self, *servers: str) -> None:
        for server in servers:
            record_heartbeat(self.engine, self.ids[server], gpus=4, host=f"{server}.lab",
                             now=self.clock())

    def book(self, server: str, account: str, start_hours: float, hours: float,
             status: Status = Status.BOOKED) -> int:
        start = NOW + timedelta(hours=start_hours)
        with SqlUnitOfWork(self.engine, self.ids[server]) as uow:
            booking = uow.bookings.add(Booking(account, start, start + timedelta(hours=hours),
                                               Resources(2, 8, 1), (0,), 10001, "lab/gpu:1",
                                               status=status))
            uow.commit()
        assert booking.id is not None
        return booking.id

    def delivered(self, server: str = "gpu1") -> dict[str, list[str]]:
        """Sends `server`'s outbox; what each member got, by name."""
        sender = OutboxSender(uow=lambda: SqlUnitOfWork(self.engine, self.ids[server]),
                              passwords=PasswordDeriver(b"pool-test-secret-0123456789"),
                              notifiers=[("chat", self.chat)], fallback=("log", self.chat),
                              clock=self.clock)
        sender.flush()
        got: dict[str, list[str]] = {}
        for name, message in self.chat.sent:
            got.setdefault(name, []).append(message.text)
        self.chat.sent.clear()
        return got

    def lines(self) -> list[str]:
        zone = ZoneInfo("Asia/Taipei")
        return [pool_words.server_line(h, self.clock(), zone) for h in self.watch.health()]


def test_a_silent_server_is_told_once_to_admins_and_its_members_then_back_once(
        engine: Engine) -> None:
    pool = Pool(engine)
    running = pool.book("gpu2", "bob", -1, 6, Status.RUNNING)
    soon = pool.book("gpu2", "carol", 3, 4)
    pool.book("gpu2", "erin", 30, 4)  # starts beyond the next 24 hours
    pool.book("gpu2", "erin", -5, 2, Status.FINISHED)
    pool.book("gpu1", "dave", -1, 6, Status.RUNNING)  # on the server that is up
    pool.beat("gpu1", "gpu2")
    assert pool.watch.check() == []
    assert pool.lines() == ["gpu1: up", "gpu2: up"]

    pool.clock.advance(seconds=60)  # a minute without gpu2: not yet down
    pool.beat("gpu1")
    assert pool.watch.check() == []
    pool.clock.advance(seconds=1)
    pool.beat("gpu1")
    assert pool.watch.check() == ["gpu2 down"]
    assert pool.lines() == ["gpu1: up",
                            "gpu2: down, not heard from since 2031-05-06 14:00 CST"]
    got = pool.delivered()
    assert sorted(got) == ["alice", "bob", "carol"]
    assert got["alice"] == [
        "gpu2 is down: not heard from since 2031-05-06 14:00 CST (its `booking serve` beats "
        "every few seconds; silent for over 60 s). Its bookings wait for it: they are not "
        "moved, since their files live on gpu2. Once gpu2 is back it takes up its bookings "
        "again."]
    assert got["bob"] == [
        f"The server gpu2 is down (not heard from since 2031-05-06 14:00 CST): your booking "
        f"#{running} there (until 2031-05-06 19:00 CST) may be out of reach until gpu2 is "
        "back. It is not moved to another server, because its files live on gpu2. The admins "
        "have been told."]
    assert got["carol"] == [
        f"The server gpu2 is down (not heard from since 2031-05-06 14:00 CST): your booking "
        f"#{soon} there (2031-05-06 17:00 CST -> 2031-05-06 21:00 CST) cannot start until "
        "gpu2 is back. It is not moved to another server, because its files live on gpu2. "
        "The admins have been told."]

    pool.clock.advance(minutes=10)  # still silent: nobody is told again
    pool.beat("gpu1")
    assert pool.watch.check() == [] and pool.delivered() == {}

    pool.beat("gpu2")
    assert pool.watch.check() == ["gpu2 back"]
    assert pool.delivered() == {
        "alice": ["gpu2 is back (heard from at 2031-05-06 14:11 CST); it takes up its bookings "
                  "again."]}
    assert pool.watch.check() == [] and pool.delivered() == {}
    assert pool.lines() == ["gpu1: up", "gpu2: up"]

    pool.clock.advance(seconds=61)  # silent again later: told again, as a new outage
    pool.beat("gpu1")
    assert pool.watch.check() == ["gpu2 down"]
    assert sorted(pool.delivered()) == ["alice", "bob", "carol"]


def test_a_server_never_heard_from_is_shown_down_but_nobody_is_told(engine: Engine) -> None:
    pool = Pool(engine)
    pool.book("gpu2", "bob", 1, 2)
    pool.beat("gpu1")
    assert pool.lines() == ["gpu1: up", "gpu2: down, not heard from yet"]
    pool.clock.advance(hours=1)
    pool.beat("gpu1")
    assert pool.watch.check() == [] and pool.delivered() == {}


class SlowWords:
    """The real words, slowed: a second watcher arrives while the first is still telling."""

    def __getattr__(self, name: str) -> Any:
        said = getattr(pool_words, name)

        def slowly(*args: Any) -> Any:
            time.sleep(0.2)
            return said(*args)

        return slowly


def test_two_hosts_watching_at_once_tell_once(engine: Engine) -> None:
    pool = Pool(engine, SlowWords())
    pool.book("gpu2", "bob", -1, 6, Status.RUNNING)
    pool.beat("gpu1", "gpu2")
    pool.clock.advance(seconds=61)
    pool.beat("gpu1")
    pool.ids["gpu3"] = ensure_server(engine, "gpu3")
    pool.beat("gpu3")
    watchers = [pool.watcher("gpu1", SlowWords()), pool.watcher("gpu3", SlowWords())]
    start = threading.Barrier(2)
    told: list[list[str]] = []

    def check(watch: PoolWatch) -> None:
        start.wait()
        told.append(watch.check())

    threads = [threading.Thread(target=check, args=(w,)) for w in watchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(told) == [[], ["gpu2 down"]]
    got = [pool.delivered("gpu1"), pool.delivered("gpu3")]
    assert sorted(sorted(g) for g in got) == [[], ["alice", "bob"]]
    assert [len(texts) for g in got for texts in g.values()] == [1, 1]


def test_the_heartbeat_thread_outlives_a_database_error_and_stops_when_asked(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")  # no tables yet
    stop = threading.Event()
    with caplog.at_level(logging.WARNING, logger="bot.pool_health"):
        thread = start_heartbeat(engine, 1, 4, stop, every=0.05)
        _until(lambda: caplog.records)
    assert "heartbeat of server 1 not recorded (will retry)" in caplog.records[0].getMessage()
    assert thread.is_alive()
    migrate(engine)
    assert ensure_server(engine, "gpu1") == 1

    def stored() -> ServerHeartbeatRow | None:
        with Session(engine) as session:
            return session.scalars(select(ServerHeartbeatRow)).first()

    _until(stored)
    row = stored()
    assert row is not None and row.gpus == 4 and row.host
    assert abs(row.seen_at - datetime.now(UTC)) < timedelta(seconds=5)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    engine.dispose()


def _until(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_heartbeats_are_kept_per_server_and_a_beat_keeps_the_told_mark(engine: Engine) -> None:
    gpu1, gpu2 = ensure_server(engine, "gpu1"), ensure_server(engine, "gpu2")
    record_heartbeat(engine, gpu1, gpus=None, host="x" * 300, now=NOW)
    record_heartbeat(engine, gpu1, gpus=2, host="h1", now=NOW + timedelta(seconds=10))
    with SqlUnitOfWork(engine, gpu1) as uow:
        uow.heartbeats.lock_all()
        uow.heartbeats.mark_down_told(gpu1, NOW + timedelta(minutes=2))
        assert uow.heartbeats.holding_on(gpu2, starts_before=NOW, ends_after=NOW) == []
        uow.commit()
    record_heartbeat(engine, gpu1, gpus=2, host="h1", now=NOW + timedelta(minutes=3))
    with SqlUnitOfWork(engine, gpu2) as uow:
        assert uow.heartbeats.all() == [
            ServerHealth("gpu1", NOW + timedelta(minutes=3), 2, NOW + timedelta(minutes=2), gpu1),
            ServerHealth("gpu2", None, None, None, gpu2)]


def test_0009_adds_the_heartbeat_table_and_the_way_down_removes_it(engine: Engine) -> None:
    assert "server_heartbeat" in inspect(engine).get_table_names()
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    tables = inspect(engine).get_table_names()
    assert "server_heartbeat" not in tables and "waitlist" in tables
    migrate(engine)
    assert "server_heartbeat" in inspect(engine).get_table_names()


def test_a_server_outside_the_pool_is_never_reported(engine: Engine) -> None:
    pool = Pool(engine)
    pool.book("gpu2", "bob", -1, 6, Status.RUNNING)
    pool.beat("gpu1", "gpu2")
    # gpu2 was taken out of this installation's config: its silence is nobody's news.
    watch = PoolWatch(uow=lambda: SqlUnitOfWork(engine, pool.ids["gpu1"]), words=pool_words,
                      clock=pool.clock, admins=partial(admin_names, config=CONFIG),
                      zone=partial(member_zone, config=CONFIG), servers=["gpu1"])
    pool.clock.advance(seconds=120)
    pool.beat("gpu1")
    assert watch.check() == []
    assert [h.name for h in watch.health()] == ["gpu1"]
    assert pool.delivered() == {}
    # The watch of a pool that has it reports it.
    assert pool.watch.check() == ["gpu2 down"]
