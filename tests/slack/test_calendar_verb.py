"""`/book calendar` in Slack: the member's calendar feed link, only to them (README,
"Calendar feeds and metrics")."""

from __future__ import annotations

from tests.slack.conftest import BOB
from tests.slack.harness import SlackWorld


def test_book_calendar_answers_only_the_member_with_their_link(world: SlackWorld) -> None:
    world.slack.command(BOB, "/book", "calendar")
    off = world.api.wait_for("response_url")[0].args
    assert off["text"].startswith("Calendar feeds are not served here")

    world.booking.conversation.calendar_link = lambda name: f"https://lab.example/calendar/{name}/t.ics"
    world.slack.command(BOB, "/book", "calendar")
    answer = world.api.wait_for("response_url", count=2)[1].args
    assert answer["text"] == ("Your bookings as a calendar (subscribe, keep it private): "
                              "https://lab.example/calendar/bob/t.ics")
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    assert world.api.of("chat.postMessage") == []  # nothing said in the channel
