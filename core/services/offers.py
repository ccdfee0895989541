"""Offers: when a request does not fit, the earliest start with the same duration
and resources that does."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.domain import refusals
from core.domain.allocation import (
    Fit,
    Span,
    earliest_fit,
    from_micros,
    load_in,
    micros,
    slot_ceil_micros,
)
from core.domain.maintenance import MaintenanceWindow, spans_of
from core.domain.model import (
    Account,
    Refusal,
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
        latest = self._horizon()
        duration = micros(window.end) - micros(window.start)
        spans, _ = self._holding(uow, window.start, from_micros(latest + duration))
        if ignore is not None:
            spans = [span for span in spans if span[0] != ignore]
        return self._earliest_among(spans, account, request, window, latest)

    def _horizon(self) -> int:
        """The latest start an offer may have, as microseconds."""
        return micros(
            slot_ceil(self.now() + timedelta(days=self.config.booking.max_days), self._slot))

    def _earliest_among(self, spans: list[Span], account: Account, request: BookingRequest,
                        window: Window, latest: int) -> datetime | None:
        """`_earliest` over `spans` already read (every holder from the window's start to
        `latest` plus the window's length)."""
        begin, duration = micros(window.start), micros(window.end) - micros(window.start)
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

    def refusal_here(self, account: Account, request: BookingRequest, window: Window,
                     spans: list[Span], windows: list[MaintenanceWindow]) -> Refusal | None:
        """Why `request` does not fit this server, with its earliest start here, given what
        holds the server from the window's start to the horizon (`spans`: its bookings',
        read without the server's lock; `windows`: its maintenance windows); None when it
        fits. A pool answers a request that fits on none of its servers with these."""
        held = [*spans, *spans_of(windows, self.host)] if windows else spans
        begin, finish = micros(window.start), micros(window.end)
        load = load_in(begin, finish, held, account.id)
        problem = self._problem(account, request, load.own, load.usage)
        if problem is None:
            return None
        overlapping = [w for w in windows if w.start < window.end and w.end > window.start]
        problem = self._blame(problem, account, request, begin, finish, held, overlapping)
        earliest = self._earliest_among(held, account, request, window, self._horizon())
        return refusals.with_offer(problem, earliest, self.zone_of(account))
