"""Offers: when a request does not fit, the earliest start with the same duration
and resources that does."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.domain.allocation import (
    Fit,
    earliest_fit,
    from_micros,
    micros,
    slot_ceil_micros,
)
from core.domain.model import (
    Account,
    Window,
)
from core.domain.time_tokens import slot_ceil
from core.services.capacity import BookingRequest, CapacityService
from core.services.ports import UnitOfWork


class OfferService(CapacityService):
    def _earliest(
        self, uow: UnitOfWork, account: Account, request: BookingRequest, window: Window,
        ignore: int | None = None,
    ) -> datetime | None:
        """The earliest start, same duration and resources, that fits in the horizon.

        What is free only grows when a booking ends, so the candidates are the
        asked start and every end of a booking after it. Offers are always on the
        slot grid (a start off it is refused), so an end off the grid (`end now`)
        counts from the next slot boundary; no start on the grid lies in between.
        All candidates are tried in one forward sweep (core.domain.allocation.earliest_fit)
        over the bookings read once. Maintenance windows hold what they name like bookings
        (so their ends are candidates too); booking `ignore` counts as given up.
        """
        latest = micros(
            slot_ceil(self.now() + timedelta(days=self.config.booking.max_days), self._slot)
        )
        begin, duration = micros(window.start), micros(window.end) - micros(window.start)
        spans, _ = self._holding(uow, window.start, from_micros(latest + duration))
        if ignore is not None:
            spans = [span for span in spans if span[0] != ignore]
        slot = self._slot * 60_000_000
        first = slot_ceil_micros(begin, slot)
        ends = {slot_ceil_micros(span[3], slot) for span in spans}
        candidates = sorted({first} | {end for end in ends if begin < end <= latest})
        fit = Fit(
            resources=request.resources, host=self.host, account_id=account.id, port=request.port,
            preferred=account.preferred_port, port_range=self.config.booking.ports,
        )
        found = earliest_fit(spans, fit, duration, candidates)
        return None if found is None else from_micros(found)
