"""Issue 12, "no silent failures", through discord.py against the stand-in: the password
never reaches the service's stdout or log, a message Discord could not take for ten
minutes still reaches the member, and a refused command sync leaves DMs and buttons
working, and a moved link is told to both Discord users."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

import pytest

from bot import bootstrap
from bot.discord.client import BookingBot
from bot.discord.notifier import DiscordNotifier
from bot.log_notifier import LogNotifier
from core.chat import lifecycle_messages as words
from core.domain.model import Resources, Status
from core.domain.passwords import PASSWORD_PLACEHOLDER, PasswordDeriver
from core.services.capacity import BookingRequest
from core.services.notifier import Message, MessageKind
from core.services.outbox import OutboxSender, enqueue
from core.services.ports import SchedulerUnitOfWork
from storage.uow import SqlUnitOfWork
from tests.discord.conftest import ALICE, BOB, DAVE, GUILD_ID, connected, labels, mention, slash
from tests.discord.fake_discord import dm_channel_id

PASSWORDS = PasswordDeriver(b"a test secret of enough bytes")  # the app fixture's secret
READY = f"Your container is ready. Password: {PASSWORD_PLACEHOLDER}"


def _uow(app: bootstrap.App) -> SchedulerUnitOfWork:
    assert app.engine is not None
    return cast(SchedulerUnitOfWork, SqlUnitOfWork(app.engine, app.server_id))


def _queue(app: bootstrap.App, message: Message) -> None:
    with _uow(app) as uow:
        enqueue(uow.outbox, "bob", message, app.service.now())
        uow.commit()


def _running(app: bootstrap.App) -> Any:
    booking = app.service.book(BookingRequest("bob", Resources(1, 1, 0), "now", "1-day"))
    with app.service.unit() as uow:
        uow.bookings.save(replace(booking, status=Status.RUNNING))
        uow.commit()
    return booking


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)


def _followups(calls: list[Any]) -> list[dict[str, Any]]:
    return [c.answer for c in calls if c.method == "POST" and "/webhooks/" in c.path]


def test_closed_dms_never_put_the_password_on_stdout_or_in_the_log(
    app: bootstrap.App, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every library's debug lines too
    booking = _running(app)
    password = PASSWORDS.password_for(booking)

    async def scenario() -> None:
        async with connected(app) as discord_:
            discord_.fake.closed_dms.add(BOB)
            sender = OutboxSender(
                uow=lambda: _uow(app), passwords=PASSWORDS,
                notifiers=[("discord", DiscordNotifier(discord_.bot, app.service, timeout=10))],
                fallback=("stdout", LogNotifier()), clock=app.service.now)  # the real stdout
            _queue(app, Message(MessageKind.READY, READY, booking.id))
            assert await asyncio.to_thread(sender.flush) == 1
            said = _followups(await discord_.interact(
                slash(BOB, "schedule", "login", {"booking": booking.id})))
            login, note, ready = said  # the login asked for, then what bob missed
            assert all(m["flags"] & 64 for m in said)  # only bob sees them
            fields = {f["name"]: f["value"] for f in login["embeds"][0]["fields"]}
            assert fields["password"] == f"`{password}`"
            assert "`/schedule login`" in note["content"]
            assert ready["content"].startswith(f"Your container is ready. Password: {password}")

    asyncio.run(scenario())
    out = capsys.readouterr().out
    assert f"[message to bob, ready booking #{booking.id}]" in out
    assert "Your container is ready. Password: (not written here" in out
    assert password not in out
    assert password not in _everything_logged(caplog)


def test_a_message_discord_could_not_take_for_ten_minutes_is_shown_at_the_next_schedule(
    app: bootstrap.App, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every library's debug lines too
    booking = _running(app)
    password = PASSWORDS.password_for(booking)
    clock = [app.service.now()]

    def later() -> datetime:
        clock[0] += timedelta(minutes=20)
        return clock[0]

    async def scenario() -> None:
        async with connected(app) as discord_:
            # The client Discord cannot be reached with; the adapter's next one (after it
            # connected again) keeps what it held, as the adapter hands it on.
            offline = BookingBot(app, undelivered=discord_.bot.undelivered)
            notifier = DiscordNotifier(offline, app.service, timeout=10)
            sender = OutboxSender(uow=lambda: _uow(app), passwords=PASSWORDS,
                                  notifiers=[("discord", notifier)],
                                  fallback=("stdout", LogNotifier()), clock=later)
            _queue(app, Message(MessageKind.READY, READY, booking.id))
            flushes = [await asyncio.to_thread(sender.flush) for _ in range(8)]
            assert flushes == [0] * 7 + [1]  # retried, then given up: written to stdout

            calls = await discord_.interact(slash(BOB, "schedule", "list"))
            said = _followups(calls)
            assert [m["flags"] & 64 for m in said] == [64] * len(said)
            note, ready = said[-2:]
            assert note["content"].startswith("I could not send you a message as a direct "
                                              "message because Discord was unreachable")
            assert ready["content"].startswith(f"Your container is ready. Password: {password}")
            assert labels(ready)[0][0] == f"Login #{booking.id}"  # its own buttons

            again = _followups(await discord_.interact(slash(BOB, "schedule", "list")))
            assert not any("Discord was unreachable" in m["content"] for m in again)  # once

            # A message shown at an interaction before a try got through is not sent again.
            _queue(app, Message(MessageKind.INFO, "Your booking's image was updated."))
            assert await asyncio.to_thread(sender.flush) == 0
            shown = _followups(await discord_.interact(slash(BOB, "schedule", "list")))
            assert shown[-1]["content"] == "Your booking's image was updated."
            notifier.use(discord_.bot)  # Discord is back
            dms = f"/channels/{dm_channel_id(BOB)}/messages"
            before = len(discord_.fake.find("POST", dms))
            assert await asyncio.to_thread(sender.flush) == 1
            assert len(discord_.fake.find("POST", dms)) == before

    asyncio.run(scenario())
    out = capsys.readouterr().out
    assert "Your container is ready." in out and password not in out
    assert password not in _everything_logged(caplog)


def test_a_refused_sync_still_delivers_dms_whose_buttons_work(
    app: bootstrap.App, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    booking = _running(app)
    number = booking.id or 0

    async def scenario() -> None:
        async with connected(app, guild_id=GUILD_ID, refuse_guild_commands=True) as discord_:
            errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
            assert len(errors) == 1 and f"DISCORD_GUILD_ID={GUILD_ID}" in errors[0]
            notifier = DiscordNotifier(discord_.bot, app.service, timeout=10)
            reminder = words.reminder(app.config, booking, app.service.account("bob"), 30)
            reminder = replace(reminder, actions=tuple(dict(a) for a in reminder.actions))
            assert await asyncio.to_thread(notifier.deliver, app.service.account("bob"), reminder)
            dm = discord_.fake.find("POST", f"/channels/{dm_channel_id(BOB)}/messages")[-1].answer
            extend = next(label for row in labels(dm) for label in row
                          if label.startswith(f"Extend #{number}"))
            await discord_.press(BOB, dm, extend)
            assert app.service.get(number).end > booking.end  # the button worked

    asyncio.run(scenario())


def test_a_link_moved_with_confirm_tells_both_discord_users(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            moved = await discord_.reply(slash(
                ALICE, "capacity", "link",
                {"member": mention(DAVE), "lab_id": "bob", "confirm": True}))
            assert moved["content"] == f"<@{DAVE}> is linked to `bob`."

    asyncio.run(scenario())
    with _uow(app) as uow:
        due = uow.outbox.due(app.service.now() + timedelta(days=1), 100)
    told = {item.recipient: item.text for item in due}
    assert sorted(told) == sorted([f"discord:{BOB}", f"discord:{DAVE}"])
    assert all("bob" in text for text in told.values())
