"""Slash commands: `/book` (modal, one-liners, list/cancel/extend/help) and `/capacity`."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.charts import gpu_timeline_png
from bot.slack.blocks import MAX_MESSAGE_BLOCKS, BlockList
from bot.slack.capacity import SUMMARY_DAYS, CapacityCommand
from bot.slack.context import Respond, SlackContext, post_replies, respond_replies
from bot.slack.modal import booking_modal
from core.conversation import VERBS
from core.domain import Refusal
from core.messages import Reply

log = logging.getLogger(__name__)

# What follows `/book` is passed to the conversation engine as typed, when it
# starts with one of its own verbs; anything else is a booking request.
_ENGINE_VERBS = frozenset(VERBS)


def engine_text(text: str) -> str:
    words = text.split()
    if words and words[0].lower() in _ENGINE_VERBS:
        return text
    return f"book {text}"


def ack_now(ack: Ack) -> None:
    ack()


def register(app: App, slack: SlackContext) -> None:
    def book(command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user_id = command["user_id"]
        text = command.get("text", "").strip()
        try:
            account = slack.members.account(user_id)
        except Refusal as refusal:
            respond_replies(respond, [Reply(refusal.message)])
            return
        if not text:
            client.views_open(trigger_id=command["trigger_id"],
                              view=booking_modal(slack.service, slack.engine, account))
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

    def capacity(command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user_id = command["user_id"]
        try:
            account = slack.members.account(user_id)
            answer = CapacityCommand(slack.service).run(account, command.get("text", "").strip())
        except Refusal as refusal:
            respond_replies(respond, [Reply(refusal.message)])
            return
        blocks = BlockList(MAX_MESSAGE_BLOCKS)
        blocks.add_text(answer.text, mrkdwn=True)
        respond(text=answer.text[:3000], blocks=blocks.blocks, response_type="ephemeral")
        if answer.chart:
            upload_chart(slack, client, account.name, user_id)

    app.command("/book")(ack=ack_now, lazy=[book])
    app.command("/capacity")(ack=ack_now, lazy=[capacity])


def upload_chart(slack: SlackContext, client: WebClient, name: str, user_id: str) -> None:
    """The GPU timeline of the next days, uploaded into the admin's direct messages."""
    service = slack.service
    zone = service.zone_of(service.account(name))
    start = service.now()
    end = start + timedelta(days=SUMMARY_DAYS)
    held = [b for b in service.bookings() if b.start < end]
    title = f"{service.config.server.name}: who holds which GPU, next {SUMMARY_DAYS} days"
    png = gpu_timeline_png(held, service.host.gpus, start, end, zone, title)
    client.files_upload_v2(
        channel=slack.members.dm_channel(user_id), file=png, filename="gpu-timeline.png",
        title=title, initial_comment="GPU timeline (times in " + str(zone) + ")",
    )
