"""The core's Notifier port over Slack: a direct message to the member's Slack user."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.slack.context import post_replies
from bot.slack.members import Members
from core.domain import Account
from core.messages import Reply
from core.notifier import Message

log = logging.getLogger(__name__)


class SlackNotifier:
    def __init__(self, client: WebClient, members: Members) -> None:
        self._client = client
        self._members = members

    def deliver(self, account: Account, message: Message) -> bool:
        """DM `message`; False when the account has no Slack user. Slack errors propagate."""
        if not account.slack_id:
            return False
        channel = self._members.dm_channel(account.slack_id)
        post_replies(self._client, channel, [Reply(message.text, message.actions)])
        log.info("sent %s message to %s on Slack", message.kind.value, account.name)
        return True
