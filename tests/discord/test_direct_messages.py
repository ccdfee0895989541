"""Direct messages run the conversation engine; the service's messages arrive as DMs."""

from __future__ import annotations

import asyncio

import pytest

from bot import bootstrap
from bot.discord.client import BookingBot
from bot.discord.notifier import DiscordNotifier
from core.domain.model import Account
from core.services.notifier import Message, MessageKind
from tests.discord.conftest import (
    BOB,
    CAROL,
    DAVE,
    GPUS,
    connected,
    direct_message,
    labels,
)
from tests.discord.fake_discord import dm_channel_id


def _notifier(bot: BookingBot, app: bootstrap.App) -> DiscordNotifier:
    return DiscordNotifier(bot, app.service, timeout=10)


def test_a_member_books_in_one_line_by_direct_message(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            (sent,) = await discord_.dm(BOB, "book 1 gpu now 3-day")
            (booking,) = app.service.bookings("bob")
            assert sent.body["content"].startswith(f"Booked: #{booking.id} [booked] bob:")
            buttons = [b["custom_id"] for row in sent.body["components"] for b in row["components"]]
            assert buttons[0] == f"bk:B:cancel {booking.id}"
            assert buttons[1].startswith(f"bk:B:extend {booking.id} to ")

            (listed,) = await discord_.dm(BOB, "list")
            assert f"#{booking.id}" in listed.body["content"]

            asked = await discord_.press(CAROL, sent.answer, f"Cancel #{booking.id}")
            assert asked.message["content"].endswith(f"Cancel booking #{booking.id}? If it is "
                                                     "already running it ends now: its files are "
                                                     "backed up, then its container is removed.")
            assert labels(asked.message) == [[f"Yes, cancel #{booking.id}", "No, keep it"]]
            refused = await discord_.press(CAROL, sent.answer, "Yes")
            assert refused.told == (
                f"There is no booking #{booking.id} of yours; `list` shows yours.")
            assert refused.said[0]["flags"] == 64  # only the one who pressed sees it

    asyncio.run(scenario())


def test_a_full_window_in_a_dm_offers_a_button_for_the_earliest_start(app: bootstrap.App) -> None:
    app.service.set_limits("carol", {"gpus": "max"})

    async def scenario() -> None:
        async with connected(app) as discord_:
            await discord_.dm(CAROL, f"book {GPUS} gpus now 1-day")
            (carols,) = app.service.bookings("carol")
            (offer,) = await discord_.dm(BOB, "book 1 gpu now 1-day")
            assert "Shall I book it then?" in offer.body["content"]
            taken = await discord_.press(BOB, offer.answer, "Book from")
            assert taken.message["content"].startswith("Booked: #")
            (bobs,) = app.service.bookings("bob")
            assert bobs.start == carols.end

    asyncio.run(scenario())


def test_a_conversation_asks_for_what_is_missing(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            (question,) = await discord_.dm(BOB, "book")
            assert question.body["content"].startswith("Your maximum: cpus=8 memory=32 gpus=1.")
            (start,) = await discord_.dm(BOB, "2 8 1")
            assert start.body["content"].startswith("When should it start?")
            (end,) = await discord_.dm(BOB, "now")
            assert end.body["content"].startswith("When should it end?")
            (booked,) = await discord_.dm(BOB, "1-day")
            assert booked.body["content"].startswith("Booked: #")
            (booking,) = app.service.bookings("bob")
            assert (booking.resources.cpus, booking.resources.memory, booking.resources.gpus) == (2, 8, 1)

    asyncio.run(scenario())


def test_a_stranger_is_told_whom_to_ask(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            (sent,) = await discord_.dm(DAVE, "book 1 gpu now 3-day")
            assert sent.body["content"].startswith("You have no booking account yet. Ask an admin (alice)")

    asyncio.run(scenario())


def test_the_bot_ignores_other_bots(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            before = len(discord_.fake.calls)
            from_bot = direct_message(BOB, "list")
            from_bot["author"]["bot"] = True
            discord_.bot._connection.parse_message_create(from_bot)  # type: ignore[arg-type]
            await asyncio.sleep(0.2)
            assert discord_.fake.calls[before:] == []

    asyncio.run(scenario())


def test_the_service_message_arrives_as_a_dm_with_timestamps_and_buttons(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            await discord_.dm(BOB, "book 1 gpu now 1-day")
            (booking,) = app.service.bookings("bob")
            notifier = _notifier(discord_.bot, app)
            bob = app.service.account("bob")
            message = Message(MessageKind.REMINDER, "Booking ends in 1 hour.", booking.id)

            delivered = await asyncio.to_thread(notifier.deliver, bob, message)

            assert delivered is True
            path = f"/channels/{dm_channel_id(BOB)}/messages"
            sent = discord_.fake.find("POST", path)[-1]
            assert sent.body["content"] == (
                f"Booking ends in 1 hour.\nBooking #{booking.id}: <t:{int(booking.start.timestamp())}:f>"
                f" → <t:{int(booking.end.timestamp())}:f> (ends <t:{int(booking.end.timestamp())}:R>)."
            )
            (row,) = labels(sent.answer)
            assert row[0] == f"Cancel #{booking.id}" and row[1].startswith(f"Extend #{booking.id}")
            assert discord_.fake.find("POST", "/users/@me/channels")[-1].body == {"recipient_id": BOB}

    asyncio.run(scenario())


def test_an_account_without_discord_is_not_reached(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            notifier = _notifier(discord_.bot, app)
            nobody = Account(name="eve")
            message = Message(MessageKind.INFO, "hello")
            assert await asyncio.to_thread(notifier.deliver, nobody, message) is False

    asyncio.run(scenario())


def test_delivery_before_the_client_runs_raises_so_the_outbox_retries(app: bootstrap.App) -> None:
    bot = BookingBot(app)
    notifier = _notifier(bot, app)
    bob = app.service.account("bob")
    with pytest.raises(ConnectionError):
        notifier.deliver(bob, Message(MessageKind.INFO, "hello"))
