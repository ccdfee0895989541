"""The waitlist and the idle question in Discord (issue 15), through discord.py against the
stand-in: *Notify me* on a refusal, then *Book it* in the direct message a cancel brings;
*Keep* on the idle question, pressed twice, keeps once. Direct messages go out through
the real outbox, as `booking serve` sends them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

from bot import bootstrap
from bot.discord.notifier import DiscordNotifier
from bot.log_notifier import LogNotifier
from core.chat import idle_words
from core.domain.config import IdleSection
from core.domain.model import Resources, Status
from core.domain.passwords import PasswordDeriver
from core.services.capacity import BookingRequest
from core.services.idle_watch import IdleWatch
from core.services.outbox import OutboxSender
from core.services.ports import SchedulerUnitOfWork
from storage.uow import SqlUnitOfWork
from tests.discord.conftest import ALICE, BOB, GPUS, Harness, connected, labels, slash
from tests.discord.fake_discord import dm_channel_id
from tests.factories import Clock
from tests.unit.test_idle_watch import FakeGpus


def _uow(app: bootstrap.App) -> SchedulerUnitOfWork:
    assert app.engine is not None
    return cast(SchedulerUnitOfWork, SqlUnitOfWork(app.engine, app.server_id))


def _sender(app: bootstrap.App, discord_: Harness, clock: Callable[[], datetime]) -> OutboxSender:
    notifier = DiscordNotifier(discord_.bot, app.service, timeout=10)
    return OutboxSender(uow=lambda: _uow(app), passwords=PasswordDeriver(b"x" * 32),
                        notifiers=[("discord", notifier)], fallback=("stdout", LogNotifier()),
                        clock=clock)


def buttons(message: dict[str, Any]) -> list[str]:
    return [label for row in labels(message) for label in row]


def _dms(discord_: Harness, user_id: int) -> list[dict[str, Any]]:
    return [c.answer for c in discord_.fake.find("POST", f"/channels/{dm_channel_id(user_id)}/messages")]


def test_notify_me_on_a_refusal_then_book_it_in_the_dm_after_a_cancel(app: bootstrap.App) -> None:
    service = app.service
    service.set_limits("alice", {"gpus": str(GPUS)})
    alices = service.book(BookingRequest("alice", Resources(1, 1, GPUS), "now", "1-day"))

    async def scenario() -> None:
        async with connected(app) as discord_:
            refused = await discord_.reply(slash(BOB, "schedule", "book", {
                "start": "now", "end": "1-day", "gpus": 1, "cpus": 1, "memory": 1}))
            assert refused["content"].startswith("Not enough free for that window: GPUs (1 asked, 0 free)")
            assert "Notify me" in labels(refused)[0]
            joined = await discord_.press(BOB, refused, "Notify me")
            assert joined.told.startswith(
                "OK: I will message you when 1 CPU, 1 GB, 1 GPU for 1 day fits")
            assert _dms(discord_, BOB) == []

            cancelled = await discord_.reply(slash(ALICE, "schedule", "cancel", {"booking": alices.id}))
            assert cancelled["content"] == f"Booking #{alices.id} is cancelled."
            assert await asyncio.to_thread(_sender(app, discord_, service.now).flush) == 1
            [offer] = _dms(discord_, BOB)
            assert offer["content"].startswith(
                "Room freed up for what you wait for: 1 CPU, 1 GB, 1 GPU for 1 day fits from ")
            assert labels(offer) == [["Book it"]]
            assert service.bookings("bob") == []

            booked = await discord_.press(BOB, offer, "Book it")
            [mine] = service.bookings("bob")
            assert (mine.resources.gpus, mine.end - mine.start) == (1, timedelta(days=1))
            assert booked.message["content"].startswith(f"Booked: #{mine.id} [booked] bob: <t:")
            assert "Book it" not in buttons(booked.message)

    asyncio.run(scenario())


def test_keep_on_the_idle_question_pressed_twice_keeps_once(app: bootstrap.App) -> None:
    service = app.service
    booking = service.book(BookingRequest("bob", Resources(1, 1, 1), "now", "1-day"))
    number = booking.id or 0
    with service.unit() as uow:  # its container came up
        uow.bookings.save(replace(booking, status=Status.RUNNING))
        uow.commit()
    clock = Clock(service.now())
    config = app.config.model_copy(update={"idle": IdleSection(notify_hours=4, threshold_percent=5)})
    watch = IdleWatch(config=config, uow=lambda: _uow(app), gpus=FakeGpus(), words=idle_words,
                      end=lambda booking_id: None, clock=clock)

    def kept() -> int:
        with service.unit() as uow:
            return [e.kind for e in uow.bookings.events(number)].count("idle_kept")

    async def scenario() -> None:
        async with connected(app) as discord_:
            for _ in range(26):  # the GPU at 0% for 4 h 10 min, sampled every 10 minutes
                watch.sample()
                clock.advance(minutes=10)
            assert await asyncio.to_thread(_sender(app, discord_, clock).flush) == 1
            [asked] = _dms(discord_, BOB)
            assert f"of booking #{number} have been idle (below 5% use) since" in asked["content"]
            assert labels(asked) == [[f"Keep #{number}", f"End #{number} now"]]

            first = await discord_.press(BOB, asked, f"Keep #{number}")
            assert first.message["content"].startswith(f"Kept: booking #{number} runs on until")
            assert f"Keep #{number}" not in buttons(first.message)
            # pressed again on the copy that still shows it (a double click, another device)
            second = await discord_.press(BOB, asked, f"Keep #{number}", stale=True)
            assert second.message["content"].startswith(f"Already kept: booking #{number} runs on")
            assert kept() == 1
            assert service.get(number).status == Status.RUNNING

    asyncio.run(scenario())
