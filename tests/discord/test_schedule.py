"""A member books, lists, extends and cancels with `/schedule`, as Discord would drive it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot import bootstrap
from core.domain.model import Booking, Status
from tests.discord.conftest import ALICE, BOB, CAROL, DAVE, GPUS, connected, labels, slash


def _id(booking: Booking) -> int:
    assert booking.id is not None
    return booking.id


def test_a_member_books_lists_extends_and_cancels(app: bootstrap.App) -> None:
    service = app.service

    async def scenario() -> None:
        async with connected(app) as discord_:
            booked = await discord_.reply(slash(BOB, "schedule", "book", {
                "start": "now", "end": "1-day", "gpus": 1, "cpus": 2.5, "memory": 8}))
            (booking,) = service.bookings("bob")
            assert booked["content"].startswith(f"Booked: #{booking.id} [booked] bob:")
            assert "2.5 CPUs, 8 GB, 1 GPU" in booked["content"]
            assert booked["flags"] & 64  # ephemeral: only bob sees it
            (row,) = labels(booked)
            assert row[0] == f"Cancel #{booking.id}"
            assert row[1].startswith(f"Extend #{booking.id} to ")

            listed = await discord_.reply(slash(BOB, "schedule", "list"))
            assert listed["content"].startswith("Your bookings:")
            assert f"#{booking.id} [booked]" in listed["content"]

            extended = await discord_.reply(
                slash(BOB, "schedule", "extend", {"booking": booking.id, "by": "1-day"}))
            assert extended["content"].startswith(f"Extended: #{booking.id}")
            assert service.get(_id(booking)).end == booking.end + timedelta(days=1)

            cancelled = await discord_.reply(slash(BOB, "schedule", "cancel", {"booking": booking.id}))
            assert cancelled["content"] == f"Booking #{booking.id} is cancelled."
            assert service.get(_id(booking)).status == Status.CANCELLED

    asyncio.run(scenario())


def test_the_interaction_is_deferred_before_the_core_works(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            calls = await discord_.interact(slash(BOB, "schedule", "list"))
            assert calls[0].path.endswith("/callback")
            assert calls[0].body == {"type": 5, "data": {"flags": 64}}  # deferred, ephemeral

    asyncio.run(scenario())


def test_buttons_cancel_and_extend_for_the_owner_only(app: bootstrap.App) -> None:
    service = app.service

    async def scenario() -> None:
        async with connected(app) as discord_:
            booked = await discord_.reply(
                slash(BOB, "schedule", "book", {"start": "tomorrow 9am", "end": "1-day", "gpus": 1}))
            (booking,) = service.bookings("bob")
            number = booking.id

            asked = await discord_.press(CAROL, booked, f"Cancel #{number}")
            refused = await discord_.press(CAROL, asked.message, "Yes")
            assert refused.told == f"There is no booking #{number} of yours; `list` shows yours."
            assert service.get(_id(booking)).status == Status.BOOKED
            assert labels(refused.message)[0][0] == f"Cancel #{number}"  # asked no more

            extended = await discord_.press(BOB, booked, f"Extend #{number}")
            assert extended.message["content"].startswith(f"Extended: #{number}")
            assert service.get(_id(booking)).end == booking.end + timedelta(days=1)

            asked = await discord_.press(BOB, booked, f"Cancel #{number}")
            assert service.get(_id(booking)).status == Status.BOOKED  # the first press only asks
            cancelled = await discord_.press(BOB, asked.message, "Yes")
            assert cancelled.message["content"] == f"Booking #{number} is cancelled."
            assert cancelled.message["components"] == []
            assert service.get(_id(booking)).status == Status.CANCELLED

    asyncio.run(scenario())


def test_an_admin_may_use_anyones_buttons(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            booked = await discord_.reply(
                slash(BOB, "schedule", "book", {"start": "now", "end": "1-day"}))
            (booking,) = app.service.bookings("bob")
            await discord_.press(ALICE, booked, f"Cancel #{booking.id}")
            cancelled = await discord_.press(ALICE, booked, "Yes")
            assert cancelled.message["content"] == f"Booking #{booking.id} is cancelled."

    asyncio.run(scenario())


def test_a_refusal_offers_the_earliest_start_and_its_button_books_it(app: bootstrap.App) -> None:
    service = app.service
    service.set_limits("alice", {"gpus": "max"})

    async def scenario() -> None:
        async with connected(app) as discord_:
            await discord_.reply(slash(ALICE, "schedule", "book",
                                       {"start": "now", "end": "1-day", "gpus": GPUS}))
            (alices,) = service.bookings("alice")

            refused = await discord_.reply(
                slash(BOB, "schedule", "book", {"start": "now", "end": "1-day", "gpus": 1}))
            assert refused["content"].startswith("Not enough free for that window: GPUs")
            assert "The earliest start that fits is" in refused["content"]
            assert service.bookings("bob") == []

            assert labels(refused)[0][0].startswith("Book from")
            taken = await discord_.press(BOB, refused, "Book from")
            assert taken.message["content"].startswith("Booked: ")
            (bobs,) = service.bookings("bob")
            assert bobs.start == alices.end
            assert bobs.end - bobs.start == timedelta(days=1)

    asyncio.run(scenario())


def test_the_members_own_maximum_is_checked_when_booking(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            # 3 GPUs is inside the option's range (the host's 4) but above bob's maximum of 1.
            refused = await discord_.reply(
                slash(BOB, "schedule", "book", {"start": "now", "end": "1-day", "gpus": 3}))
            assert refused["content"].startswith("Over your maximum: you may book up to")
            assert app.service.bookings("bob") == []

    asyncio.run(scenario())


def test_bad_times_are_explained(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            refused = await discord_.reply(
                slash(BOB, "schedule", "book", {"start": "now", "end": "20-day"}))
            assert refused["content"].startswith("`20-day` is out of range: days go from 1 to 14")
            assert app.service.bookings("bob") == []

    asyncio.run(scenario())


def test_an_unknown_member_is_told_whom_to_ask(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            refused = await discord_.reply(slash(DAVE, "schedule", "list"))
            assert refused["content"].startswith("You have no booking account yet. Ask an admin (alice)")

    asyncio.run(scenario())


def test_schedule_works_in_the_bots_direct_messages_too(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            booked = await discord_.reply(
                slash(BOB, "schedule", "book", {"start": "now", "end": "1-day"}, guild=False))
            assert booked["content"].startswith("Booked: ")
            listed = await discord_.reply(slash(BOB, "schedule", "list", guild=False))
            assert listed["content"].startswith("Your bookings:")

    asyncio.run(scenario())


def test_help_is_answered_at_once(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            calls = await discord_.interact(slash(DAVE, "schedule", "help"))
            callback, *rest = calls
            assert callback.body["type"] == 4  # answered, not deferred: no core work first
            assert callback.body["data"]["content"].startswith("**/schedule book**")
            assert callback.body["data"]["flags"] == 64
            assert all(c.path.startswith("/webhooks/") and c.body["flags"] == 64 for c in rest)

    asyncio.run(scenario())
