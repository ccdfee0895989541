"""The App Home tab: the member's bookings, each with its own buttons, and what is free."""

from __future__ import annotations

import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import MAX_VIEW_BLOCKS, OPEN_FORM_ACTION, BlockList, context, header
from bot.slack.capacity import free_summary
from bot.slack.context import SlackContext
from core.domain.model import Account, Refusal

log = logging.getLogger(__name__)


def home_view(slack: SlackContext, account: Account) -> dict[str, Any]:
    service = slack.service
    zone = service.zone_of(account)
    blocks = BlockList(MAX_VIEW_BLOCKS, zone)
    blocks.add({"type": "actions", "block_id": "home_book", "elements": [{
        "type": "button", "action_id": OPEN_FORM_ACTION, "style": "primary", "value": "form",
        "text": {"type": "plain_text", "text": "Book a server"}}]})
    blocks.add(header("Your bookings"))
    mine = service.bookings(account.name)
    if not mine:
        blocks.add_text("You have no upcoming or running bookings. `/book` makes one.")
    blocks.add_cards([slack.engine.card(account, b) for b in mine])
    blocks.add(header("Free capacity"))
    blocks.add_text(free_summary(service, zone), mrkdwn=True)
    blocks.add(context("Times are shown in your own time zone. `/book help` shows every command."))
    return {"type": "home", "blocks": blocks.blocks}


class HomeRefresher:
    """Publishes the owner's App Home again after any change to one of their bookings
    (made here: a command, a press, an admin's change), in a thread of its own so the
    change never waits for Slack."""

    def __init__(self, slack: SlackContext, client: WebClient) -> None:
        self._slack = slack
        self._client = client
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slack-home")

    def changed(self, booking_id: int) -> None:
        with contextlib.suppress(RuntimeError):  # closed: the adapter is stopping
            self._worker.submit(self._publish, booking_id)

    def _publish(self, booking_id: int) -> None:
        service = self._slack.service
        try:
            owner = service.account(service.get(booking_id).account)
            if owner.slack_id:
                self._client.views_publish(user_id=owner.slack_id, view=home_view(self._slack, owner))
        except (Refusal, SlackApiError, OSError) as exc:
            log.warning("the App Home after booking #%d changed was not published: %s",
                        booking_id, exc)

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)
