"""What the admins and members are told when a server of the pool goes quiet or comes back,
and its line in /capacity (core.services.pool_watch.PoolWords). Times are written with
local_time, which Slack and Discord turn into their own timestamps (core/chat/time_marks.py)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from core.domain.server_health import DOWN_AFTER, HeldBooking, ServerHealth
from core.domain.zones import local_time
from core.services.notifier import Message, MessageKind


def _since(health: ServerHealth, zone: tzinfo) -> str:
    if health.seen_at is None:
        return "not heard from yet"
    return f"not heard from since {local_time(health.seen_at, zone)}"


def server_down_admin(health: ServerHealth, zone: tzinfo) -> Message:
    name = health.name
    return Message(MessageKind.ADMIN, (
        f"{name} is down: {_since(health, zone)} (its `booking serve` beats every few seconds; "
        f"silent for over {int(DOWN_AFTER.total_seconds())} s). Its bookings wait for it: they "
        f"are not moved, since their files live on {name}. Once {name} is back it takes up "
        "its bookings again."))


def server_down_member(health: ServerHealth, booking: HeldBooking, now: datetime,
                       zone: tzinfo) -> Message:
    name, number = health.name, booking.id
    if booking.start <= now:
        what = (f"your booking #{number} there (until {local_time(booking.end, zone)}) may be "
                f"out of reach until {name} is back")
    else:
        what = (f"your booking #{number} there ({local_time(booking.start, zone)} -> "
                f"{local_time(booking.end, zone)}) cannot start until {name} is back")
    return Message(MessageKind.INFO, (
        f"The server {name} is down ({_since(health, zone)}): {what}. It is not moved to "
        f"another server, because its files live on {name}. The admins have been told."),
        number)


def server_back_admin(health: ServerHealth, zone: tzinfo) -> Message:
    seen = f" (heard from at {local_time(health.seen_at, zone)})" if health.seen_at else ""
    return Message(MessageKind.ADMIN, f"{health.name} is back{seen}; it takes up its bookings "
                                      "again.")


def server_line(health: ServerHealth, now: datetime, zone: tzinfo) -> str:
    """The server's line in /capacity: `gpu2: up` or `gpu2: down, not heard from since ...`."""
    if health.is_down(now):
        return f"{health.name}: down, {_since(health, zone)}"
    return f"{health.name}: up"
