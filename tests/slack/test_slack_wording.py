"""Words within what Slack shows: field errors and hints in plain text within their
limits, and no typed-answer hint where only buttons can answer."""

from __future__ import annotations

import re
from dataclasses import replace

from core.domain.model import Resources, Status
from core.services.capacity import BookingRequest
from tests.slack.conftest import BOB, CAROL
from tests.slack.harness import SlackWorld
from tests.slack.test_modal import IMAGE, form, open_modal, tomorrow_at


def test_a_long_end_error_ends_at_a_whole_clause_without_backticks(world: SlackWorld):
    view = open_modal(world)

    errors = world.slack.submit_view(CAROL, view, form(
        start=tomorrow_at(9), length="until", until=tomorrow_at(9) + 20 * 86400),
        IMAGE).json()["errors"]

    assert list(errors) == ["until"]
    assert len(errors["until"]) <= 150 and "`" not in errors["until"]
    assert errors["until"].endswith(".") and not errors["until"].endswith("..")


def test_a_start_off_the_slot_grid_says_so_in_plain_text(world: SlackWorld):
    view = open_modal(world)

    errors = world.slack.submit_view(
        CAROL, view, form(start=tomorrow_at(9) + 15 * 60), IMAGE).json()["errors"]

    assert list(errors) == ["start"]
    assert len(errors["start"]) <= 150 and "`" not in errors["start"]


def test_hints_say_what_to_choose_without_literal_backticks(world: SlackWorld):
    view = open_modal(world)

    hints = {b["block_id"]: b["hint"]["text"] for b in view["blocks"] if "hint" in b}

    assert "`" not in "".join(hints.values())
    assert hints["start"].startswith("Leave it empty to start now")


def test_an_offer_asked_in_a_channel_asks_yes_or_no_only_where_it_can_be_answered(
    world: SlackWorld,
):
    world.booking.service.set_limits("alice", {"gpus": "4"})
    world.booking.service.book(BookingRequest(
        user="alice", resources=Resources(2, 8, 4), start="now", end="2-day"))

    world.slack.command(BOB, "/book", "1 gpu now 1-day")

    pointer = world.api.wait_for("response_url")[0].args
    assert pointer["response_type"] == "ephemeral"
    assert pointer["text"].endswith("Shall I book it then?")
    assert "yes / no" not in str(pointer["blocks"])
    kept = world.api.wait_for("chat.postMessage")[0].args  # the DM: typed or pressed
    assert kept["text"].endswith("Shall I book it then? (yes / no)")
    [[button, notify]] = [b["elements"] for b in kept["blocks"] if b["type"] == "actions"]
    assert button["text"]["text"].startswith("Book from ")
    assert notify["text"]["text"] == "Notify me"  # the waitlist (README, "Waitlist")

    world.slack.dm(BOB, "yes")
    booked = world.api.wait_for("chat.postMessage", count=2)[1].args
    assert booked["text"].startswith("Booked: #2 [booked] bob:")


def sections(blocks: list[dict]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


def test_a_login_shows_its_values_and_ssh_command_as_code_without_aligned_columns(
    world: SlackWorld,
):
    booking = world.booking.service.book(BookingRequest(
        user="bob", resources=Resources(2, 8, 1), start="now", end="1-day"))
    with world.booking.service.unit() as uow:
        uow.bookings.save(replace(booking, status=Status.RUNNING))
        uow.commit()

    world.slack.command(BOB, "/book", f"login {booking.id}")

    shown = sections(world.api.wait_for("response_url")[0].args["blocks"])
    assert "host: `gpu1.example.org`" in shown
    assert f"port: `{booking.port}`" in shown
    assert re.search(r"^password: `[a-z2-7]{16}`$", shown, re.MULTILINE)
    assert f"\n`ssh -p {booking.port} root@gpu1.example.org`" in shown
    assert "  " not in shown  # no spaces to align columns in a proportional font


def test_help_in_slack_sets_each_command_in_code_as_typed_in_slack(world: SlackWorld):
    world.slack.command(BOB, "/book", "help")

    shown = sections(world.api.wait_for("response_url")[0].args["blocks"])
    assert "\n`/book extend N 2-day` make booking N two days longer" in shown
    assert "\n`/book 2 gpus tomorrow 9am for 1-week` (the same, other words)" in shown
    assert "\n`/book list` your upcoming" in shown
    assert shown.endswith("In our direct messages the same words work without `/book`.")
    assert "  " not in shown


def test_what_help_shows_works_as_typed(world: SlackWorld):
    world.slack.command(BOB, "/book", "1 gpu 8 cpus 32g now 3-day")  # help's first line

    assert world.api.wait_for("response_url")[0].args["text"].startswith("Booked: #1")
