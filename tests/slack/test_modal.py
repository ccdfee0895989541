"""The `/book` modal's submissions: field errors while it stays open, or a booking."""

from __future__ import annotations

import time
from typing import Any

from tests.slack.conftest import CAROL
from tests.slack.harness import SlackWorld

IMAGE = "rober5566a/aivc-server:latest"


def open_modal(world: SlackWorld, user: str = CAROL) -> dict[str, Any]:
    world.slack.command(user, "/book", "")
    return world.api.wait_for("views.update")[0].args["view"]


def form(**changes: str) -> dict[str, str]:
    values = {"cpus": "2", "memory": "8", "gpus": "1", "start": "now", "end": "2-day",
              "command": ""}
    return {**values, **changes}


def test_a_bad_start_is_shown_on_the_start_field_and_nothing_is_booked(world: SlackWorld):
    view = open_modal(world)

    posted = world.slack.submit_view(CAROL, view, form(start="the day after never"), IMAGE)

    assert posted.status == 200
    answer = posted.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["start"]
    assert "is not a time I understand" in answer["errors"]["start"]
    time.sleep(0.5)  # the lazy half runs too; it must not book
    assert world.booking.service.bookings("carol") == []
    assert world.api.of("chat.postMessage") == []


def test_each_bad_field_gets_its_own_error(world: SlackWorld):
    view = open_modal(world)

    posted = world.slack.submit_view(
        CAROL, view, form(cpus="9", memory="1.5", end="2 hours ago"), IMAGE
    )

    errors = posted.json()["errors"]
    assert errors["cpus"] == "Your maximum is 8."
    assert errors["memory"] == "Enter a whole number."
    assert "end" in errors and "start" not in errors


def test_a_good_submission_closes_the_modal_and_books(world: SlackWorld):
    view = open_modal(world)

    posted = world.slack.submit_view(
        CAROL, view, form(start="tomorrow 9am", command="jupyter lab"), IMAGE
    )

    assert posted.status == 200 and posted.body == b""  # an empty ack closes the modal
    message = world.api.wait_for("chat.postMessage")[0].args
    assert message["channel"] == "D" + CAROL
    assert message["text"].startswith("Booked: #1 [booked] carol:")
    [booking] = world.booking.service.bookings("carol")
    assert booking.command == "jupyter lab" and booking.image == IMAGE
    assert booking.start.astimezone(world.booking.service.zone_of(None)).hour == 9


def test_words_no_language_reads_are_refused_well_within_the_three_seconds(world: SlackWorld):
    view = open_modal(world)

    posted = world.slack.submit_view(CAROL, view, form(start="quarter past the blue moon"), IMAGE)

    assert posted.json()["response_action"] == "errors"
    assert posted.seconds < 1.0
