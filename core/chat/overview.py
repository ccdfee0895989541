"""The groups of bookings a member's home page shows (Slack's App Home), and an admin's.

Each group has a title, its bookings as cards (with the actions each offers now), and
what to say when it is empty. A surface draws them; it chooses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.chat.actions import Card
from core.chat.conversation import ConversationEngine
from core.chat.messages import booking_line
from core.domain.model import Account, Status
from core.services.booking import BookingService

PAST_SHOWN = 5  # the member's most recent past bookings
FAILED_DAYS = 7  # how far back an admin sees failures
STUCK_AFTER = timedelta(minutes=15)  # ending this long after its end: it needs a look


@dataclass(frozen=True)
class CardGroup:
    title: str
    cards: tuple[Card, ...]
    empty: str = ""  # said instead of the cards when there are none


def member_groups(service: BookingService, engine: ConversationEngine,
                  account: Account) -> list[CardGroup]:
    """The member's upcoming and running bookings with their actions, and the last few
    that are over."""
    zone = service.zone_of(account)
    mine = service.bookings(account.name)
    past = sorted((b for b in service.bookings(account.name, history=True)
                   if not b.holds_resources), key=lambda b: (b.end, b.id or 0), reverse=True)
    return [
        CardGroup("Your bookings", tuple(engine.card(account, b) for b in mine),
                  "You have no upcoming or running bookings. `/book` makes one."),
        CardGroup("Your past bookings", tuple(Card(b.id or 0, booking_line(b, zone))
                                              for b in past[:PAST_SHOWN]),
                  "None yet."),
    ]


def admin_groups(service: BookingService, engine: ConversationEngine,
                 admin: Account) -> list[CardGroup]:
    """What an admin keeps an eye on: recent failures, bookings whose container has not
    gone long after their end, and everyone's running bookings with their actions."""
    zone = service.zone_of(admin)
    now = service.now()
    everyone = service.bookings(history=True)
    failed = [b for b in everyone
              if b.status == Status.FAILED and b.end > now - timedelta(days=FAILED_DAYS)]
    stuck = [b for b in everyone if b.status == Status.ENDING and b.end < now - STUCK_AFTER]
    running = [b for b in everyone if b.status in (Status.STARTING, Status.RUNNING)]
    return [
        CardGroup(f"Failed in the last {FAILED_DAYS} days",
                  tuple(Card(b.id or 0, booking_line(b, zone)) for b in failed), "None."),
        CardGroup("Still ending (container not gone yet)",
                  tuple(engine.card(admin, b) for b in stuck), "None."),
        CardGroup("Everyone's running bookings",
                  tuple(engine.card(admin, b) for b in running), "None."),
    ]
