"""Slash commands: `/book` (modal, one-liners, list/cancel/extend/help) and `/capacity`."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack import capacity as capacity_views
from bot.slack.blocks import escape
from bot.slack.context import Respond, SlackContext, post_replies, respond_replies, slack_of
from bot.slack.modal import LOADING, booking_modal, notice_modal
from core.chat.actions import VERBS as VERB_LIST
from core.chat.conversation import VERBS
from core.chat.messages import Reply
from core.domain.model import Refusal

log = logging.getLogger(__name__)

# What follows `/book` is passed to the conversation engine as typed, when it
# starts with one of its own verbs; anything else is a booking request.
_ENGINE_VERBS = frozenset(VERBS)


_ONE_LINER = next(verb.usage for verb in VERB_LIST if verb.name == "book")
MODAL_DID_NOT_OPEN = (
    "Slack did not let me open the booking form in time. Book in one line instead, "
    f"e.g. `/book {_ONE_LINER.removeprefix('book ')}` (`/book help` shows more), "
    "or try `/book` again."
)


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
        open_modal(slack, command, client, respond)
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


def open_modal(slack: SlackContext, command: dict[str, Any], client: WebClient,
               respond: Respond) -> None:
    """The form opens first, with nothing in it, while the trigger (three seconds) is
    fresh; it is filled once the member's profile and limits are read. Where it cannot
    open, the member is told how to book in one line instead."""
    try:
        opened = client.views_open(trigger_id=command["trigger_id"], view=LOADING)
    except SlackApiError as error:
        log.warning("views.open for %s failed: %s", command["user_id"],
                    error.response.get("error"))
        respond_replies(respond, [Reply(MODAL_DID_NOT_OPEN)])
        return
    try:
        account = slack.members.account(command["user_id"])
        view = booking_modal(slack.service, slack.engine, account)
    except Refusal as refusal:
        view = notice_modal(escape(refusal.message))
    try:
        client.views_update(view_id=opened["view"]["id"], view=view)
    except SlackApiError as error:  # closed meanwhile, most likely
        log.info("views.update of the booking form failed: %s", error.response.get("error"))


def capacity(command: dict[str, Any], client: WebClient, respond: Respond,
             context: dict[str, Any]) -> None:
    capacity_views.answer(slack_of(context), command, client, respond)
