"""The waitlist in Slack (README, "Waitlist"): a refusal's Notify me button, then a cancel
sends a DM whose Book it button books the freed slot."""

from __future__ import annotations

from datetime import timedelta

from core.domain.model import Resources
from core.services.capacity import BookingRequest
from tests.slack.conftest import ALICE, BOB
from tests.slack.harness import SlackWorld
from tests.slack.test_chat_layer import dms_to, flush_outbox


def test_notify_me_then_a_cancel_dms_book_it_and_its_press_books(world: SlackWorld) -> None:
    service = world.booking.service
    service.set_limits("alice", {"gpus": "4"})
    held = service.book(BookingRequest("alice", Resources(2, 8, 4), "now", "3-day"))

    world.slack.command(BOB, "/book", "1 gpu tomorrow 9am 1-day")
    refusal = world.api.wait_for("chat.postMessage")[0].args
    assert refusal["text"].startswith("Not enough free for that window")
    [[_offer, notify]] = [b["elements"] for b in refusal["blocks"] if b["type"] == "actions"]
    assert notify["text"]["text"] == "Notify me"

    world.slack.click(BOB, notify["value"])
    joined = world.api.wait_for("response_url", count=2)[1].args["text"]  # after the pointer
    assert joined.startswith("OK: I will message you when 4 CPUs, 16 GB, 1 GPU for 1 day fits")

    world.slack.click(ALICE, f"cancel {held.id}")
    world.api.wait_for("response_url", count=3)
    assert flush_outbox(world) == 1
    [dm] = [c.args for c in dms_to(world, BOB) if c.args["text"].startswith("Room freed up")]
    [[book_it]] = [b["elements"] for b in dm["blocks"] if b["type"] == "actions"]
    assert book_it["text"]["text"] == "Book it"

    world.slack.click(BOB, book_it["value"])
    booked = world.api.wait_for("response_url", count=4)[3].args["text"]
    assert booked.startswith("Booked: #2 [booked] bob:")
    [booking] = service.bookings("bob")
    assert booking.end - booking.start == timedelta(days=1) and booking.resources.gpus == 1
