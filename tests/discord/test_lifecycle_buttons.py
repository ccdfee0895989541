"""The scheduler's ready message in Discord, and /schedule book's refusal (issue 10): buttons
named by the booking, Extend to a stated end acting once, an old Restart pressed after the
restart answering with the state, and the core's offer with image and command kept."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from bot import bootstrap
from bot.discord.notifier import DiscordNotifier
from core.chat import lifecycle_messages as words
from core.domain.model import Booking, Resources, Status
from core.services.capacity import BookingRequest
from core.services.notifier import Message
from tests.discord.conftest import ALICE, BOB, GPUS, connected, labels, slash
from tests.discord.fake_discord import dm_channel_id


def _running(app: bootstrap.App) -> Booking:
    booking = app.service.book(BookingRequest("bob", Resources(1, 1, 0), "now", "1-day"))
    with app.service.unit() as uow:
        uow.bookings.save(replace(booking, status=Status.RUNNING))
        uow.commit()
    return app.service.get(booking.id or 0)


def _stored(message: Message) -> Message:
    """The message as the outbox stores and reads it back."""
    return replace(message, actions=tuple(dict(a) for a in message.actions))


def _restarts_asked(app: bootstrap.App, number: int) -> int:
    with app.service.unit() as uow:
        return [e.kind for e in uow.bookings.events(number)].count("restart_requested")


def test_the_ready_dm_names_the_booking_extends_once_and_an_old_restart_answers_with_state(
    app: bootstrap.App,
) -> None:
    service = app.service
    booking = _running(app)
    number = booking.id or 0
    zone = service.zone_of(service.account("bob"))
    target = f"{(booking.end + timedelta(days=1)).astimezone(zone):%a %d %b %H:%M}"

    async def scenario() -> None:
        async with connected(app) as discord_:
            sender = DiscordNotifier(discord_.bot, service, timeout=10)
            ready = _stored(words.ready(service.config, booking, service.account("bob"), []))
            assert await asyncio.to_thread(sender.deliver, service.account("bob"), ready)
            sent = discord_.fake.find("POST", f"/channels/{dm_channel_id(BOB)}/messages")[-1]
            dm = sent.answer
            assert labels(dm) == [[f"Login #{number}", f"Extend #{number} to {target}",
                                   f"Restart #{number}", f"End #{number} now"]]
            old = dict(dm)  # the ready message as another device still shows it

            first = await discord_.press(BOB, dm, f"Extend #{number}")
            assert first.message["content"].startswith(f"Extended: #{number}")
            again = await discord_.press(BOB, old, f"Extend #{number}", stale=True)
            assert again.message["content"].startswith(f"Already extended: #{number}")
            assert service.get(number).end == booking.end + timedelta(days=1)

            asked = await discord_.press(BOB, old, f"Restart #{number}", stale=True)
            assert f"Restart the container of booking #{number}?" in asked.message["content"]
            done = await discord_.press(BOB, asked.message, "Yes")
            assert done.message["content"].startswith(
                f"Restarting the container of booking #{number}")
            with service.unit() as uow:  # the scheduler restarted it
                uow.bookings.record(number, "restarted", "scheduler",
                                    at=service.now().isoformat())
                uow.commit()

            asked = await discord_.press(BOB, old, f"Restart #{number}", stale=True)
            twice = await discord_.press(BOB, asked.message, "Yes")
            assert twice.message["content"].startswith("Already restarted at ")
            assert f"#{number} [running] bob:" in twice.message["content"]
            assert _restarts_asked(app, number) == 1
            # the redrawn message's Restart asks for the next restart, which happens
            asked = await discord_.press(BOB, twice.message, f"Restart #{number}")
            fresh = await discord_.press(BOB, asked.message, "Yes")
            assert fresh.message["content"].startswith("Restarting the container")
            assert _restarts_asked(app, number) == 2

    asyncio.run(scenario())


def test_a_slash_refusal_offers_the_cores_offer_with_image_and_command(app: bootstrap.App) -> None:
    service = app.service
    service.set_limits("alice", {"gpus": "max"})
    image = service.config.images.allowed[-1]

    async def scenario() -> None:
        async with connected(app) as discord_:
            await discord_.reply(slash(ALICE, "schedule", "book",
                                       {"start": "now", "end": "1-day", "gpus": GPUS}))
            refused = await discord_.reply(slash(BOB, "schedule", "book", {
                "start": "now", "end": "2-day", "gpus": 1, "image": image,
                "command": "jupyter lab"}))
            # the core's words: the same refusal and question a chat request gets
            assert refused["content"].startswith("Not enough free for that window: GPUs")
            assert refused["content"].endswith("Shall I book it then? (yes / no)")
            assert labels(refused)[0][0].startswith("Book from ")
            assert service.bookings("bob") == []

            (booked,) = await discord_.dm(BOB, "yes")  # answered in a direct message
            assert booked.body["content"].startswith("Booked: ")
            (booking,) = service.bookings("bob")
            (alices,) = service.bookings("alice")
            assert (booking.image, booking.command) == (image, "jupyter lab")
            assert booking.start == alices.end
            assert booking.end - booking.start == timedelta(days=2)
            assert booking.resources.gpus == 1

            again = await discord_.press(BOB, refused, "Book from", stale=True)
            assert again.message["content"].startswith("Already booked:")
            assert len(service.bookings("bob")) == 1

    asyncio.run(scenario())
