"""The life of one booking's container: start, remind, end, fail.

`Lifecycle.advance(booking_id)` looks at the booking and the clock and takes
the next step; every step is idempotent, so the scheduler may call it at the
exact time, from the reconcile pass, after a crash, or twice. Status moves
booked -> starting -> running -> ending -> finished, or -> failed with the
reason in the event log. Each member message is written to the outbox in the
same transaction as the status change that causes it.
"""

from __future__ import annotations

import logging

from core.domain.model import Status
from core.services.lifecycle_end import EndSteps

log = logging.getLogger(__name__)


class Lifecycle(EndSteps):
    """The one entry point; the steps are in lifecycle_start.py and lifecycle_end.py,
    the shared state and helpers in lifecycle_base.py."""

    def advance(self, booking_id: int, *, verify: bool = False) -> None:
        with self._lock_for(booking_id):
            booking = self._load(booking_id)
            if booking is None:
                return
            now = self._clock()
            if booking.status == Status.BOOKED and now >= booking.end:
                self._fail(booking, "the service was not running during its whole window")
            elif booking.status in (Status.BOOKED, Status.STARTING) and now >= booking.start:
                if now >= booking.end:
                    self._end(booking)
                else:
                    self._start(booking)
            elif booking.status in (Status.RUNNING, Status.ENDING) and (
                now >= booking.end or booking.status == Status.ENDING
            ):
                self._end(booking)
            elif booking.status == Status.RUNNING:
                if verify:
                    self._ensure_running(booking)
                self._restart_if_asked(booking, now)
                self._remind(booking, now)
