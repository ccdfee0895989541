"""Buttons and menus: each carries a command; the core's `press` acts on it once.

After a press the message that carried the buttons is redrawn in place
(`replace_original` through the response URL), so its old buttons disappear. A menu
entry for a destructive verb cannot have its own dialog, so it is asked about in a
message first, whose "yes" then acts.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.slack.blocks import (
    CARD_BLOCK,
    confirm_blocks,
    fallback_text,
    reply_blocks,
    to_mrkdwn,
)
from bot.slack.booking_form import open_booking_form
from bot.slack.context import Respond, post_replies, respond_replies, slack_of
from bot.slack.home import home_view
from bot.slack.modal import notice_modal
from core.chat.actions import parse_press
from core.chat.messages import Reply
from core.domain.model import Refusal

log = logging.getLogger(__name__)


def pressed_command(action: dict[str, Any]) -> str:
    """The command a button or a menu entry carries."""
    if action.get("type") == "overflow":
        return str((action.get("selected_option") or {}).get("value") or "")
    return str(action.get("value") or "")


def run_command(
    body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond,
    context: dict[str, Any],
) -> None:
    slack = slack_of(context)
    user_id = body["user"]["id"]
    from_home = body.get("view", {}).get("type") == "home"
    command = pressed_command(action)
    in_message = bool(body.get("response_url"))
    if action.get("type") == "overflow" and parse_press(command).confirm and in_message:
        # A menu entry has no dialog of its own: ask in a message, whose yes acts.
        asked = parse_press(command)
        respond(text=asked.confirm, blocks=confirm_blocks(asked),
                response_type="ephemeral", replace_original=False)
        return
    in_list = str(action.get("block_id", "")).startswith(f"{CARD_BLOCK}:")
    try:
        account = slack.members.account(user_id)
        zone = slack.service.zone_of(account)
        pressed = slack.engine.press(account, command, in_list=in_list)
    except Refusal as refusal:
        if in_message:
            respond_replies(respond, [Reply(refusal.message)])
        else:
            post_replies(client, slack.members.dm_channel(user_id), [Reply(refusal.message)])
        return
    if in_message:
        if pressed.update is not None:
            respond(text=fallback_text([pressed.update], zone),
                    blocks=reply_blocks([pressed.update], zone=zone), replace_original=True)
        if pressed.replies:
            respond_replies(respond, pressed.replies, zone)
    else:
        answers = ([pressed.update] if pressed.update else []) + pressed.replies
        if answers:
            post_replies(client, slack.members.dm_channel(user_id), answers, zone=zone)
        if answers and body.get("view", {}).get("type") == "modal":  # an offer in the form
            text = to_mrkdwn("\n".join(a.text for a in answers), zone)
            client.views_update(view_id=body["view"]["id"],
                                view=notice_modal(f"{text}\n\nKept in our direct messages."))
    if from_home:
        client.views_publish(user_id=user_id, view=home_view(slack, account))


def open_form(body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    """The App Home's *Book a server*: the same form as `/book` alone."""
    user_id = body["user"]["id"]
    slack = slack_of(context)
    open_booking_form(slack, user_id, body["trigger_id"], client, lambda replies: post_replies(
        client, slack.members.dm_channel(user_id), replies))


def confirmed(body: dict[str, Any], action: dict[str, Any], respond: Respond,
              context: dict[str, Any]) -> None:
    """The yes or no of a question asked in a message; the question is then removed."""
    command = pressed_command(action)
    if command == "keep":
        respond(delete_original=True)
        return
    slack = slack_of(context)
    try:
        account = slack.members.account(body["user"]["id"])
        pressed = slack.engine.press(account, command)
    except Refusal as refusal:
        respond_replies(respond, [Reply(refusal.message)])
        return
    answers = ([pressed.update] if pressed.update else []) + pressed.replies
    zone = slack.service.zone_of(account)
    respond(text=fallback_text(answers, zone), blocks=reply_blocks(answers, zone=zone),
            replace_original=True)
