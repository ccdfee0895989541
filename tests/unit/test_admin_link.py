"""Linking a chat user in core: a link that belongs to someone else comes with an action
whose question names both, and whose command alone says what to do, once."""

from __future__ import annotations

from core.chat.admin_link import link, parse_link
from core.chat.admin_render import render
from core.chat.admin_views import ChatUser, Code
from tests.factories import fake_service
from tests.unit.test_admin_views import Marked

AGAIN = ("send ", Code("/capacity link again confirm"), ".")


def test_moving_both_ways_asks_a_question_naming_everyone_and_the_command_reads_back() -> None:
    service, _ = fake_service()
    service.add_account("bob", slack_id="UBOB")
    service.add_account("carol", slack_id="UCAROL")

    view = link(service, "bob", ChatUser("slack", "UCAROL"), again=AGAIN, admin=True)

    [action] = view.actions
    assert action.label == "Link bob to slack user UCAROL" and action.verb == "link"
    assert action.confirm == ("Link Slack user UCAROL to bob? Slack user UBOB is unlinked from "
                              "bob and carol loses Slack user UCAROL; both are told.")
    asked = parse_link(action.command)
    assert asked is not None and asked.user == ChatUser("slack", "UCAROL")
    assert (asked.lab_id, asked.admin, asked.label) == ("bob", True, action.label)
    assert render(view, Marked()).endswith("To do it, send `/capacity link again confirm`.")
    assert service.account("bob").slack_id == "UBOB"


def test_a_press_moves_the_link_once_and_a_second_answers_with_the_link() -> None:
    service, _ = fake_service()
    service.add_account("bob", slack_id="UBOB")
    [action] = link(service, "bob", ChatUser("slack", "UDAVE"), again=AGAIN).actions
    asked = parse_link(action.command)
    assert asked is not None

    for _ in range(2):
        done = link(service, asked.lab_id, asked.user, again=AGAIN, seen=asked.seen)
        assert render(done, Marked()) == "@slack:UDAVE is linked to [bob]."
        assert done.actions == ()
    assert service.account("bob").slack_id == "UDAVE"


def test_commands_that_are_not_a_link_press_read_as_none() -> None:
    for command in ("", "cancel 12", "link slack:UDAVE bob", "link slack:U D bob seen:0123abcd",
                    "link irc:UDAVE bob seen:0123abcd", "link slack:UDAVE bob seen:xyz"):
        assert parse_link(command) is None
