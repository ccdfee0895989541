"""The App Home tab: the member's bookings with their buttons, past ones, who holds which GPU
until when and what is free, and for admins what needs a look."""

from __future__ import annotations

import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import (
    MAX_VIEW_BLOCKS,
    OPEN_FORM_ACTION,
    BlockList,
    context,
    escape,
    header,
)
from bot.slack.capacity import SlackMarkup
from bot.slack.context import SlackContext
from core.chat import admin_render, admin_views, overview
from core.domain.model import Account, Refusal

log = logging.getLogger(__name__)


def home_view(slack: SlackContext, account: Account) -> dict[str, Any]:
    """The member's bookings with their buttons, their last past ones, the server's next
    days (what is free, who holds which GPU until when) and, for an admin, what to look at."""
    service = slack.service
    zone = service.zone_of(account)
    blocks = BlockList(MAX_VIEW_BLOCKS, zone)
    blocks.add({"type": "actions", "block_id": "home_book", "elements": [{
        "type": "button", "action_id": OPEN_FORM_ACTION, "style": "primary", "value": "form",
        "text": {"type": "plain_text", "text": "Book a server"}}]})
    groups = overview.member_groups(service, slack.engine, account)
    _add_group(blocks, groups[0])
    blocks.add(header("The server"))
    blocks.add_text(admin_render.render(admin_views.capacity_summary(service, zone, admin=True),
                                        SlackMarkup()), mrkdwn=True)
    for group in groups[1:]:
        _add_group(blocks, group)
    if service.is_admin(account):
        blocks.add(header("For admins"))
        for group in overview.admin_groups(service, slack.engine, account):
            blocks.add_text(f"*{escape(group.title)}*", mrkdwn=True)
            _cards_or_empty(blocks, group)
    blocks.add(context("Times are shown in your own time zone. `/book help` shows every command."))
    return {"type": "home", "blocks": blocks.blocks}


def _add_group(blocks: BlockList, group: overview.CardGroup) -> None:
    blocks.add(header(group.title))
    _cards_or_empty(blocks, group)


def _cards_or_empty(blocks: BlockList, group: overview.CardGroup) -> None:
    if group.cards:
        blocks.add_cards(group.cards)
    elif group.empty:
        blocks.add_text(group.empty)


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
