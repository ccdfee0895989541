"""Buttons carry engine commands: Cancel, Extend, and the offer of the earliest start."""

from __future__ import annotations

from datetime import timedelta

from core.domain.model import Resources, Status
from core.services.capacity import BookingRequest
from tests.slack.conftest import ALICE, BOB, CAROL
from tests.slack.harness import SlackWorld


def book(world: SlackWorld, user: str, gpus: int = 1, start: str = "now", end: str = "1-day"):
    request = BookingRequest(user=user, resources=Resources(2, 8, gpus), start=start, end=end)
    return world.booking.service.book(request)


def test_extend_then_cancel_buttons_change_the_booking(world: SlackWorld):
    booking = book(world, "bob", start="tomorrow 9am")

    world.slack.click(BOB, f"extend {booking.id} 1-day")
    extended = world.api.wait_for("response_url")[0].args
    assert extended["text"].startswith(f"Extended: #{booking.id}")
    assert world.booking.service.get(booking.id).end == booking.end + timedelta(days=1)

    world.slack.click(BOB, f"cancel {booking.id}")
    cancelled = world.api.wait_for("response_url", count=2)[1].args
    assert cancelled["text"] == f"Booking #{booking.id} is cancelled."
    assert world.booking.service.get(booking.id).status == Status.CANCELLED


def test_another_members_button_is_refused(world: SlackWorld):
    booking = book(world, "bob")

    world.slack.click(CAROL, f"cancel {booking.id}")

    reply = world.api.wait_for("response_url")[0].args
    assert reply["text"] == f"There is no booking #{booking.id} of yours; `list` shows yours."
    assert world.booking.service.get(booking.id).status == Status.BOOKED


def test_an_admin_may_use_a_members_button(world: SlackWorld):
    booking = book(world, "bob", start="tomorrow 9am")

    world.slack.click(ALICE, f"cancel {booking.id}")

    assert world.api.wait_for("response_url")[0].args["text"].endswith("is cancelled.")


def test_a_refusal_offers_the_earliest_start_and_its_button_books_it(world: SlackWorld):
    world.booking.service.set_limits("alice", {"gpus": "4"})
    held = book(world, "alice", gpus=4, end="2-day")

    world.slack.command(BOB, "/book", "1 gpu now 1-day")
    refusal = world.api.wait_for("chat.postMessage")[0].args
    assert "Not enough free for that window" in refusal["text"]
    assert "Shall I book it then?" in refusal["text"]
    [[offer, notify]] = [b["elements"] for b in refusal["blocks"] if b["type"] == "actions"]
    assert offer["text"]["text"].startswith("Book from ") and offer["style"] == "primary"
    assert notify["text"]["text"] == "Notify me"  # the waitlist (tests/slack/test_waitlist.py)

    world.slack.click(BOB, offer["value"])
    # Two answers by response_url, in either order (Bolt runs each in its own thread): the
    # /book command's pointer to the DM, and the press's answer.
    answers = [c.args["text"] for c in world.api.wait_for("response_url", count=2)]
    assert [a for a in answers if a.startswith("Booked: #2")], answers
    [booking] = world.booking.service.bookings("bob")
    assert booking.start == held.end


def test_a_modal_refusal_shows_an_offer_in_the_form_that_books_in_one_click(world: SlackWorld):
    world.booking.service.set_limits("alice", {"gpus": "4"})
    held = book(world, "alice", gpus=4, end="2-day")
    world.slack.command(CAROL, "/book", "")
    view = world.api.wait_for("views.update")[0].args["view"]
    values = {"cpus": "2", "memory": "8", "gpus": "1", "length": "1-day"}

    answer = world.slack.submit_view(CAROL, view, values, "rober5566a/aivc-server:latest").json()
    assert answer["response_action"] == "update"
    refusal = answer["view"]["blocks"]
    assert refusal[0]["text"]["text"].startswith("Not enough free")
    [offer, _notify] = [e for b in refusal if b["type"] == "actions" for e in b["elements"]]

    world.slack.click(CAROL, offer["value"])
    assert world.api.wait_for("response_url")[0].args["text"].startswith("Booked:")
    [booking] = world.booking.service.bookings("carol")
    assert booking.start == held.end and booking.end - booking.start == timedelta(days=1)


def test_a_button_in_the_app_home_answers_by_dm_and_refreshes_the_home(world: SlackWorld):
    booking = book(world, "bob", start="tomorrow 9am")
    world.api.wait_for("views.publish")  # the home, published again on the booking

    world.slack.click(BOB, f"cancel {booking.id}", in_home=True)

    dm = world.api.wait_for("chat.postMessage")[0].args
    assert dm["channel"] == "D" + BOB and dm["text"].endswith("is cancelled.")
    home = world.api.wait_for("views.publish", count=2)[1].args
    assert home["user_id"] == BOB
    texts = [b["text"]["text"] for b in home["view"]["blocks"] if b["type"] == "section"]
    assert "You have no upcoming or running bookings." in texts[0]
