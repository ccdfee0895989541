"""`/book` alone opens the form while its trigger (three seconds) is fresh, fills it after,
and tells the member how to book in one line when Slack would not open it."""

from __future__ import annotations

from tests.slack.conftest import CAROL
from tests.slack.harness import SlackWorld


def test_the_form_opens_before_any_lookup_and_is_filled_after(world: SlackWorld):
    world.slack.command(CAROL, "/book", "")

    update = world.api.wait_for("views.update")[0].args
    methods = [c.method for c in world.api.calls]
    assert methods.index("views.open") < methods.index("users.info") < methods.index(
        "views.update")
    opened = world.api.of("views.open")[0].args["view"]
    assert opened["type"] == "modal" and "submit" not in opened  # nothing to submit yet
    assert update["view_id"] == "V1"
    assert update["view"]["callback_id"] == "book_modal"
    assert update["view"]["submit"]["text"] == "Book"
    assert world.api.of("response_url") == []


def test_an_expired_trigger_answers_with_the_one_line_form(world: SlackWorld):
    world.api.errors["views.open"] = ["expired_trigger_id"]

    world.slack.command(CAROL, "/book", "")

    answer = world.api.wait_for("response_url")[0].args
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Slack did not let me open the booking form in time.")
    assert "`/book 1 gpu 8 cpus 32g now 3-day`" in answer["text"]
    assert world.api.of("views.update") == []

    # The line it suggests books.
    world.slack.command(CAROL, "/book", "1 gpu 8 cpus 32g now 3-day")
    booked = world.api.wait_for("response_url", count=2)[1].args
    assert booked["text"].startswith("Booked: #1 [booked] carol:")


def test_an_unknown_member_sees_whom_to_ask_in_the_form(world: SlackWorld):
    world.slack.command("USTRANGER", "/book", "")

    view = world.api.wait_for("views.update")[0].args["view"]
    [section] = view["blocks"]
    assert "no booking account yet" in section["text"]["text"]
    assert "submit" not in view


def home_book_button(world: SlackWorld, user: str) -> dict:
    world.slack.event({"type": "app_home_opened", "user": user, "tab": "home",
                       "channel": "D" + user})
    home = world.api.wait_for("views.publish")[0].args["view"]
    return next(e for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["text"]["text"] == "Book a server")


def test_the_homes_book_button_opens_the_same_form(world: SlackWorld):
    button = home_book_button(world, CAROL)

    world.slack.click(CAROL, button["value"], in_home=True, action_id=button["action_id"])

    assert world.api.wait_for("views.open")[0].args["trigger_id"] == "trigger.click"
    view = world.api.wait_for("views.update")[0].args["view"]
    assert view["callback_id"] == "book_modal"
    hints = {b["block_id"]: b["hint"]["text"] for b in view["blocks"] if "hint" in b}
    assert hints["gpus"] == "Your maximum: 1"


def test_when_the_homes_form_cannot_open_the_member_gets_the_one_line_form_by_dm(
    world: SlackWorld,
):
    button = home_book_button(world, CAROL)
    world.api.errors["views.open"] = ["expired_trigger_id"]

    world.slack.click(CAROL, button["value"], in_home=True, action_id=button["action_id"])

    told = world.api.wait_for("chat.postMessage")[0].args
    assert told["channel"] == "D" + CAROL
    assert told["text"].startswith("Slack did not let me open the booking form in time.")
