"""Only requests Slack signed, recently, reach the listeners."""

from __future__ import annotations

import time

from tests.slack.conftest import BOB
from tests.slack.harness import SlackWorld


def test_a_wrong_signature_gets_401_and_books_nothing(world: SlackWorld):
    posted = world.slack.command(BOB, "/book", "1 gpu now 1-day", secret="not-the-secret")

    assert posted.status == 401
    time.sleep(0.5)
    assert world.booking.service.bookings() == []
    assert [c.method for c in world.api.calls if c.method != "auth.test"] == []


def test_a_stale_signature_gets_401_and_books_nothing(world: SlackWorld):
    stale = int(time.time()) - 10 * 60  # Slack's replay window is five minutes
    posted = world.slack.command(BOB, "/book", "1 gpu now 1-day", timestamp=stale)

    assert posted.status == 401
    event = world.slack.event({"type": "message", "channel": "DUBOB", "channel_type": "im",
                               "user": BOB, "text": "book 1 gpu now 1-day"}, timestamp=stale)
    assert event.status == 401
    time.sleep(0.5)
    assert world.booking.service.bookings() == []


def test_the_same_request_properly_signed_is_accepted(world: SlackWorld):
    posted = world.slack.command(BOB, "/book", "1 gpu now 1-day")

    assert posted.status == 200
    world.api.wait_for("response_url")
    assert len(world.booking.service.bookings("bob")) == 1
