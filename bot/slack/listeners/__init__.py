"""Bolt listeners, one module per kind, each a plain function of Bolt's arguments.

A listener finds our SlackContext in Bolt's `context` (see `bot.slack.app`), so a test
can call one alone with fakes for `ack`, `respond` and `client`. Every listener
acknowledges at once and does its work lazily, after Slack's three seconds are safe;
the modal's submission is answered inside the acknowledgement: field errors, or a
refusal redrawn in the form, as Slack wants them.
"""

from __future__ import annotations

import re

from slack_bolt import Ack, App

from bot.slack import capacity
from bot.slack.blocks import COMMAND_ACTION, CONFIRMED_ACTION, MENU_ACTION, OPEN_FORM_ACTION
from bot.slack.listeners import actions, commands, events, views
from bot.slack.modal import CALLBACK_ID, FORM_FIELD


def ack_now(ack: Ack) -> None:
    ack()


def register(app: App) -> None:
    """Every listener of the app, in one place."""
    app.command("/book")(ack=ack_now, lazy=[commands.book])
    app.command("/capacity")(ack=ack_now, lazy=[commands.capacity])
    app.view(CALLBACK_ID)(ack=views.check_modal, lazy=[])
    app.action(FORM_FIELD)(ack=ack_now, lazy=[views.form_changed])
    app.action(re.compile(rf"^({COMMAND_ACTION}|{MENU_ACTION}):\d+$"))(
        ack=ack_now, lazy=[actions.run_command])
    app.action(re.compile(rf"^{CONFIRMED_ACTION}:\d+$"))(ack=ack_now, lazy=[actions.confirmed])
    app.action(re.compile(rf"^{capacity.ADMIN_ACTION}:\d+$"))(ack=ack_now, lazy=[capacity.pressed])
    app.action(OPEN_FORM_ACTION)(ack=ack_now, lazy=[actions.open_form])
    app.event("message")(ack=ack_now, lazy=[events.direct_message])
    app.event("app_home_opened")(ack=ack_now, lazy=[events.home_opened])
    app.event("user_change")(ack=ack_now, lazy=[events.user_change])
