"""`/capacity link` that would move someone else's link: a button with Slack's confirm
dialog naming both accounts; pressing it moves the link once and replaces the message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from core.domain.passwords import PasswordDeriver
from core.services.accounts import utcnow
from core.services.outbox import OutboxSender
from core.services.ports import SchedulerUnitOfWork
from storage.uow import SqlUnitOfWork
from tests.slack.conftest import ALICE, BOB
from tests.slack.harness import SlackWorld


def _answers(world: SlackWorld, count: int) -> list[dict[str, Any]]:
    return [c.args for c in world.api.wait_for("response_url", count=count)]


def _button(message: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    [block] = [b for b in message["blocks"] if b["type"] == "actions"]
    [element] = block["elements"]
    return element, block


def _flush_outbox(world: SlackWorld) -> dict[str, list[str]]:
    """Deliver what the outbox holds; every direct message sent so far, per channel."""
    engine, server_id = world.booking.engine, world.booking.server_id
    assert engine is not None
    OutboxSender(
        uow=cast(Callable[[], SchedulerUnitOfWork], lambda: SqlUnitOfWork(engine, server_id)),
        passwords=PasswordDeriver(b"0123456789abcdef0123"),
        notifiers=[("slack", world.adapter.notifier)], fallback=("slack", world.adapter.notifier),
        clock=utcnow,
    ).flush()
    sent: dict[str, list[str]] = {}
    for call in world.api.of("chat.postMessage"):
        sent.setdefault(call.args["channel"], []).append(call.args["text"])
    return sent


def test_the_link_button_asks_in_a_dialog_naming_both_and_acts_once(world: SlackWorld):
    world.slack.command(ALICE, "/capacity", "link <@UDAVE|dave> bob")
    [asked] = _answers(world, 1)
    assert asked["text"].startswith("`bob` is linked to slack user UBOB now;")
    button, block = _button(asked)
    assert button["text"]["text"] == "Link bob to slack user UDAVE"
    assert button["style"] == "danger"
    assert button["confirm"]["text"]["text"] == (
        "Link Slack user UDAVE to bob? Slack user UBOB is unlinked from bob; both are told.")
    service = world.booking.service
    assert service.account("bob").slack_id == BOB  # nothing moved by asking

    world.slack.press(ALICE, button, block)  # Slack sends it after "yes" in the dialog
    done = _answers(world, 2)[1]
    assert done["text"] == "<@UDAVE> is linked to bob."
    assert done["replace_original"] is True  # the asking message, and its button, are gone
    assert not [b for b in done["blocks"] if b["type"] == "actions"]
    assert service.account("bob").slack_id == "UDAVE"

    world.slack.press(ALICE, button, block)  # the same button again: an old copy, a double click
    assert _answers(world, 3)[2]["text"] == "<@UDAVE> is linked to bob."
    sent = _flush_outbox(world)
    assert len(sent["DUDAVE"]) == 1 and sent["DUDAVE"][0].startswith("An admin linked you")
    assert len(sent["DUBOB"]) == 1  # told once, not once per press


def test_a_press_after_the_links_changed_asks_again_about_what_is_there_now(world: SlackWorld):
    world.slack.command(ALICE, "/capacity", "link <@UDAVE|dave> bob")
    button, block = _button(_answers(world, 1)[0])
    world.slack.command(ALICE, "/capacity", "link <@UEVE|eve> bob confirm")
    assert _answers(world, 2)[1]["text"] == "<@UEVE> is linked to bob."

    world.slack.press(ALICE, button, block)  # the question was about UBOB, not UEVE
    again = _answers(world, 3)[2]
    assert again["text"].startswith("`bob` is linked to slack user UEVE now;")
    fresh, _ = _button(again)
    assert "Slack user UEVE is unlinked from bob" in fresh["confirm"]["text"]["text"]
    assert world.booking.service.account("bob").slack_id == "UEVE"


def test_only_an_admin_may_press_it(world: SlackWorld):
    world.slack.command(ALICE, "/capacity", "link <@UDAVE|dave> bob")
    button, block = _button(_answers(world, 1)[0])

    world.slack.press(BOB, button, block)

    assert _answers(world, 2)[1]["text"].startswith("That needs an admin (alice)")
    assert world.booking.service.account("bob").slack_id == BOB
