"""Slash commands: `/book` (modal, one-liners, list/cancel/extend/help) and `/capacity`."""

from __future__ import annotations

import logging
import urllib.parse
from datetime import tzinfo
from typing import Any

from slack_sdk import WebClient

from bot.slack import capacity as capacity_views
from bot.slack.blocks import (
    MAX_FALLBACK_TEXT,
    MAX_MESSAGE_BLOCKS,
    marked,
    reply_blocks,
    section,
    shorten,
)
from bot.slack.blocks import context as context_block
from bot.slack.booking_form import open_booking_form
from bot.slack.context import (
    Respond,
    post_replies,
    respond_replies,
    slack_of,
    without_typed_answer,
)
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
    line = engine_text(text)
    zone = slack.service.zone_of(account)
    replies = slack.engine.handle(account, line)
    request = line.split()[0].lower() == "book"
    # A booking request's answer (booked, or an offer to take) and a question to answer
    # in words are kept in the direct messages, with their buttons, so they do not
    # vanish with an ephemeral message; where the member asked, a pointer to them.
    # Other answers (list, help, cancel N, ...) stay where they were asked.
    if not request and (not slack.engine.in_progress(account) or replies[-1].actions):
        respond_replies(respond, replies, zone)
        return
    channel = slack.members.dm_channel(user_id)
    post_replies(client, channel, replies, zone=zone)
    if command.get("channel_id") != channel:
        respond(**dm_pointer(replies, asking=slack.engine.in_progress(account)
                             and not replies[-1].actions,
                             team=command.get("team_id"), channel=channel, zone=zone))


def dm_pointer(replies: list[Reply], *, asking: bool, team: str | None,
               channel: str, zone: tzinfo | None = None) -> dict[str, Any]:
    """An ephemeral message that points to the answer kept in the direct messages."""
    link = f"<{dm_link(team, channel)}|our direct messages>"
    if asking:
        text = "I need a little more; I asked you in our direct messages."
        blocks = [section(f"I need a little more; I asked you in {link}.")]
    else:
        text = "\n".join(without_typed_answer(reply.heading) for reply in replies)
        blocks = [*reply_blocks([Reply(text)], limit=MAX_MESSAGE_BLOCKS - 1, zone=zone),
                  context_block(f"Kept in {link}, with its buttons.")]
    return {"text": shorten(marked(text, zone), MAX_FALLBACK_TEXT), "blocks": blocks,
            "response_type": "ephemeral", "replace_original": False}


def dm_link(team: str | None, channel: str) -> str:
    """Opens the conversation `channel` in Slack (as Slack's own app links do)."""
    query = urllib.parse.urlencode({"channel": channel, **({"team": team} if team else {})})
    return f"https://slack.com/app_redirect?{query}"


def capacity(command: dict[str, Any], client: WebClient, respond: Respond,
             context: dict[str, Any]) -> None:
    capacity_views.answer(slack_of(context), command, client, respond)
