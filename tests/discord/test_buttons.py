"""Buttons as a member meets them (issue 10): each names its booking and sits next to it,
destructive ones ask first, a press acts once on the current state and redraws its
message, offers book exactly what they say after a restart, and login is private."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot import bootstrap
from core.domain.model import Booking, Resources, Status
from core.services.capacity import BookingRequest
from core.services.notifier import Message, MessageKind
from tests.discord.conftest import ALICE, BOB, GPUS, Harness, connected, labels, slash
from tests.discord.fake_discord import dm_channel_id


def _book_many(app: bootstrap.App, count: int) -> list[Booking]:
    """`count` one-hour bookings of bob's, one after another from tomorrow."""
    service = app.service
    zone = service.zone_of(service.account("bob"))
    first = (service.now() + timedelta(days=1)).astimezone(zone).replace(minute=0, second=0,
                                                                        microsecond=0)
    made = []
    for hour in range(count):
        start, end = first + timedelta(hours=hour), first + timedelta(hours=hour + 1)
        made.append(service.book(BookingRequest(
            "bob", Resources(1, 1, 0), f"{start:%Y %m %d %H %M}", f"{end:%Y %m %d %H %M}")))
    return made


def _running(app: bootstrap.App) -> Booking:
    """A booking of bob's whose container is up."""
    booking = app.service.book(BookingRequest("bob", Resources(1, 1, 0), "now", "1-day"))
    with app.service.unit() as uow:
        uow.bookings.save(replace(booking, status=Status.RUNNING))
        uow.commit()
    return app.service.get(booking.id or 0)


def _custom_ids(message: dict[str, Any]) -> list[str]:
    return [b["custom_id"] for row in message["components"] for b in row["components"]]


def _rows_by_booking(message: dict[str, Any]) -> dict[int, list[str]]:
    """Each row of buttons (but paging) by the one booking all its labels name."""
    found = {}
    for row in labels(message):
        if any("Bookings" in label for label in row):
            continue
        numbers = {label.split("#")[1].split()[0] for label in row}
        assert len(numbers) == 1, f"a row for several bookings: {row}"
        found[int(numbers.pop())] = row
    return found


async def _every_page(discord_: Harness, first: dict[str, Any]) -> list[dict[str, Any]]:
    """The list's pages as the member sees them, pressing ▶ until there is none."""
    pages = [dict(first)]
    while any(label.endswith("▶") for row in labels(pages[-1]) for label in row):
        nxt = next(label for row in labels(pages[-1]) for label in row if label.endswith("▶"))
        seen = await discord_.press(BOB, first, nxt)
        pages.append(dict(seen.message))
    return pages


def test_each_listed_booking_has_its_own_row_of_buttons_named_by_it(app: bootstrap.App) -> None:
    made = _book_many(app, 3)

    async def scenario() -> None:
        async with connected(app) as discord_:
            listed = await discord_.reply(slash(BOB, "schedule", "list"))
            rows = _rows_by_booking(listed)
            assert list(rows) == [b.id for b in made]
            for booking in made:
                assert rows[booking.id or 0][0] == f"Cancel #{booking.id}"
                assert rows[booking.id or 0][1].startswith(f"Extend #{booking.id} to ")
            lines = listed["content"].splitlines()
            assert lines[0] == "Your bookings:"
            assert [line.split()[0] for line in lines[1:]] == [f"#{b.id}" for b in made]

    asyncio.run(scenario())


def test_a_list_past_discords_limits_is_paged_and_drops_no_booking(app: bootstrap.App) -> None:
    made = _book_many(app, 26)  # 52 buttons: the old list dropped all past the 25th

    async def scenario() -> None:
        async with connected(app) as discord_:
            for first in (
                await discord_.reply(slash(BOB, "schedule", "list")),
                (await discord_.dm(BOB, "list"))[0].answer,
            ):
                assert first["content"].splitlines()[-1] == "Bookings 1-4 of 26."
                pages = await _every_page(discord_, first)
                shown: list[int] = []
                for page in pages:
                    assert len(page["components"]) <= 5
                    assert all(len(row["components"]) <= 5 for row in page["components"])
                    ids = _custom_ids(page)
                    assert len(ids) == len(set(ids)) and all(len(i) <= 100 for i in ids)
                    rows = _rows_by_booking(page)
                    lines = [line.split()[0] for line in page["content"].splitlines()
                             if line.startswith("#")]
                    assert lines == [f"#{n}" for n in rows]  # each line beside its own row
                    shown += rows
                assert shown == [b.id for b in made]
                assert pages[-1]["content"].splitlines()[-1] == "Bookings 25-26 of 26."

                back = await discord_.press(BOB, first, "◀ Bookings 21-24")
                assert back.message["content"].splitlines()[-1] == "Bookings 21-24 of 26."

    asyncio.run(scenario())


