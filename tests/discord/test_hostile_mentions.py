"""Text an admin or member wrote (a maintenance reason, an admin's `because`) reaches other
people's Discord messages as written, but never pings: every message the bot sends says
`allowed_mentions: {"parse": []}`, so `@everyone`, `<@id>` and role mentions stay text."""

from __future__ import annotations

import asyncio

from bot import bootstrap
from bot.discord.notifier import DiscordNotifier
from bot.log_notifier import LogNotifier
from core.domain.model import Resources
from core.domain.passwords import PasswordDeriver
from core.services.capacity import BookingRequest
from core.services.outbox import OutboxSender
from storage.uow import SqlUnitOfWork
from tests.discord.conftest import ALICE, BOB, connected, slash
from tests.discord.fake_discord import dm_channel_id

PINGS = f"@everyone @here <@{BOB}> <@&42> <!channel>"


def test_a_maintenance_reason_with_mentions_pings_nobody(app: bootstrap.App) -> None:
    service = app.service
    held = service.book(BookingRequest("bob", Resources(2, 8, 1), "2-day", "1-day"))
    start = f"{held.start.astimezone(service.zone_of(None)):%Y %m %d %H %M}"
    assert app.engine is not None
    engine = app.engine

    async def scenario() -> None:
        async with connected(app) as discord_:
            calls = await discord_.interact(slash(
                ALICE, "capacity", "maintenance",
                {"text": f"add yes {start} to 1-day reason fans {PINGS}"}))
            [answer] = [c for c in calls if c.path.startswith("/webhooks/")]
            assert PINGS in answer.body["content"]
            assert answer.body["allowed_mentions"]["parse"] == []
            notifier = DiscordNotifier(discord_.bot, service, timeout=10)
            sender = OutboxSender(uow=lambda: SqlUnitOfWork(engine, app.server_id),
                                  passwords=PasswordDeriver(b"x" * 32),
                                  notifiers=[("discord", notifier)],
                                  fallback=("stdout", LogNotifier()), clock=service.now)
            assert await asyncio.to_thread(sender.flush) == 1
            [told] = discord_.fake.find("POST", f"/channels/{dm_channel_id(BOB)}/messages")
            assert PINGS in told.body["content"]
            assert told.body["allowed_mentions"] == {"parse": []}

    asyncio.run(scenario())
