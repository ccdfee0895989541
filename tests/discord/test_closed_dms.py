"""A member whose direct messages are closed (Discord error 50007) still gets the
service's messages: at their next /schedule, only to them; the admins hear once."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import Any, cast

from bot import bootstrap
from bot.discord.notifier import DiscordNotifier
from bot.log_notifier import LogNotifier
from core.domain.model import Resources
from core.domain.passwords import PASSWORD_PLACEHOLDER, PasswordDeriver
from core.services.capacity import BookingRequest
from core.services.notifier import Message, MessageKind
from core.services.outbox import OutboxSender, enqueue
from core.services.ports import SchedulerUnitOfWork
from storage.uow import SqlUnitOfWork
from tests.discord.conftest import ALICE, BOB, connected, labels, slash
from tests.discord.fake_discord import dm_channel_id

PASSWORDS = PasswordDeriver(b"a test secret of enough bytes!!!")


def _uow(app: bootstrap.App) -> SchedulerUnitOfWork:
    assert app.engine is not None
    return cast(SchedulerUnitOfWork, SqlUnitOfWork(app.engine, app.server_id))


def _queue(app: bootstrap.App, message: Message) -> None:
    with _uow(app) as uow:
        enqueue(uow.outbox, "bob", message, app.service.now())
        uow.commit()


def _due(app: bootstrap.App) -> list[Any]:
    with _uow(app) as uow:
        return uow.outbox.due(app.service.now() + timedelta(days=1), 10)


def test_a_member_with_closed_dms_sees_their_messages_at_the_next_schedule(
    app: bootstrap.App,
) -> None:
    booking = app.service.book(BookingRequest("bob", Resources(1, 1, 1), "now", "1-day"))
    log = io.StringIO()

    async def scenario() -> None:
        async with connected(app) as discord_:
            fake = discord_.fake
            fake.closed_dms.add(BOB)
            sender = OutboxSender(
                uow=lambda: _uow(app),
                passwords=PASSWORDS,
                notifiers=[("discord", DiscordNotifier(discord_.bot, app.service, timeout=10))],
                fallback=("stdout", LogNotifier(log)), clock=app.service.now)

            _queue(app, Message(MessageKind.READY,
                                f"Your container is ready. Password: {PASSWORD_PLACEHOLDER}",
                                booking.id))
            assert await asyncio.to_thread(sender.flush) == 1
            _queue(app, Message(MessageKind.INFO, "Your booking's image was updated."))
            assert await asyncio.to_thread(sender.flush) == 1
            assert _due(app) == []  # neither is tried again

            password = PASSWORDS.password_for(booking)
            assert "Your container is ready." in log.getvalue()
            assert password not in log.getvalue()  # never the password in the service's log

            to_alice = fake.find("POST", f"/channels/{dm_channel_id(ALICE)}/messages")
            assert [c.body["content"] for c in to_alice] == [
                f"I cannot send direct messages to bob (<@{BOB}>): their direct messages are "
                f"closed, so a message about booking #{booking.id} did not reach them. They "
                "will see what they missed the next time they use /schedule; you may ask them "
                "to open their direct messages."]  # once, not once per message

            calls = await discord_.interact(slash(BOB, "schedule", "list"))
            said = [c.answer for c in calls if c.method == "POST" and "/webhooks/" in c.path]
            assert [m["flags"] & 64 for m in said] == [64] * len(said)  # only bob sees them
            note, ready, info = said[-3:]
            assert note["content"].startswith("I could not send you 2 messages because your "
                                              "direct messages are closed, so here they are.")
            assert "`/schedule login`" in note["content"]
            assert ready["content"].startswith(f"Your container is ready. Password: {password}")
            assert f"Booking #{booking.id}: <t:" in ready["content"]
            assert labels(ready)[0][0] == f"Cancel #{booking.id}"  # its own buttons
            assert info["content"] == "Your booking's image was updated."

            again = await discord_.interact(slash(BOB, "schedule", "list"))
            texts = [c.answer["content"] for c in again
                     if c.method == "POST" and "/webhooks/" in c.path]
            assert not any("could not send you" in t for t in texts)  # shown once

    asyncio.run(scenario())


def test_admins_hear_again_only_after_dms_worked_and_closed_again(app: bootstrap.App) -> None:
    bob = app.service.account("bob")

    async def scenario() -> None:
        async with connected(app) as discord_:
            fake = discord_.fake
            notifier = DiscordNotifier(discord_.bot, app.service, timeout=10)
            hello = Message(MessageKind.INFO, "hello")
            to_alice = f"/channels/{dm_channel_id(ALICE)}/messages"

            fake.closed_dms.add(BOB)
            assert await asyncio.to_thread(notifier.deliver, bob, hello) is False
            assert await asyncio.to_thread(notifier.deliver, bob, hello) is False
            assert len(fake.find("POST", to_alice)) == 1
            fake.closed_dms.clear()
            assert await asyncio.to_thread(notifier.deliver, bob, hello) is True
            fake.closed_dms.add(BOB)
            assert await asyncio.to_thread(notifier.deliver, bob, hello) is False
            told = fake.find("POST", to_alice)
            assert len(told) == 2
            assert told[-1].body["content"].startswith("I cannot send direct messages to bob")
            assert "a message did not reach them" in told[-1].body["content"]

    asyncio.run(scenario())