def test_end_now_and_restart_ask_first_and_no_keeps_the_booking(app: bootstrap.App) -> None:
    booking = _running(app)
    number = booking.id

    async def scenario() -> None:
        async with connected(app) as discord_:
            listed = await discord_.reply(slash(BOB, "schedule", "list"))
            assert labels(listed)[0] == [f"Login #{number}", labels(listed)[0][1],
                                         f"Restart #{number}", f"End #{number} now"]

            for label, question in ((f"Restart #{number}", f"Restart the container of booking "
                                     f"#{number}?"), (f"End #{number} now",
                                                      f"End booking #{number} now?")):
                asked = await discord_.press(BOB, listed, label)
                assert question in asked.message["content"]
                assert labels(asked.message) == [[f"Yes, {label.split()[0].lower()} #{number}",
                                                 "No, keep it"]]
                assert app.service.get(booking.id or 0).status == Status.RUNNING
                kept = await discord_.press(BOB, listed, "No, keep it")
                assert question not in kept.message["content"]
                assert labels(kept.message) == labels(listed)
            assert app.service.get(booking.id or 0).end == booking.end

            await discord_.press(BOB, listed, f"End #{number} now")
            ended = await discord_.press(BOB, listed, f"Yes, end #{number}")
            assert ended.message["content"].startswith(
                f"Booking #{number} ends now; its files are backed up first.")
            assert app.service.get(booking.id or 0).end <= app.service.now()
            assert f"#{number}" not in str(labels(ended.message))  # its buttons are gone

    asyncio.run(scenario())


def test_a_second_press_acts_once_and_answers_with_the_state(app: bootstrap.App) -> None:
    service = app.service

    async def scenario() -> None:
        async with connected(app) as discord_:
            booked = await discord_.reply(
                slash(BOB, "schedule", "book", {"start": "tomorrow 9am", "end": "1-day"}))
            (booking,) = service.bookings("bob")
            old = dict(booked)  # the message as a second device still shows it

            first = await discord_.press(BOB, booked, f"Extend #{booking.id}")
            assert first.message["content"].startswith(f"Extended: #{booking.id}")
            again = await discord_.press(BOB, old, f"Extend #{booking.id}", stale=True)
            assert again.message["content"].startswith(f"Already extended: #{booking.id}")
            assert service.get(booking.id or 0).end == booking.end + timedelta(days=1)
            # the redrawn message offers the next day, not the one already taken
            assert labels(again.message) != labels(old)

            await discord_.press(BOB, booked, f"Cancel #{booking.id}")
            cancelled = await discord_.press(BOB, booked, "Yes")
            assert cancelled.message["content"] == f"Booking #{booking.id} is cancelled."
            assert cancelled.message["components"] == []
            await discord_.press(BOB, old, f"Cancel #{booking.id}", stale=True)
            twice = await discord_.press(BOB, old, "Yes")
            assert twice.message["content"] == f"Nothing to do: Booking #{booking.id} is cancelled."
            assert twice.message["components"] == []

    asyncio.run(scenario())


def test_an_offer_keeps_image_and_command_and_books_after_a_restart(app: bootstrap.App) -> None:
    service = app.service
    service.set_limits("alice", {"gpus": "max"})
    image = service.config.images.allowed[-1]
    long_command = "python train.py --epochs 100 --data /root/Dataset/imagenet && echo done" * 2

    async def scenario() -> None:
        async with connected(app) as discord_:
            await discord_.reply(slash(ALICE, "schedule", "book",
                                       {"start": "now", "end": "1-day", "gpus": GPUS}))
            short = await discord_.reply(slash(BOB, "schedule", "book", {
                "start": "now", "end": "1-day", "gpus": 1, "image": image, "command": "nvidia-smi"}))
            long = await discord_.reply(slash(BOB, "schedule", "book", {
                "start": "now", "end": "2-day", "gpus": 1, "image": image,
                "command": long_command}))
        assert service.bookings("bob") == []
        for offer in (short, long):
            assert "earliest start" in offer["content"]
            assert labels(offer)[0][0].startswith("Book from")
        assert long["embeds"][0]["footer"]["text"].endswith(f"command {long_command}")

        async with connected(app) as discord_:  # a new client: nothing kept in memory
            taken = await discord_.press(BOB, long, "Book from", stale=True)
            assert taken.message["content"].startswith("Booked: ")
            (booking,) = service.bookings("bob")
            assert (booking.image, booking.command) == (image, long_command)
            assert booking.end - booking.start == timedelta(days=2)
            assert taken.message["embeds"] == []

            again = await discord_.press(BOB, long, "Book from", stale=True)
            assert again.message["content"].startswith("Already booked:")
            assert len(service.bookings("bob")) == 1

            with service.unit() as uow:  # make room for the other offer
                uow.bookings.save(replace(booking, status=Status.CANCELLED))
                uow.commit()
            taken = await discord_.press(BOB, short, "Book from", stale=True)
            assert taken.message["content"].startswith("Booked: ")
            (booking,) = service.bookings("bob")
            assert (booking.image, booking.command) == (image, "nvidia-smi")

    asyncio.run(scenario())


