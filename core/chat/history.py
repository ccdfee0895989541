"""A member's past bookings (finished, failed, cancelled), newest first, in pages."""

from __future__ import annotations

from core.chat.messages import Reply, booking_line
from core.domain.model import Account
from core.services.booking import BookingService

PAGE = 10  # bookings per page: ten lines fit any chat's message


def history(service: BookingService, account: Account, page: int = 1) -> Reply:
    """Page `page` (from 1) of the member's bookings that are over, newest first; the
    text says how many there are and how to see the next page."""
    past = [b for b in service.bookings(account.name, history=True) if not b.holds_resources]
    if not past:
        return Reply("You have no past bookings yet; `list` shows your upcoming and running ones.",
                     private=True)
    past.sort(key=lambda b: (b.end, b.id or 0), reverse=True)
    pages = -(-len(past) // PAGE)
    page = max(1, min(page, pages))
    shown = past[(page - 1) * PAGE:page * PAGE]
    zone = service.zone_of(account)
    first = (page - 1) * PAGE + 1
    lines = [f"Your past bookings, newest first ({first}-{first + len(shown) - 1} of {len(past)}):",
             *(booking_line(b, zone) for b in shown)]
    if page < pages:
        lines.append(f"Page {page + 1} of {pages} shows older ones.")
    return Reply("\n".join(lines), private=True)
