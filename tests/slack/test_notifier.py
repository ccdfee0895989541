"""The scheduler's messages reach a member as Slack direct messages."""

from __future__ import annotations

from core.chat.actions import stored
from core.chat.conversation import booking_actions
from core.domain.model import Account
from core.services.notifier import Message, MessageKind
from tests.slack.conftest import BOB
from tests.slack.harness import SlackWorld


def test_a_message_is_a_dm_with_its_buttons(world: SlackWorld):
    bob = world.booking.service.account("bob")
    message = Message(MessageKind.REMINDER, "Booking #3 ends in 1 hour.", 3,
                      stored(booking_actions(3)))

    assert world.adapter.notifier.deliver(bob, message) is True

    [opened] = world.api.of("conversations.open")
    assert opened.args["users"] == BOB
    [posted] = world.api.of("chat.postMessage")
    assert posted.args["channel"] == "D" + BOB
    assert posted.args["text"] == "Booking #3 ends in 1 hour."
    buttons = [e["text"]["text"] for b in posted.args["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons == ["Cancel #3", "Extend #3 1 day"]


def test_the_ready_message_keeps_the_ssh_command_readable(world: SlackWorld):
    bob = world.booking.service.account("bob")
    text = "Booking #4 is ready: `ssh -p 10001 bob@gpu1.example.org` password `a<b&c`"

    world.adapter.notifier.deliver(bob, Message(MessageKind.READY, text, 4))

    [posted] = world.api.of("chat.postMessage")
    section = posted.args["blocks"][0]["text"]["text"]
    assert section == (
        "Booking #4 is ready: `ssh -p 10001 bob@gpu1.example.org` password `a&lt;b&amp;c`"
    )


def test_an_account_without_slack_is_not_this_channels_to_reach(world: SlackWorld):
    assert world.adapter.notifier.deliver(Account(name="dave"), Message(MessageKind.INFO, "hi")) \
        is False
    assert world.api.of("chat.postMessage") == []
