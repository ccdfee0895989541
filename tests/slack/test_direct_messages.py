"""Direct messages run the conversation engine; the App Home shows bookings and capacity."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from core.domain.model import Resources
from core.services.capacity import BookingRequest
from tests.slack.conftest import BOB, CAROL
from tests.slack.harness import SlackWorld


def said(world: SlackWorld, count: int) -> str:
    return world.api.wait_for("chat.postMessage", count=count)[count - 1].args["text"]


def test_a_conversation_in_direct_messages_books(world: SlackWorld):
    world.slack.dm(CAROL, "book")
    assert said(world, 1).startswith("Your maximum: cpus=8 memory=32 gpus=1. How much do you need?")
    world.slack.dm(CAROL, "4 16 1")
    assert said(world, 2).startswith("When should it start?")
    world.slack.dm(CAROL, "tomorrow 9am")
    assert said(world, 3) == "When should it end? e.g. `3-day`, `1-week`, or a date."
    world.slack.dm(CAROL, "3-day")

    booked = world.api.wait_for("chat.postMessage", count=4)[3].args
    assert booked["channel"] == "D" + CAROL
    assert booked["text"].startswith("Booked: #1 [booked] carol:")
    [booking] = world.booking.service.bookings("carol")
    assert booking.start.astimezone(ZoneInfo("Asia/Taipei")).hour == 9  # her Slack zone
    assert f"<!date^{int(booking.start.timestamp())}^" in booked["text"]  # each reader's zone
    assert "CST" not in booked["text"]
    values = [e["value"] for b in booked["blocks"] if b["type"] == "actions" for e in b["elements"]]
    extended = booking.end.astimezone(UTC) + timedelta(days=1)  # 09:00 CST a day later
    assert values == ["cancel 1", f"extend 1 to {extended:%Y %m %d %H %M} UTC"]
    assert len(world.booking.service.bookings("carol")) == 1


def test_a_message_in_a_dm_thread_is_answered_in_that_thread(world: SlackWorld):
    world.slack.dm(BOB, "list")
    top = world.api.wait_for("chat.postMessage")[0].args
    assert "thread_ts" not in top

    world.slack.event({"type": "message", "channel": "D" + BOB, "channel_type": "im",
                       "user": BOB, "text": "help", "ts": "1700000001.000200",
                       "thread_ts": "1700000000.000100"})

    answer = world.api.wait_for("chat.postMessage", count=2)[1].args
    assert answer["thread_ts"] == "1700000000.000100"
    assert answer["text"].startswith("What I understand:")


def test_messages_that_are_not_a_members_own_are_ignored(world: SlackWorld):
    world.slack.event({"type": "message", "subtype": "message_changed", "channel": "D" + BOB,
                       "channel_type": "im", "user": BOB, "text": "book"})
    world.slack.event({"type": "message", "channel": "D" + BOB, "channel_type": "im",
                       "bot_id": "BOTHER", "user": "UOTHERBOT", "text": "book"})
    world.slack.dm(BOB, "help")

    first = world.api.wait_for("chat.postMessage")[0].args["text"]
    assert first.startswith("What I understand:")
    assert len(world.api.of("chat.postMessage")) == 1


def test_the_app_home_lists_the_members_bookings_with_buttons_and_free_capacity(
    world: SlackWorld,
):
    service = world.booking.service
    booking = service.book(BookingRequest("bob", Resources(2, 8, 1), "tomorrow 9am", "1-day"))
    world.api.wait_for("views.publish")  # published again on the change, before bob looks

    posted = world.slack.event({"type": "app_home_opened", "user": BOB, "channel": "D" + BOB,
                                "tab": "home"})

    assert posted.status == 200
    view = world.api.wait_for("views.publish", count=2)[1].args["view"]
    assert view["type"] == "home"
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] in ("section", "header")]
    assert texts[0] == "Your bookings"
    assert texts[1].startswith(f"#{booking.id} [booked] bob: <!date^{int(booking.start.timestamp())}^")
    assert "CET" not in texts[1]
    assert texts[2] == "The server"
    assert "Free in the next 3 days" in texts[3]
    values = [e["value"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert values[0] == "form"  # the Book a server button, above the bookings
    assert values[1] == f"cancel {booking.id}" and values[2].startswith(f"extend {booking.id} to ")


def test_the_app_home_is_published_again_when_a_members_booking_changes(world: SlackWorld):
    service = world.booking.service
    booking = service.book(BookingRequest("bob", Resources(2, 8, 1), "tomorrow 9am", "1-day"))

    shown = world.api.wait_for("views.publish", lambda c: c.args["user_id"] == BOB)[0]
    texts = [b["text"]["text"] for b in shown.args["view"]["blocks"] if b["type"] == "section"]
    assert texts[0].startswith(f"#{booking.id} [booked] bob:")

    service.cancel(booking.id, actor="alice")  # an admin's change, not bob's press

    again = world.api.wait_for("views.publish", lambda c: c.args["user_id"] == BOB, count=2)[1]
    texts = [b["text"]["text"] for b in again.args["view"]["blocks"] if b["type"] == "section"]
    assert texts[0].startswith("You have no upcoming or running bookings.")
