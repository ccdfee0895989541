"""One listener at a time, called as Bolt calls it: our context in `context`, a
recording `respond`, a real Web API client against the local stand-in, real SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot import bootstrap
from bot.slack.app import web_client
from bot.slack.context import CONTEXT_KEY, SlackContext
from bot.slack.listeners import actions, commands, events
from bot.slack.members import Members
from core.domain.model import Resources, Status
from core.services.capacity import BookingRequest
from tests.slack.blockkit import check_everything_sent
from tests.slack.harness import BOT_TOKEN, FakeSlackApi, write_config

BOB = "UBOB"


@dataclass
class Responses:
    """What `respond` was asked to send, in order."""

    sent: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, **message: Any) -> None:
        self.sent.append(message)


@dataclass
class Alone:
    slack: SlackContext
    api: FakeSlackApi
    client: WebClient
    context: BoltContext


@pytest.fixture
def alone(tmp_path: Path) -> Iterator[Alone]:
    api = FakeSlackApi(timezones={BOB: "Europe/Berlin"}).start()
    environment = bootstrap.Environment(
        booking_config=write_config(tmp_path),
        booking_database_url=f"sqlite:///{tmp_path / 'booking.db'}",
        booking_data_dir=tmp_path,
    )
    booking = bootstrap.build(environment)
    booking.service.add_account("bob", slack_id=BOB)
    client = web_client(BOT_TOKEN, api.base_url)
    slack = SlackContext(booking, Members(booking.service, client))
    try:
        yield Alone(slack, api, client, BoltContext({CONTEXT_KEY: slack, "client": client}))
        check_everything_sent(api.calls)
    finally:
        api.stop()


def command(text: str) -> dict[str, Any]:
    return {"user_id": BOB, "command": "/book", "text": text, "channel_id": "C0GENERAL",
            "trigger_id": "trigger.1"}


def test_the_book_one_liner_alone_keeps_the_booking_in_the_dm_and_points_to_it(alone: Alone):
    respond = Responses()

    commands.book(command("2 cpus 8g 1 gpu now 1-day"), alone.client, respond, alone.context)

    [pointer] = respond.sent
    assert pointer["response_type"] == "ephemeral"
    assert pointer["text"].startswith("Booked: #1 [booked] bob:")
    [kept] = alone.api.of("chat.postMessage")
    assert kept.args["channel"] == "D" + BOB
    labels = [e["text"]["text"] for b in kept.args["blocks"] if b["type"] == "actions"
              for e in b["elements"]]
    assert labels[0] == "Cancel #1" and labels[1].startswith("Extend #1 to ")
    [booking] = alone.slack.service.bookings("bob")
    assert booking.resources == Resources(2, 8, 1)


def test_list_alone_answers_only_where_it_was_asked(alone: Alone):
    respond = Responses()

    commands.book(command("list"), alone.client, respond, alone.context)

    [answer] = respond.sent
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("You have no upcoming or running bookings.")
    assert alone.api.of("chat.postMessage") == []


def test_a_cancel_press_alone_redraws_the_message_and_cancels(alone: Alone):
    booking = alone.slack.service.book(BookingRequest(
        user="bob", resources=Resources(2, 8, 1), start="tomorrow 9am", end="1-day"))
    respond = Responses()
    body = {"user": {"id": BOB}, "response_url": "https://hooks.slack.test/1"}
    action = {"type": "button", "action_id": "booking_cmd:1", "block_id": "b1",
              "value": f"cancel {booking.id}"}

    actions.run_command(body, action, alone.client, respond, alone.context)

    [redrawn] = respond.sent
    assert redrawn["replace_original"] is True
    assert redrawn["text"] == f"Booking #{booking.id} is cancelled."
    assert alone.slack.service.get(booking.id).status == Status.CANCELLED

    actions.run_command(body, action, alone.client, respond, alone.context)  # a second press
    assert len(respond.sent) == 2
    assert respond.sent[-1]["text"] == f"Nothing to do: Booking #{booking.id} is cancelled."
    assert alone.slack.service.get(booking.id).status == Status.CANCELLED


def test_a_direct_message_alone_is_answered_in_that_channel(alone: Alone):
    events.direct_message({"type": "message", "channel_type": "im", "channel": "DBOB",
                           "user": BOB, "text": "help"}, alone.client, alone.context)

    [posted] = alone.api.of("chat.postMessage")
    assert posted.args["channel"] == "DBOB"
    assert "extend N 2-day" in posted.args["text"]


def test_a_profile_change_of_someone_without_an_account_registers_nobody(alone: Alone) -> None:
    before = [a.name for a in alone.slack.service.accounts()]

    events.user_change({"type": "user_change", "user": {"id": "UNEW", "name": "new", "tz": "UTC"}},
                       alone.context)
    events.user_change({"type": "user_change", "user": "not a profile"}, alone.context)

    assert [a.name for a in alone.slack.service.accounts()] == before
    assert alone.api.of("users.info") == []  # the event's profile is enough
