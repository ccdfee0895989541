"""The reminder before a booking's end carries Extend and End now, and End now asks first
(issue 12), through discord.py against the stand-in."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot import bootstrap
from bot.discord.notifier import DiscordNotifier
from core.chat import lifecycle_messages as words
from core.domain.model import Resources, Status
from core.services.capacity import BookingRequest
from tests.discord.conftest import BOB, connected, labels
from tests.discord.fake_discord import dm_channel_id


def test_the_reminder_ends_the_booking_only_after_yes(app: bootstrap.App) -> None:
    service = app.service
    booking = service.book(BookingRequest("bob", Resources(1, 1, 0), "now", "1-day"))
    with service.unit() as uow:
        uow.bookings.save(replace(booking, status=Status.RUNNING))
        uow.commit()
    number = booking.id or 0

    async def scenario() -> None:
        async with connected(app) as discord_:
            sender = DiscordNotifier(discord_.bot, service, timeout=10)
            reminder = words.reminder(service.config, booking, service.account("bob"), 30)
            reminder = replace(reminder, actions=tuple(dict(a) for a in reminder.actions))
            assert await asyncio.to_thread(sender.deliver, service.account("bob"), reminder)
            dm = discord_.fake.find("POST", f"/channels/{dm_channel_id(BOB)}/messages")[-1].answer
            assert dm["content"].startswith(f"Booking #{number} ends at <t:")
            (row,) = labels(dm)
            assert row[0].startswith(f"Extend #{number} to ") and row[1] == f"End #{number} now"

            asked = await discord_.press(BOB, dm, f"End #{number}")
            assert labels(asked.message) == [[f"Yes, end #{number}", "No, keep it"]]
            kept = await discord_.press(BOB, dm, "No")
            assert "❓" not in kept.message["content"]
            assert service.get(number).status == Status.RUNNING

            await discord_.press(BOB, dm, f"End #{number}")
            ended = await discord_.press(BOB, dm, "Yes")
            assert ended.message["content"] == (
                f"Booking #{number} ends now; its files are backed up first.")
            assert service.get(number).status != Status.RUNNING or service.get(number).end <= (
                service.now())

    asyncio.run(scenario())
