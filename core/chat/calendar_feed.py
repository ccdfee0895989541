"""A member's bookings (or, for an admin, the server's) as an iCalendar feed.

Read through the booking service's unit of work; written with the `icalendar` package.
`booking ics --user X` prints it; `booking serve` serves it at a secret per-member URL
when BOOKING_HTTP_PORT is set (bot/http_feeds.py, tokens in core/domain/feed_tokens.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from core.chat.messages import describe_resources
from core.domain.model import Booking, ErrorCode, Refusal, Status
from core.services.booking import BookingService

# Past bookings stay in the feed this long after their end; older ones drop out.
DAYS_BACK = 30
REFRESH = timedelta(minutes=15)  # how often clients should fetch it again
_CALLED_OFF = {Status.CANCELLED: "Cancelled", Status.FAILED: "Failed"}


def feed_bookings(service: BookingService, name: str, *, everyone: bool = False) -> list[Booking]:
    """`name`'s bookings that end after DAYS_BACK ago; with `everyone` (admins only) the
    server's. A Refusal when `name` is no member, or not an admin for `everyone`."""
    account = service.account(name)
    if everyone and not service.is_admin(account):
        raise Refusal(ErrorCode.NOT_OWNER,
                      f"Only admins get the server's calendar; `{name}` can get their own.")
    since = service.now() - timedelta(days=DAYS_BACK)
    with service.unit() as uow:
        found = (uow.bookings.all_after(since) if everyone
                 else uow.bookings.of_account(account.name, after=since))
    return sorted(found, key=lambda b: (b.start, b.id or 0))


def calendar(bookings: list[Booking], server: str, *, owner: str | None, now: datetime) -> bytes:
    """The feed: one event per booking (UID stable per booking and server). `owner`
    names whose calendar it is; None for the server's, where each summary names the member."""
    cal = Calendar()
    cal.add("prodid", "-//server-booking//calendar feed//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{server} bookings" + (f" of {owner}" if owner else ""))
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT15M")
    for booking in bookings:
        cal.add_component(_event(booking, server, everyone=owner is None, now=now))
    return cal.to_ical()


def _event(booking: Booking, server: str, *, everyone: bool, now: datetime) -> Event:
    event = Event()
    event.add("uid", f"booking-{booking.id}@{server}.server-booking")
    event.add("dtstamp", now)
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    event.add("summary", summary(booking, server, everyone=everyone))
    gpu_ids = f", GPU ids {','.join(map(str, booking.gpu_ids))}" if booking.gpu_ids else ""
    event.add("description", (
        f"Booking #{booking.id} on {server} ({booking.status.value}) for {booking.account}: "
        f"{describe_resources(booking.resources)}{gpu_ids}, SSH port {booking.port}, "
        f"image {booking.image}."))
    event.add("status", "CANCELLED" if booking.status in _CALLED_OFF else "CONFIRMED")
    return event


def summary(booking: Booking, server: str, *, everyone: bool) -> str:
    who = f"{booking.account} on {server}" if everyone else server
    text = f"{who}: {describe_resources(booking.resources)} (#{booking.id})"
    called_off = _CALLED_OFF.get(booking.status)
    return f"{called_off}: {text}" if called_off else text


def calendar_line(link: str) -> str:
    """The line a booking confirmation ends with when the feed is served."""
    return f"Your bookings as a calendar (subscribe, keep it private): {link}"
