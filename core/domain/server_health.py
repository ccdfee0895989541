"""Whether each server of a pool is up: its `serve` beats (storage/heartbeat.py) every few
seconds; one not heard from for DOWN_AFTER is down. Standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# A host beats every 10 s; a minute of silence is six missed beats, not a slow database.
DOWN_AFTER = timedelta(minutes=1)
# Members are told about their bookings on a down server that run now or start this soon.
SOON = timedelta(hours=24)


@dataclass(frozen=True)
class ServerHealth:
    """One server as the heartbeat table has it. seen_at None: its `serve` has never beaten
    (the server is configured but not started yet)."""

    name: str
    seen_at: datetime | None
    gpus: int | None = None
    down_told_at: datetime | None = None  # when admins and members were told it is down
    server_id: int | None = None
    # The GPU pairs its host's NVML says share an NVLink (core/domain/gpus.py).
    nvlinks: frozenset[frozenset[int]] = frozenset()

    def is_down(self, now: datetime) -> bool:
        """Not heard from for more than DOWN_AFTER, or never heard from."""
        return self.seen_at is None or now - self.seen_at > DOWN_AFTER

    def newly_down(self, now: datetime) -> bool:
        """Down and nobody told yet. A server never heard from is not reported: a pool
        starting up has hosts that start a little later than others."""
        return self.seen_at is not None and self.is_down(now) and self.down_told_at is None

    def back(self, now: datetime) -> bool:
        """Heard from again after it was reported down."""
        return self.down_told_at is not None and not self.is_down(now)


@dataclass(frozen=True)
class HeldBooking:
    """A booking that holds resources on some server of the pool: what its member is told."""

    id: int
    account: str
    start: datetime
    end: datetime
