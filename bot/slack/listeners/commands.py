"""Slash commands: `/book` (modal, one-liners, list/cancel/extend/help) and `/capacity`."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.slack import capacity as capacity_views
from bot.slack.booking_form import open_booking_form
from bot.slack.context import Respond, post_replies, respond_replies, slack_of
from core.chat.conversation import VERBS
from core.chat.messages import Reply
from core.domain.model import Refusal

log = logging.getLogger(__name__)

# What follows `/book` is passed to the conversation engine as typed, when it
# starts with one of its own verbs; anything else is a booking request.
_ENGINE_VERBS = frozenset(VERBS)


def engine_text(text: str) -> str:
    words = text.split()
    if words and words[0].lower() in _ENGINE_VERBS:
        return text
    return f"book {text}"


def book(command: dict[str, Any], client: WebClient, respond: Respond,
         context: dict[str, Any]) -> None:
    slack = slack_of(context)
    user_id = command["user_id"]
    text = command.get("text", "").strip()
    if not text:
        open_booking_form(slack, user_id, command["trigger_id"], client,
                          lambda replies: respond_replies(respond, replies))
        return
    try:
        account = slack.members.account(user_id)
    except Refusal as refusal:
        respond_replies(respond, [Reply(refusal.message)])
        return
    replies = slack.engine.handle(account, engine_text(text))
    # A question to answer in words moves to the direct messages; an answer,
    # or an offer the member takes with its button, stays where they asked.
    if not slack.engine.in_progress(account) or replies[-1].actions:
        respond_replies(respond, replies)
        return
    channel = slack.members.dm_channel(user_id)
    post_replies(client, channel, replies)
    if command.get("channel_id") != channel:
        respond_replies(respond, [Reply(
            "I need a little more; I asked you in our direct messages."
        )])


def capacity(command: dict[str, Any], client: WebClient, respond: Respond,
             context: dict[str, Any]) -> None:
    capacity_views.answer(slack_of(context), command, client, respond)
