"""The core's Notifier port over Slack: a direct message to the member's Slack user."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.slack.context import post_replies
from bot.slack.members import Members
from core.chat.actions import restored
from core.chat.messages import Reply
from core.domain.model import Account
from core.services.notifier import Message, MessageKind

log = logging.getLogger(__name__)


def _preview(message: Message) -> str | None:
    """What notifications and lock screens show: never the ready message's password."""
    if message.kind != MessageKind.READY:
        return None
    return f"{message.text.splitlines()[0]} Open the message for the login."


class SlackNotifier:
    def __init__(self, client: WebClient, members: Members) -> None:
        self._client = client
        self._members = members

    def deliver(self, account: Account, message: Message) -> bool:
        """DM `message`; False when the account has no Slack user. Slack errors propagate."""
        if not account.slack_id:
            return False
        channel = self._members.dm_channel(account.slack_id)
        post_replies(self._client, channel, [Reply(message.text, restored(message.actions))],
                     preview=_preview(message), zone=self._members.zone_of(account))
        log.info("sent %s message to %s on Slack", message.kind.value, account.name)
        return True
