"""The `/book` modal with values no member should be able to book with: numbers that are
not numbers (NaN, infinity, 1e308, Unicode digits), and picker values no picker sends
(a moment past year 9999, digits that are not ASCII). Each field says what works, nothing
is booked, and a change of such a field still redraws what is free (never a traceback)."""

from __future__ import annotations

import time

import pytest

from tests.slack.conftest import CAROL
from tests.slack.harness import SlackWorld
from tests.slack.test_modal import IMAGE, form, free_words, open_modal


@pytest.mark.parametrize(("cpus", "memory", "gpus"), [
    ("nan", "nan", "nan"), ("inf", "-inf", "infinity"), ("1e308", "1e308", "1e308"),
    ("\u0662", "\u00b2", "-1"), ("9" * 5000, "0x10", "1_0"),
])
def test_numbers_that_are_not_numbers_get_field_errors_and_book_nothing(
    world: SlackWorld, cpus: str, memory: str, gpus: str,
) -> None:
    view = open_modal(world)

    posted = world.slack.submit_view(CAROL, view, form(cpus=cpus, memory=memory, gpus=gpus), IMAGE)

    answer = posted.json()
    assert answer["response_action"] == "errors", answer
    assert set(answer["errors"]) <= {"cpus", "memory", "gpus"} and answer["errors"]
    for message in answer["errors"].values():
        assert message in ("Enter a number.", "Enter a whole number.", "At least 1.", "At least 0.",
                           "Your maximum is 8.", "Your maximum is 32.", "Your maximum is 1.")
    assert answer["errors"].get("cpus") in ("Enter a number.", "Your maximum is 8.", "At least 1.",
                                            None)
    time.sleep(0.3)
    assert world.booking.service.bookings("carol") == []


@pytest.mark.parametrize("moment", [10**15, "\u00b2", "-5", "12345678901234567890123"])
def test_a_picker_value_no_picker_sends_is_read_as_no_choice(world: SlackWorld, moment: object) -> None:
    view = open_modal(world)

    posted = world.slack.submit_view(
        CAROL, view, form(start=moment, length="until", until=moment), IMAGE)

    assert posted.json()["errors"] == {"until": "Choose when it should end, or a length above."}
    assert world.booking.service.bookings("carol") == []


@pytest.mark.parametrize(("block", "value"), [("memory", "nan"), ("cpus", "inf"),
                                              ("start", 10**15), ("gpus", "1e308")])
def test_a_change_to_such_a_value_still_redraws_what_is_free(
    world: SlackWorld, block: str, value: object,
) -> None:
    view = open_modal(world)

    world.slack.change(CAROL, view, block, value)

    redrawn = world.api.wait_for("views.update", count=2)[1].args["view"]
    assert free_words(redrawn).startswith("Free for the whole time"), free_words(redrawn)


@pytest.mark.parametrize("cpus", ["nan", "NaN", "inf"])
def test_cpus_that_are_not_a_number_are_refused_on_their_field(world: SlackWorld, cpus: str) -> None:
    view = open_modal(world)

    posted = world.slack.submit_view(CAROL, view, form(cpus=cpus), IMAGE)

    assert posted.json()["errors"] == {"cpus": "Enter a number."}
    time.sleep(0.3)
    assert world.booking.service.bookings("carol") == []
