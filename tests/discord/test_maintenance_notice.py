"""A maintenance window added from Discord's `/capacity maintenance` tells the member whose
booking it meets in a Discord direct message, with *Cancel* and *Book from ...* buttons
that work (README, "Maintenance windows"), through discord.py against the stand-in."""

from __future__ import annotations

import asyncio

from bot import bootstrap
from bot.discord.notifier import DiscordNotifier
from bot.log_notifier import LogNotifier
from core.domain.model import Resources, Status
from core.domain.passwords import PasswordDeriver
from core.services.capacity import BookingRequest
from core.services.outbox import OutboxSender
from storage.uow import SqlUnitOfWork
from tests.discord.conftest import ALICE, BOB, connected, labels, slash
from tests.discord.fake_discord import dm_channel_id


def test_the_member_is_told_in_a_dm_with_cancel_and_book_from(app: bootstrap.App) -> None:
    service = app.service
    held = service.book(BookingRequest("bob", Resources(2, 8, 1), "2-day", "1-day"))
    start = f"{held.start.astimezone(service.zone_of(None)):%Y %m %d %H %M}"
    assert app.engine is not None
    engine = app.engine

    async def scenario() -> None:
        async with connected(app) as discord_:
            await discord_.interact(slash(ALICE, "capacity", "maintenance",
                                          {"text": f"add yes {start} to 1-day reason new fans"}))
            notifier = DiscordNotifier(discord_.bot, service, timeout=10)
            sender = OutboxSender(uow=lambda: SqlUnitOfWork(engine, app.server_id),
                                  passwords=PasswordDeriver(b"x" * 32),
                                  notifiers=[("discord", notifier)],
                                  fallback=("stdout", LogNotifier()), clock=service.now)
            assert await asyncio.to_thread(sender.flush) == 1
            [told] = [c.answer for c in discord_.fake.find(
                "POST", f"/channels/{dm_channel_id(BOB)}/messages")]
            assert "new fans" in told["content"] and f"#{held.id}" in told["content"]
            [[cancel], [book_from]] = labels(told)
            assert cancel == f"Cancel #{held.id}" and book_from.startswith("Book from ")

            moved = await discord_.press(BOB, told, "Book from")
            [old, new] = sorted(service.bookings("bob", history=True), key=lambda b: b.id or 0)
            assert new.start >= held.end and new.end - new.start == held.end - held.start
            assert moved.message["content"].startswith(f"Booked: #{new.id} [booked] bob: <t:")
            assert old.id == held.id and service.get(old.id or 0).status == Status.BOOKED
            # the old booking stays until cancelled: its Cancel on the copy shown before
            asked = await discord_.press(BOB, told, f"Cancel #{held.id}", stale=True)
            assert labels(asked.message) == [[f"Yes, cancel #{held.id}", "No, keep it"]]
            await discord_.press(BOB, told, "Yes")
            assert service.get(held.id or 0).status == Status.CANCELLED

    asyncio.run(scenario())
