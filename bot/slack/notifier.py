"""The core's Notifier port over Slack: a direct message to the member's Slack user."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import marked
from bot.slack.context import post_replies
from bot.slack.members import Members
from core.chat.actions import restored
from core.chat.announcements import announcement
from core.chat.messages import Reply
from core.domain.model import Account, Refusal
from core.services.booking import BookingService
from core.services.notifier import Message, MessageKind

log = logging.getLogger(__name__)


def _preview(message: Message) -> str | None:
    """What notifications and lock screens show: never the ready message's password."""
    if message.kind != MessageKind.READY:
        return None
    return f"{message.text.splitlines()[0]} Open the message for the login."


class SlackNotifier:
    def __init__(self, client: WebClient, members: Members, service: BookingService) -> None:
        self._client = client
        self._members = members
        self._service = service
        self._announced: set[tuple[int, MessageKind]] = set()
        self._lock = threading.Lock()

    def deliver(self, account: Account, message: Message) -> bool:
        """DM `message`; False when the account has no Slack user. Slack errors propagate.
        A start or an end is also announced in `slack.announce_channel`, when set."""
        if not account.slack_id:
            self._announce(message)  # a member of another chat: the lab still hears of it
            return False
        channel = self._members.dm_channel(account.slack_id)
        post_replies(self._client, channel, [Reply(message.text, restored(message.actions))],
                     preview=_preview(message), zone=self._members.zone_of(account))
        log.info("sent %s message to %s on Slack", message.kind.value, account.name)
        self._announce(message)
        return True

    def _announce(self, message: Message) -> None:
        """Once per booking and kind in this process; never at the member's expense."""
        channel = self._service.config.slack.announce_channel
        if not channel or message.booking_id is None:
            return
        key = (message.booking_id, message.kind)
        with self._lock:
            if key in self._announced:
                return
            self._announced.add(key)
        try:
            booking = self._service.get(message.booking_id)
            zone = self._service.zone_of(None)
            line = announcement(message.kind, booking, zone,
                                with_server=self._service.config.is_pool)
            if line:
                self._client.chat_postMessage(channel=channel, text=marked(line, zone),
                                              unfurl_links=False)
        except (Refusal, SlackApiError, OSError) as exc:
            log.warning("booking #%d was not announced in %s: %s", message.booking_id,
                        channel, exc)
