"""The `/schedule` use cases, synchronous: called in a worker thread.

Each takes the service and the member's account and returns what to send.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.discord.outgoing import Offer, Outgoing
from bot.discord.render import booking_line, clip
from core.conversation import booking_actions
from core.domain import Account, Refusal, Resources, Status
from core.messages import HELP
from core.service import BookingRequest, BookingService

SLASH_HELP = """\
**/schedule book** start end [gpus] [cpus] [memory] [image] [command]: book a window.
**/schedule list**: your upcoming and running bookings, with buttons.
**/schedule cancel** booking: cancel it (ends it now if it is running).
**/schedule extend** booking by: make it longer (`1-day`) or give a new end time.
Or write to me in a direct message:
"""


def default_resources(
    service: BookingService, account: Account,
    cpus: float | None, memory: int | None, gpus: int | None,
) -> Resources:
    """What the member named, and the configured default request (capped) for the rest."""
    defaults = service.config.booking.default_request
    maximum = service.limits_of(account)
    return Resources(
        cpus if cpus is not None else min(defaults["cpus"], maximum.cpus),
        memory if memory is not None else min(int(defaults["memory"]), maximum.memory),
        gpus if gpus is not None else min(int(defaults["gpus"]), maximum.gpus),
    )


def book(
    service: BookingService, request: BookingRequest, *, actor: str | None = None
) -> list[Outgoing]:
    """Book; a refusal that names an earliest start comes with an offer to take it."""
    try:
        booking = service.book(request, actor=actor)
    except Refusal as refusal:
        if refusal.earliest_start is None:
            raise
        return [Outgoing(refusal.message, offer=_offer(service, request, refusal.earliest_start))]
    text = "Booked: " + booking_line(booking)
    if booking.start <= service.now():
        text += "\nIt starts now; I will send you a direct message with how to log in."
    return [Outgoing(text, booking_actions(booking.id or 0))]


def _offer(service: BookingService, request: BookingRequest, earliest: datetime) -> Offer:
    """The same request moved to `earliest`, keeping its length."""
    owner = service.account(request.user)
    duration = service.parse_window(owner, request.start, request.end).duration
    zone = service.zone_of(owner)
    start, end = earliest.astimezone(zone), (earliest + duration).astimezone(zone)
    moved = replace(request, start=f"{start:%Y %m %d %H %M}", end=f"{end:%Y %m %d %H %M}")
    return Offer(request.user, moved, f"Book from {start:%a %d %b %H:%M} {start.tzname()}")


def take_offer(service: BookingService, account: Account, offer: Offer) -> list[Outgoing]:
    if account.name != offer.owner and not service.is_admin(account):
        return [Outgoing("Only the member who asked (or an admin) can take this offer.")]
    actor = None if account.name == offer.owner else account.name
    return book(service, offer.request, actor=actor)


def listing(service: BookingService, account: Account) -> list[Outgoing]:
    mine = service.bookings(account.name)
    if not mine:
        return [Outgoing("You have no upcoming or running bookings. Try `/schedule book`.")]
    lines = [booking_line(b) for b in mine]
    actions = tuple(
        a for b in mine for a in booking_actions(b.id or 0, b.status == Status.RUNNING)
    )
    return [Outgoing("Your bookings:\n" + "\n".join(lines), actions)]


def cancel(service: BookingService, account: Account, booking_id: int) -> list[Outgoing]:
    booking = service.cancel(booking_id, actor=account.name)
    if booking.status == Status.CANCELLED:
        return [Outgoing(f"Booking #{booking_id} is cancelled.")]
    return [Outgoing(f"Booking #{booking_id} ends now; its files are backed up first.")]


def extend(
    service: BookingService, account: Account, booking_id: int, by: str
) -> list[Outgoing]:
    booking = service.extend(booking_id, by, actor=account.name)
    running = booking.status == Status.RUNNING
    return [Outgoing("Extended: " + booking_line(booking), booking_actions(booking_id, running))]


def help_text() -> str:
    return clip(SLASH_HELP + HELP)

