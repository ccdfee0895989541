"""The service on real SQLite and real PostgreSQL."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.bootstrap import App, Environment, build
from core.domain.model import ErrorCode, Refusal, Resources, Status
from core.services.capacity import BookingRequest
from storage.engine import make_engine
from tests.factories import write_config


def add_members(app: App, *names: str) -> None:
    for name in names:
        app.service.add_account(name)


def test_schema_is_migrated_on_start_and_start_is_repeatable(
    make_app: Callable[..., App], database_url: str
) -> None:
    make_app().service.add_account("bob")
    again = make_app()  # a second start upgrades nothing and loses nothing
    tables = set(inspect(make_engine(database_url)).get_table_names())
    assert {"server", "account", "booking", "booking_event", "conversation",
            "alembic_version"} <= tables
    assert [a.name for a in again.service.accounts()] == ["bob"]


def test_book_list_extend_cancel_round_trip(make_app: Callable[..., App]) -> None:
    app = make_app()
    add_members(app, "bob", "carol")
    service = app.service
    booking = service.book(BookingRequest("bob", Resources(2.5, 8, 2), "now", "1-day"))
    assert booking.gpu_ids == (0, 1)
    fresh = make_app().service  # another process would see the same
    [listed] = fresh.bookings("bob")
    assert (listed.id, listed.resources, listed.gpu_ids, listed.start) == (
        booking.id, Resources(2.5, 8, 2), (0, 1), booking.start)
    assert listed.start.tzinfo is not None
    extended = fresh.extend(booking.id or 0, "1-day", actor="bob")
    with pytest.raises(Refusal) as caught:
        fresh.cancel(booking.id or 0, actor="carol")
    assert caught.value.code == ErrorCode.NOT_FOUND
    cancelled = fresh.cancel(booking.id or 0, actor="bob")
    assert cancelled.status == Status.CANCELLED
    assert service.bookings("bob") == []
    [kept] = service.bookings("bob", history=True)
    assert kept.end == extended.end
    with service.unit() as uow:
        kinds = [e.kind for e in uow.bookings.events(booking.id or 0)]
    assert kinds == ["created", "extended", "cancelled"]


def test_conversation_state_is_kept_in_the_database(make_app: Callable[..., App]) -> None:
    app = make_app()
    add_members(app, "bob")
    app.conversation.handle(app.service.account("bob"), "book 1 gpu now")
    restarted = make_app()
    [reply] = restarted.conversation.handle(restarted.service.account("bob"), "2-day")
    assert reply.text.startswith("Booked: #1 [booked] bob")


def _race_worker(config: str, url: str, members: list[str], results: multiprocessing.Queue[str]) -> None:
    import threading

    app = build(Environment(booking_config=Path(config), booking_database_url=url))
    barrier = threading.Barrier(len(members))

    def one(member: str) -> None:
        barrier.wait()
        try:
            app.service.book(BookingRequest(member, Resources(3, 8, 1), "now", "1-day"))
            results.put("booked")
        except Refusal as refusal:
            results.put(refusal.code.value)

    threads = [threading.Thread(target=one, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_racing_processes_create_exactly_the_bookings_that_fit(
    tmp_path: Path, database_url: str
) -> None:
    """12 members in 3 processes x 4 threads race for 4 GPUs: exactly 4 win."""
    config = write_config(tmp_path / "race.yaml")
    app = build(Environment(booking_config=config, booking_database_url=database_url))
    members = [f"m{i:02d}" for i in range(12)]
    add_members(app, *members)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [
        context.Process(target=_race_worker,
                        args=(str(config), database_url, members[i::3], results))
        for i in range(3)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    outcomes = sorted(results.get(timeout=5) for _ in members)
    assert outcomes == ["booked"] * 4 + ["no_capacity"] * 8
    held = app.service.bookings()
    assert len(held) == 4
    assert sorted(g for b in held for g in b.gpu_ids) == [0, 1, 2, 3]
    assert len({b.port for b in held}) == 4
    assert sum(b.resources.cpus for b in held) <= 16
