"""The board: one message for everyone (a chat channel) with the running and upcoming
bookings and what is free now, kept up to date by the adapter that shows it.

Times are written in UTC as core.domain.zones.local_time writes them; an adapter that
shows each reader's own time (Discord's timestamps) rewrites them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.chat.messages import describe_resources
from core.chat.server_states import pool_health, state_words
from core.domain.model import Booking, Resources
from core.domain.server_health import ServerHealth
from core.domain.zones import local_time
from core.services.booking import BookingService

TITLE = "Bookings on "  # the board's first line starts so: an adapter finds its message by it
MOST_SHOWN = 12  # bookings of each kind: the board stays one short message


def _gpus(booking: Booking) -> str:
    ids = ",".join(map(str, booking.gpu_ids))
    return f"{describe_resources(booking.resources)}" + (f" (GPU {ids})" if ids else "")


def _rows(bookings: list[Booking], line: str, empty: str) -> list[str]:
    if not bookings:
        return [empty]
    rows = [line.format(b=b, what=_gpus(b), start=local_time(b.start, UTC),
                        end=local_time(b.end, UTC)) for b in bookings[:MOST_SHOWN]]
    if len(bookings) > MOST_SHOWN:
        rows.append(f"- and {len(bookings) - MOST_SHOWN} more: `/schedule free` shows them all.")
    return rows


def board(service: BookingService) -> str:
    """The board's text: free now, running (until when), upcoming (when); in a pool of
    servers, each server's under its name."""
    servers = service.servers()
    if len(servers) > 1:
        lines = [f"**{TITLE}{', '.join(servers)}**"]
        health, now = pool_health(service), service.now()
        for name, one in servers.items():
            lines += [_heading(name, health.get(name), now), *_server_lines(one)]
    else:
        lines = [f"**{TITLE}{service.config.server.name}**", *_server_lines(service)]
    lines.append("Book with `/schedule book`; `/schedule free` shows what is free when.")
    return "\n".join(lines)


def _heading(name: str, health: ServerHealth | None, now: datetime) -> str:
    """`__gpu1__: up`, `__gpu2__: **down**, not heard from since ...` (no heartbeats: the name)."""
    if health is None:
        return f"__{name}__"
    state = state_words(health, now, UTC)
    if health.is_down(now):
        return f"__{name}__: **down**, {state.removeprefix('down, ')}"
    return f"__{name}__: {state}"


def _server_lines(service: BookingService) -> list[str]:
    now = service.now()
    held = service.bookings()
    running = [b for b in held if b.start <= now]  # holding their resources now
    upcoming = [b for b in held if b.start > now]
    slots = service.free_slots("now", "1-day")
    lines: list[str] = []
    if slots:
        free = slots[0]
        ids = ",".join(map(str, free.gpu_ids)) or "none"
        resources = Resources(free.cpus, free.memory, len(free.gpu_ids))
        lines.append(f"Free now: {describe_resources(resources)} (GPU ids {ids}).")
    lines.append("Running:")
    lines += _rows(running, "- #{b.id} {b.account}: {what}, until {end}", "- nothing")
    lines.append("Upcoming:")
    lines += _rows(upcoming, "- #{b.id} {b.account}: {what}, {start} -> {end}", "- nothing")
    return lines
