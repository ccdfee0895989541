"""The App Home tab: the member's bookings with their buttons, and what is free."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks import MAX_VIEW_BLOCKS, BlockList, context, header
from bot.slack.capacity import free_summary
from core.conversation import booking_actions
from core.domain import Account, Status
from core.messages import booking_line
from core.service import BookingService


def home_view(service: BookingService, account: Account) -> dict[str, Any]:
    zone = service.zone_of(account)
    blocks = BlockList(MAX_VIEW_BLOCKS)
    blocks.add(header("Your bookings"))
    mine = service.bookings(account.name)
    if not mine:
        blocks.add_text("You have no upcoming or running bookings. `/book` makes one.")
    for booking in mine:
        blocks.add_text(booking_line(booking, zone))
        blocks.add_actions(booking_actions(booking.id or 0, booking.status == Status.RUNNING))
    blocks.add(header("Free capacity"))
    blocks.add_text(free_summary(service, zone), mrkdwn=True)
    blocks.add(context("Times are in " + str(zone) + ". `/book help` shows every command."))
    return {"type": "home", "blocks": blocks.blocks}
