"""`/book` as a one-liner, alone (the modal), and its sub-commands."""

from __future__ import annotations

from datetime import timedelta

from tests.slack.conftest import BOB, CAROL
from tests.slack.harness import SlackWorld


def buttons(blocks: list[dict]) -> list[tuple[str, str]]:
    return [(e["text"]["text"], e["value"]) for b in blocks if b["type"] == "actions"
            for e in b["elements"]]


def test_a_one_liner_books_and_keeps_the_answer_with_buttons_in_the_dms(world: SlackWorld):
    posted = world.slack.command(BOB, "/book", "1 gpu 4 cpus 16g now 3-day")

    assert posted.status == 200 and posted.body == b""
    pointer = world.api.wait_for("response_url")[0].args
    assert pointer["response_type"] == "ephemeral"
    assert pointer["text"].startswith("Booked: #1 [booked] bob:")
    assert buttons(pointer["blocks"]) == []  # one set of buttons, in the DM
    [note] = [b for b in pointer["blocks"] if b["type"] == "context"]
    assert note["elements"][0]["text"] == (
        "Kept in <https://slack.com/app_redirect?channel=DUBOB&team=T0001|our direct messages>"
        ", with its buttons.")
    reply = world.api.wait_for("chat.postMessage")[0].args
    assert reply["channel"] == "D" + BOB
    assert reply["text"].startswith("Booked: #1 [booked] bob:")
    # Times as Slack date tokens (each reader's own zone), never bob's zone abbreviation.
    [booking] = world.booking.service.bookings("bob")
    assert f"<!date^{int(booking.start.timestamp())}^{{date_short_pretty}} {{time}}|" in reply["text"]
    assert "CET" not in reply["text"] and "CEST" not in reply["text"]
    [(cancel, cancel_command), (extend, extend_command)] = buttons(reply["blocks"])
    assert (cancel, cancel_command) == ("Cancel #1", "cancel 1")
    assert extend.startswith("Extend #1 to ") and extend_command.startswith("extend 1 to ")
    [booking] = world.booking.service.bookings("bob")
    assert (booking.resources.cpus, booking.resources.memory, booking.resources.gpus) == (4, 16, 1)
    assert booking.end - booking.start == timedelta(days=3)
    assert world.booking.service.account("bob").timezone == "Europe/Berlin"


def test_book_list_and_help_answer_in_place(world: SlackWorld):
    world.slack.command(BOB, "/book", "2 cpus 4g 0 gpus now 1-day")
    world.api.wait_for("response_url")
    world.slack.command(BOB, "/book", "list")
    listing = world.api.wait_for("response_url", count=2)[1].args
    assert listing["text"].startswith("Your bookings:\n#1 [booked] bob:")
    world.slack.command(BOB, "/book", "help")
    help_text = world.api.wait_for("response_url", count=3)[2].args["text"]
    assert "extend N 2-day" in help_text


def test_book_alone_opens_the_modal_with_the_members_maximum(world: SlackWorld):
    posted = world.slack.command(CAROL, "/book", "")

    assert posted.status == 200
    opened = world.api.wait_for("views.open")[0].args
    assert opened["trigger_id"].startswith("trigger.")
    view = world.api.wait_for("views.update")[0].args["view"]
    assert view["callback_id"] == "book_modal"
    hints = {b["block_id"]: b["hint"]["text"] for b in view["blocks"] if "hint" in b}
    assert hints["cpus"] == "Your maximum: 8"
    assert hints["gpus"] == "Your maximum: 1"
    image = next(b for b in view["blocks"] if b["block_id"] == "image")
    assert image["element"]["initial_option"]["value"] == "rober5566a/aivc-server:latest"
    assert world.booking.service.bookings("carol") == []


def test_a_partial_line_asks_for_the_rest_in_direct_messages(world: SlackWorld):
    world.slack.command(BOB, "/book", "now 3-day")

    question = world.api.wait_for("chat.postMessage")[0].args
    assert question["channel"] == "D" + BOB
    assert question["text"].startswith("Your maximum: cpus=8 memory=32 gpus=1. How much")
    pointer = world.api.wait_for("response_url")[0].args
    assert "direct messages" in pointer["text"]

    world.slack.dm(BOB, "4 16 1")
    booked = world.api.wait_for("chat.postMessage", count=2)[1].args
    assert booked["text"].startswith("Booked: #1")


def test_an_unknown_slack_user_is_told_whom_to_ask(world: SlackWorld):
    world.slack.command("USTRANGER", "/book", "1 gpu now 1-day")

    reply = world.api.wait_for("response_url")[0].args
    assert "no booking account yet" in reply["text"] and "alice" in reply["text"]
    assert world.booking.service.bookings() == []
