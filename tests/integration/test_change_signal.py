"""The scheduler is woken by a booking change made on another connection, on real SQLite
(PRAGMA data_version, polled) and real PostgreSQL (NOTIFY in the booking's transaction)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Engine

from core.chat import notice_words
from core.domain.config import Config
from core.domain.gpus import GpuInventory
from core.domain.model import Account, Resources
from core.runtime.scheduler import Scheduler
from core.services.accounts import utcnow
from core.services.booking import BookingService
from core.services.capacity import BookingRequest
from core.services.container_runtime import ContainerRuntime
from core.services.lifecycle import Lifecycle
from core.services.outbox import OutboxSender
from core.services.ports import SchedulerUnitOfWork
from storage.change_signal import change_feed
from storage.engine import make_engine, migrate
from storage.uow import SqlUnitOfWork, ensure_server
from tests.factories import make_config


@pytest.fixture
def engines(database_url: str) -> Iterator[tuple[Engine, Engine, int]]:
    """The scheduler's engine, and another one (its own connections) for the changes."""
    ours, theirs = make_engine(database_url), make_engine(database_url)
    migrate(ours)
    server_id = ensure_server(ours, "gpu1")
    with SqlUnitOfWork(theirs, server_id) as uow:
        for name in ("bob", "carol"):
            uow.accounts.add(Account(name=name, display_name=name))
        uow.commit()
    yield ours, theirs, server_id
    ours.dispose()
    theirs.dispose()


def _drain(feed: Any) -> None:
    while feed.wait(0.3):  # the first look (or a fresh connection) reports a change
        pass


def _record_event(engine: Engine, server_id: int) -> None:
    service = BookingService(config=make_config(), uow=lambda: SqlUnitOfWork(engine, server_id),
                             gpus=GpuInventory(4), notices=notice_words)
    booking = service.book(BookingRequest("bob", Resources(1, 1, 0), "1-day", "1-day"))
    assert booking.id is not None
    with SqlUnitOfWork(engine, server_id) as uow:
        uow.bookings.record(booking.id, "note", "test")
        uow.commit()


def test_the_feed_wakes_on_a_commit_elsewhere_and_not_on_a_rollback(
    engines: tuple[Engine, Engine, int],
) -> None:
    ours, theirs, server_id = engines
    feed = change_feed(ours, server_id)
    try:
        _drain(feed)
        assert feed.wait(0.3) is False
        _record_event(theirs, server_id)  # a booking, committed; then an event
        started = time.monotonic()
        assert feed.wait(2.0) is True
        assert time.monotonic() - started < 1.5
        _drain(feed)
        with SqlUnitOfWork(theirs, server_id) as uow:  # a rolled back change says nothing
            [booking, *_] = uow.bookings.all_after(datetime(2000, 1, 1, tzinfo=UTC))
            assert booking.id is not None
            uow.bookings.record(booking.id, "note", "test")
        assert feed.wait(1.5) is False
    finally:
        feed.close()


@pytest.mark.postgres
def test_postgres_notifies_only_the_changed_servers_scheduler(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    migrate(engine)
    this, other = ensure_server(engine, "gpu1"), ensure_server(engine, "gpu2")
    with SqlUnitOfWork(engine, other) as uow:
        uow.accounts.add(Account(name="bob", display_name="bob"))
        uow.commit()
    feed = change_feed(engine, this)
    try:
        _drain(feed)
        _record_event(engine, other)
        assert feed.wait(1.0) is False
    finally:
        feed.close()
        engine.dispose()


def test_closing_the_feed_stops_a_wait_at_once(engines: tuple[Engine, Engine, int]) -> None:
    ours, _theirs, server_id = engines
    feed = change_feed(ours, server_id)
    _drain(feed)
    threading.Timer(0.2, feed.close).start()
    started = time.monotonic()
    assert feed.wait(5.0) is False
    assert time.monotonic() - started < 1.5
    assert feed.wait(5.0) is False  # closed for good


class _RecordingLifecycle:
    """Stands in for Lifecycle: notes when the scheduler asks a booking to advance."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, datetime]] = []
        self.retry_later: Callable[[int, float], None] = lambda booking_id, delay: None

    def advance(self, booking_id: int, *, verify: bool = False) -> None:
        self.calls.append((booking_id, datetime.now(UTC)))

    def first_call(self, booking_id: int, timeout: float) -> datetime | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for called, at in list(self.calls):
                if called == booking_id:
                    return at
            time.sleep(0.02)
        return None


class _NoContainers:
    def list_managed(self) -> list[Any]:
        return []


class _NoOutbox:
    def flush(self) -> None:
        pass


def _scheduler(config: Config, engine: Engine, server_id: int, lifecycle: _RecordingLifecycle,
               *, wake: bool) -> Scheduler:
    uow = cast(Callable[[], SchedulerUnitOfWork], lambda: SqlUnitOfWork(engine, server_id))
    return Scheduler(
        config=config, uow=uow, runtime=cast(ContainerRuntime, _NoContainers()),
        lifecycle=cast(Lifecycle, lifecycle), outbox=cast(OutboxSender, _NoOutbox()),
        clock=utcnow, changes=change_feed(engine, server_id) if wake else None)


@pytest.mark.parametrize("wake", [True, False], ids=["woken", "reconcile-only"])
def test_a_booking_made_on_another_connection_is_advanced_within_two_seconds(
    engines: tuple[Engine, Engine, int], wake: bool,
) -> None:
    ours, theirs, server_id = engines
    # No periodic pass to fall back on: only a wake-up can start it.
    config = make_config(scheduler={"reconcile_seconds": 3600})
    lifecycle = _RecordingLifecycle()
    scheduler = _scheduler(config, ours, server_id, lifecycle, wake=wake)
    elsewhere = BookingService(config=config, uow=lambda: SqlUnitOfWork(theirs, server_id),
                               gpus=GpuInventory(4), notices=notice_words)  # no in-process listener
    scheduler.start()
    try:
        time.sleep(1.5)  # the start-up pass and the feed's first look are over
        booked = elsewhere.book(BookingRequest("bob", Resources(1, 1, 0), "now", "1-day"))
        committed = datetime.now(UTC)
        assert booked.id is not None
        advanced = lifecycle.first_call(booked.id, timeout=3.0)
        if not wake:
            assert advanced is None
            return
        assert advanced is not None, "not woken"
        assert advanced - committed < timedelta(seconds=2)
        # A change of an existing booking (here: a restart request of a running one is
        # only an event) wakes it too.
        time.sleep(1.2)
        lifecycle.calls.clear()
        with SqlUnitOfWork(theirs, server_id) as uow:
            uow.bookings.record(booked.id, "restart_requested", "bob")
            uow.commit()
        committed = datetime.now(UTC)
        again = lifecycle.first_call(booked.id, timeout=3.0)
        assert again is not None, "not woken by the second change"
        assert again - committed < timedelta(seconds=2)
    finally:
        scheduler.stop()
