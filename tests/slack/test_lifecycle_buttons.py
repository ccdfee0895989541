"""The scheduler's ready message in Slack (issue 10): its buttons name the booking, Extend
states its new end and acts once, Restart and End now ask first, and an old Restart pressed
after the restart answers with the booking's state. Through the outbox, the real Bolt app
and the local Web API."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.slack.blocks import date_token
from core.chat import lifecycle_messages as words
from core.domain.model import Booking, Resources, Status
from core.services.capacity import BookingRequest
from core.services.outbox import enqueue
from tests.slack.conftest import BOB
from tests.slack.test_chat_layer import Block, button, dms_to, flush_outbox, responses


def _running(world, end: str = "1-day") -> Booking:  # type: ignore[no-untyped-def]
    service = world.booking.service
    booking = service.book(BookingRequest("bob", Resources(2, 8, 1), "now", end))
    with service.unit() as uow:
        uow.bookings.save(replace(booking, status=Status.RUNNING))
        uow.commit()
    return service.get(booking.id or 0)


def _ready_dm(world, booking: Booking) -> list[Block]:  # type: ignore[no-untyped-def]
    """The ready message as the scheduler records it, delivered as the outbox does."""
    service = world.booking.service
    message = words.ready(service.config, booking, service.account("bob"), [])
    with service.unit() as uow:
        enqueue(uow.outbox, "bob", message, service.now())
        uow.commit()
    assert flush_outbox(world) == 1
    [dm] = dms_to(world, BOB)
    return dm.args["blocks"]


def test_the_ready_message_buttons_name_the_booking_and_extend_acts_once(world) -> None:  # type: ignore[no-untyped-def]
    booking = _running(world)
    number = booking.id
    blocks = _ready_dm(world, booking)
    zone = world.booking.service.zone_of(world.booking.service.account("bob"))
    target = f"{(booking.end + timedelta(days=1)).astimezone(zone):%a %d %b %H:%M}"
    shown = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [e["text"]["text"] for e in shown] == [
        f"Login #{number}", f"Extend #{number} to {target}", f"Restart #{number}",
        f"End #{number} now"]
    asks = {e["text"]["text"]: e.get("confirm", {}).get("title", {}).get("text") for e in shown}
    assert asks[f"Restart #{number}"] == f"Restart #{number}?"
    assert asks[f"End #{number} now"] == f"End #{number} now?"
    assert asks[f"Login #{number}"] is None and asks[f"Extend #{number} to {target}"] is None

    block, extend = button(blocks, f"Extend #{number} to {target}")
    world.slack.press(BOB, extend, block)
    [first] = responses(world, 1)
    world.slack.press(BOB, extend, block)  # the same button of the ready message, again
    [_, second] = responses(world, 2)
    assert first["text"].startswith(f"Extended: #{number}")
    assert second["text"].startswith(f"Already extended: #{number}")
    assert world.booking.service.get(number or 0).end == booking.end + timedelta(days=1)


def test_an_old_restart_press_after_the_restart_answers_with_the_state(world) -> None:  # type: ignore[no-untyped-def]
    service = world.booking.service
    booking = _running(world)
    number = booking.id or 0
    block, restart = button(_ready_dm(world, booking), f"Restart #{number}")

    world.slack.press(BOB, restart, block)
    [asked] = responses(world, 1)
    assert asked["text"].startswith(f"Restarting the container of booking #{number}")
    restarted_at = service.now()
    with service.unit() as uow:  # the scheduler restarted it
        uow.bookings.record(number, "restarted", "scheduler", at=restarted_at.isoformat())
        uow.commit()

    world.slack.press(BOB, restart, block)  # the ready message's old button
    [_, again] = responses(world, 2)
    assert again["replace_original"] is True
    # when, as a date token: each reader sees it in their own zone
    when = date_token(restarted_at.replace(second=0, microsecond=0))
    assert again["text"].startswith(f"Already restarted at {when}: ")
    assert f"#{number} [running] bob:" in again["text"]
    with service.unit() as uow:
        kinds = [e.kind for e in uow.bookings.events(number)]
    assert kinds.count("restart_requested") == 1

    # the redrawn message's Restart is for the next restart, and it restarts
    block, fresh = button(again["blocks"], f"Restart #{number}")
    world.slack.press(BOB, fresh, block)
    [_, _, third] = responses(world, 3)
    assert third["text"].startswith(f"Restarting the container of booking #{number}")
