"""The App Home tab: the member's bookings, each with its own buttons, and what is free."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks import MAX_VIEW_BLOCKS, OPEN_FORM_ACTION, BlockList, context, header
from bot.slack.capacity import free_summary
from bot.slack.context import SlackContext
from core.domain.model import Account


def home_view(slack: SlackContext, account: Account) -> dict[str, Any]:
    service = slack.service
    zone = service.zone_of(account)
    blocks = BlockList(MAX_VIEW_BLOCKS)
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
    blocks.add(context("Times are in " + str(zone) + ". `/book help` shows every command."))
    return {"type": "home", "blocks": blocks.blocks}
