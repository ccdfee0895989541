"""Buttons: each carries a command the conversation engine runs as if the member typed it."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.blocks import COMMAND_ACTION
from bot.slack.context import Respond, SlackContext, post_replies, respond_replies
from bot.slack.home import home_view
from core.domain import Refusal
from core.messages import Reply

log = logging.getLogger(__name__)


def ack_now(ack: Ack) -> None:
    ack()


def register(app: App, slack: SlackContext) -> None:
    def run_command(
        body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        user_id = body["user"]["id"]
        from_home = body.get("view", {}).get("type") == "home"
        try:
            account = slack.members.account(user_id)
            replies = slack.engine.handle(account, action["value"])
        except Refusal as refusal:
            account, replies = None, [Reply(refusal.message)]
        if body.get("response_url"):
            respond_replies(respond, replies)
        else:
            post_replies(client, slack.members.dm_channel(user_id), replies)
        if from_home and account is not None:
            client.views_publish(user_id=user_id, view=home_view(slack.service, account))

    app.action(re.compile(rf"^{COMMAND_ACTION}:\d+$"))(ack=ack_now, lazy=[run_command])