def test_login_is_a_button_on_a_running_booking_and_a_command_only_its_owner_sees(
    app: bootstrap.App,
) -> None:
    booking = _running(app)
    number = booking.id

    async def scenario() -> None:
        async with connected(app) as discord_:
            notifier = discord_.bot
            from bot.discord.notifier import DiscordNotifier

            sender = DiscordNotifier(notifier, app.service, timeout=10)
            ready = Message(MessageKind.READY, "Your container is up.", number)
            assert await asyncio.to_thread(sender.deliver, app.service.account("bob"), ready)
            sent = discord_.fake.find("POST", f"/channels/{dm_channel_id(BOB)}/messages")[-1]
            assert labels(sent.answer)[0][0] == f"Login #{number}"

            shown = await discord_.press(BOB, sent.answer, f"Login #{number}")
            (login,) = shown.said
            assert login["flags"] & 64  # ephemeral, even in the DM
            assert login["content"].startswith(f"Booking #{number} runs until")
            fields = {f["name"]: f["value"] for f in login["embeds"][0]["fields"]}
            assert fields["port"] == f"`{booking.port}`"
            assert fields["password"].startswith("`")
            assert shown.message["content"] == sent.answer["content"]  # the DM stays as it was

            typed = await discord_.reply(slash(BOB, "schedule", "login", {"booking": number}))
            assert typed["flags"] & 64
            assert typed["content"] == login["content"]
            assert typed["embeds"] == login["embeds"]

    asyncio.run(scenario())


def test_buttons_of_messages_sent_before_this_version_still_answer(app: bootstrap.App) -> None:
    booking = app.service.book(BookingRequest("bob", Resources(1, 1, 0), "tomorrow 9am", "1-day"))

    async def scenario() -> None:
        async with connected(app) as discord_:
            old = discord_.fake.message(dm_channel_id(BOB), {}, {
                "content": "Booked: #1", "components": [{"type": 1, "components": [
                    {"type": 2, "style": 4, "label": "Cancel", "custom_id": f"bk:cancel {booking.id}"},
                    {"type": 2, "style": 1, "label": "Book from Thu", "custom_id": "bk-offer:0123456789ab"},
                ]}]})
            asked = await discord_.press(BOB, old, "Cancel")  # asks first now, as every cancel
            assert labels(asked.message) == [[f"Yes, cancel #{booking.id}", "No, keep it"]]
            assert app.service.get(booking.id or 0).status == Status.BOOKED
            expired = await discord_.press(BOB, old, "Book from", stale=True)
            assert expired.told == "That offer has expired; run `/schedule book` again."

    asyncio.run(scenario())


def test_the_owner_is_told_in_a_dm_when_an_admin_cancels_their_booking(app: bootstrap.App) -> None:
    from bot.discord.notifier import DiscordNotifier
    from core.domain.passwords import PasswordDeriver
    from core.services.outbox import OutboxSender
    from storage.uow import SqlUnitOfWork

    booking = app.service.book(BookingRequest("bob", Resources(1, 1, 0), "tomorrow 9am", "1-day"))

    async def scenario() -> None:
        async with connected(app) as discord_:
            done = await discord_.reply(slash(ALICE, "schedule", "cancel", {"booking": booking.id}))
            assert done["content"] == f"Booking #{booking.id} is cancelled."
            notifier = DiscordNotifier(discord_.bot, app.service, timeout=10)
            sender = OutboxSender(
                uow=lambda: SqlUnitOfWork(app.engine, app.server_id),
                passwords=PasswordDeriver(b"x" * 32), notifiers=[("discord", notifier)],
                fallback=("discord", notifier), clock=app.service.now)
            assert await asyncio.to_thread(sender.flush) == 1
            told = discord_.fake.find("POST", f"/channels/{dm_channel_id(BOB)}/messages")[-1]
            assert told.body["content"].startswith(
                f"alice (an admin) cancelled your booking #{booking.id}")

    asyncio.run(scenario())
