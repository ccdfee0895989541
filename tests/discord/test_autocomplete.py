"""Autocomplete answers for `/schedule` options."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

from bot import bootstrap
from bot.discord.reading import within_budget
from core.domain.model import Resources
from core.services.capacity import BookingRequest
from storage.uow import SqlUnitOfWork
from tests.discord.conftest import ALICE, BOB, GPUS, connected, slash


def test_start_offers_now_and_when_the_gpus_free_up(app: bootstrap.App) -> None:
    service = app.service
    service.set_limits("alice", {"gpus": "max"})

    async def scenario() -> None:
        async with connected(app) as discord_:
            await discord_.reply(slash(ALICE, "schedule", "book",
                                       {"start": "now", "end": "1-day", "gpus": GPUS}))
            (alices,) = service.bookings("alice")
            free_at = alices.end.astimezone(service.zone_of(service.account("bob")))

            choices = await discord_.choices(
                slash(BOB, "schedule", "book", {"gpus": 1, "start": ""}, focused="start"))
            values = [c["value"] for c in choices]
            assert values[0] == "now"
            assert f"{free_at:%Y %m %d %H %M}" in values
            offered = next(c for c in choices if c["value"] == f"{free_at:%Y %m %d %H %M}")
            assert "1 GPU" not in offered["name"] and f"{GPUS} GPUs" in offered["name"]

    asyncio.run(scenario())


def test_start_keeps_what_the_member_typed(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            choices = await discord_.choices(
                slash(BOB, "schedule", "book", {"start": "tomorrow 9am"}, focused="start"))
            assert choices[0] == {"name": "tomorrow 9am", "value": "tomorrow 9am"}

    asyncio.run(scenario())


def test_end_and_image_choices(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            ends = await discord_.choices(
                slash(BOB, "schedule", "book", {"start": "now", "end": ""}, focused="end"))
            assert [c["value"] for c in ends] == ["1-day", "3-day", "1-week"]
            weeks = await discord_.choices(
                slash(BOB, "schedule", "book", {"start": "now", "end": "week"}, focused="end"))
            assert [c["value"] for c in weeks] == ["week", "1-week"]
            images = await discord_.choices(
                slash(BOB, "schedule", "book", {"image": ""}, focused="image"))
            assert [c["value"] for c in images] == app.config.images.allowed

    asyncio.run(scenario())


def test_cancel_suggests_only_the_members_own_bookings(app: bootstrap.App) -> None:
    service = app.service

    async def scenario() -> None:
        async with connected(app) as discord_:
            await discord_.reply(slash(ALICE, "schedule", "book", {"start": "now", "end": "1-day"}))
            await discord_.reply(slash(BOB, "schedule", "book", {"start": "now", "end": "3-day"}))
            (bobs,) = service.bookings("bob")
            choices = await discord_.choices(
                slash(BOB, "schedule", "cancel", {"booking": ""}, focused="booking"))
            assert [c["value"] for c in choices] == [bobs.id]
            assert choices[0]["name"].startswith(f"#{bobs.id} ")

    asyncio.run(scenario())


@contextlib.contextmanager
def _write_lock_held(app: bootstrap.App) -> Iterator[None]:
    """Another thread in a write transaction (SQLite: BEGIN IMMEDIATE), as a booking
    being made holds it, until the block ends."""
    assert app.engine is not None
    engine, taken, release = app.engine, threading.Event(), threading.Event()

    def writer() -> None:
        with SqlUnitOfWork(engine, app.server_id) as uow:
            uow.accounts.all()  # the transaction has begun: the write lock is held
            taken.set()
            release.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()


def test_autocomplete_answers_at_once_while_a_booking_is_being_written(
    app: bootstrap.App,
) -> None:
    booking = app.service.book(BookingRequest("bob", Resources(1, 1, 1), "now", "1-day"))

    async def scenario() -> None:
        async with connected(app) as discord_:
            with _write_lock_held(app):
                began = time.monotonic()
                mine = await discord_.choices(
                    slash(BOB, "schedule", "cancel", {"booking": ""}, focused="booking"))
                starts = await discord_.choices(
                    slash(BOB, "schedule", "book", {"gpus": 1, "start": ""}, focused="start"))
                took = time.monotonic() - began
            assert [c["value"] for c in mine] == [booking.id]
            assert mine[0]["name"].startswith(f"#{booking.id} ")
            assert starts[0] == {"name": "now", "value": "now"}
            assert took < 2.5  # both, well within Discord's 3 seconds each

    asyncio.run(scenario())


def test_a_read_past_its_budget_is_answered_without_it() -> None:
    def slow() -> list[str]:
        time.sleep(1)
        return ["late"]

    async def scenario() -> tuple[list[str], float]:
        began = time.monotonic()
        answer = await within_budget(slow, ["known"], "a test", budget=0.1)
        return answer, time.monotonic() - began

    answer, took = asyncio.run(scenario())
    assert answer == ["known"] and took < 0.5
