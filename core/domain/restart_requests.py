"""A member's restart request, as the booking's event log records it.

The service (any process: the CLI, a chat adapter) records `restart_requested`;
the scheduler restarts the container and records `restarted`, or
`restart_failed` when it cannot. The event log is the only thing they share,
so a request made while no scheduler runs is acted on at its next start, and
the history of restarts stays with the booking. A request is pending while it
is the latest of these three events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.domain.model import Event

REQUESTED = "restart_requested"
RESTARTED = "restarted"
FAILED = "restart_failed"


def pending_request(events: Sequence[Event]) -> Event | None:
    """The restart request not acted on yet, if any (events oldest first)."""
    for event in reversed(events):
        if event.kind == REQUESTED:
            return event
        if event.kind in (RESTARTED, FAILED):
            return None
    return None


def requested_at(request: Event) -> datetime:
    """When the member asked (or, for a restart done, when it was done), by the service's
    clock (the row's time otherwise)."""
    at = request.detail.get("at")
    return datetime.fromisoformat(at) if isinstance(at, str) else request.at


def requests_made(events: Sequence[Event]) -> int:
    """How many restarts of the booking were asked so far: a Restart button states the
    count it was made after, so a press after a newer request acts no more."""
    return sum(event.kind == REQUESTED for event in events)


def last_outcome(events: Sequence[Event]) -> Event | None:
    """The latest restart event (asked, done or failed), if any."""
    return next((e for e in reversed(events) if e.kind in (REQUESTED, RESTARTED, FAILED)), None)
