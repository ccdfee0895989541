"""Capacity: reading a request's window, checking it against the limits and the
host, and what is free when."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

from core.domain import refusals
from core.domain.allocation import Span, Usage, load_in, micros, shortages, usage_in
from core.domain.maintenance import MaintenanceWindow, spans_of
from core.domain.model import (
    Account,
    Refusal,
    Resources,
    Window,
)
from core.domain.placement import choose_port
from core.domain.time_tokens import TimeInputError, slot_ceil, slot_floor
from core.domain.timeparse import parse_end, parse_start
from core.services.account_settings import AccountSettingsService
from core.services.maintenance_port import windows_between
from core.services.ports import UnitOfWork


@dataclass(frozen=True)
class BookingRequest:
    user: str
    resources: Resources
    start: str
    end: str
    image: str | None = None
    port: int | None = None
    command: str | None = None
    server: str | None = None  # a pool's server the member named (`on gpu2`); None: any


@dataclass(frozen=True)
class SlotFree:
    start: datetime
    end: datetime
    cpus: float
    memory: int
    gpu_ids: tuple[int, ...]


def merge_slots(slots: list[SlotFree]) -> list[SlotFree]:
    """Consecutive slots with the same free resources, as one period each."""
    periods: list[SlotFree] = []
    for slot in slots:
        last = periods[-1] if periods else None
        if last and (last.cpus, last.memory, last.gpu_ids) == (slot.cpus, slot.memory, slot.gpu_ids):
            periods[-1] = replace(last, end=slot.end)
        else:
            periods.append(slot)
    return periods


class CapacityService(AccountSettingsService):
    def parse_window(self, account: Account, start_text: str, end_text: str) -> Window:
        now = self.now()
        start, end = self._read_times(start_text, end_text, self.zone_of(account), now)
        self._check_window(start, end, now)
        return Window(start, end)

    def _read_times(self, start_text: str, end_text: str, zone: tzinfo,
                    now: datetime) -> tuple[datetime, datetime]:
        """A start and an end as typed, in `zone`; a Refusal saying what works otherwise."""
        try:
            start = parse_start(start_text, zone=zone, now=now, slot_minutes=self._slot)
            end = parse_end(end_text, start=start, zone=zone, now=now, slot_minutes=self._slot)
        except TimeInputError as exc:
            raise refusals.bad_time(exc) from None
        return start, end

    def parse_start(self, account: Account, text: str) -> datetime:
        """A start on its own, checked against the window rules that apply to it."""
        now = self.now()
        try:
            start = parse_start(text, zone=self.zone_of(account), now=now, slot_minutes=self._slot)
        except TimeInputError as exc:
            raise refusals.bad_time(exc) from None
        self._check_window(start, start + timedelta(minutes=self._slot), now)
        return start

    def _check_window(self, start: datetime, end: datetime, now: datetime) -> None:
        max_days = self.config.booking.max_days
        if start < slot_floor(now, self._slot):
            raise refusals.start_in_past()
        if start > slot_ceil(now + timedelta(days=max_days), self._slot):
            raise refusals.start_too_far(max_days)
        if end <= start:
            raise refusals.end_not_after_start()
        if end - start > timedelta(days=max_days):
            raise refusals.too_long(max_days, start + timedelta(days=max_days))

    def check_resources(self, account: Account, resources: Resources) -> None:
        if not math.isfinite(resources.cpus) or (
            resources.cpus < 1 or resources.memory < 1 or resources.gpus < 0
        ):
            raise refusals.too_little()
        maximum = self.limits_of(account)
        if (
            resources.cpus > maximum.cpus
            or resources.memory > maximum.memory
            or resources.gpus > maximum.gpus
        ):
            raise refusals.over_maximum(maximum)

    def _problem(
        self, account: Account, request: BookingRequest, own: int | None, usage: Usage,
    ) -> Refusal | None:
        """Why `request` cannot have a window whose `usage` is given, where the member holds
        booking `own` (or none), or None when it fits. Other members' own ports never make a
        window fail: they are lent when nothing else is free."""
        if own is not None:
            return refusals.holds_already(own)
        short = shortages(request.resources, self.host, usage)
        if short:
            return refusals.not_enough_free(short)
        low, high = self.config.booking.ports
        if request.port is not None:
            if request.port in usage.busy_ports:
                return refusals.port_taken_then(request.port)
        elif choose_port(
            preferred=account.preferred_port, port_range=(low, high),
            busy=usage.busy_ports, reserved=frozenset(),
        ) is None:
            return refusals.no_port_free(low, high)
        return None

    def room_left(self, account: Account, request: BookingRequest, window: Window,
                  spans: list[Span], windows: list[MaintenanceWindow],
                  ) -> tuple[int, float, int] | None:
        """What would stay free (GPUs, CPUs, GB) at the window's busiest moment if `request`
        were booked here, given what holds this server then (`spans`: its bookings' spans,
        read without the server's lock; `windows`: its maintenance windows), or None when it
        does not fit. The booking itself decides again under the lock."""
        if windows:
            spans = [*spans, *spans_of(windows, self.host)]
        load = load_in(micros(window.start), micros(window.end), spans, account.id)
        if self._problem(account, request, load.own, load.usage) is not None:
            return None
        usage, want = load.usage, request.resources
        return (self.host.gpus - len(usage.busy_gpus) - want.gpus,
                self.host.cpus - usage.peak_cpus - want.cpus,
                self.host.memory - usage.peak_memory - want.memory)

    def _holding(self, uow: UnitOfWork, start: datetime, end: datetime,
                 ) -> tuple[list[Span], list[MaintenanceWindow]]:
        """What holds resources in [start, end): the bookings' spans followed by the spans of
        the maintenance windows (core/domain/maintenance.py), and those windows."""
        windows = windows_between(uow, start, end)
        found = uow.bookings.spans_between(start, end)
        return ([*found, *spans_of(windows, self.host)] if windows else found), windows

    def _blame(self, problem: Refusal, account: Account, request: BookingRequest, begin: int,
               finish: int, spans: list[Span], windows: list[MaintenanceWindow]) -> Refusal:
        """`problem`, or the maintenance windows when the request fits without them."""
        if not windows:
            return problem
        load = load_in(begin, finish, [span for span in spans if span[0] > 0], account.id)
        if self._problem(account, request, load.own, load.usage) is not None:
            return problem
        blocking = [w for w in windows if w.blocks(request.resources)] or windows
        return refusals.in_maintenance(blocking, self.zone_of(account))

    def free_slots(self, start_text: str = "now", end_text: str = "1-day") -> list[SlotFree]:
        start, end = self._read_times(start_text, end_text, self.zone_of(None), self.now())
        if end <= start:
            raise refusals.end_not_after_start(suggest=False)
        end = min(end, start + timedelta(days=self.config.booking.max_days * 2))
        with self._uow() as uow:
            held = uow.bookings.holding_between(start, end)
            held += [w.as_booking(self.host) for w in windows_between(uow, start, end)]
        slot = timedelta(minutes=self._slot)
        slots = []
        moment = start
        while moment < end:
            window = Window(moment, min(moment + slot, end))
            usage = usage_in(window, held)
            slots.append(SlotFree(
                window.start, window.end,
                round(self.host.cpus - usage.peak_cpus, 6), self.host.memory - usage.peak_memory,
                tuple(g for g in range(self.host.gpus) if g not in usage.busy_gpus),
            ))
            moment += slot
        return slots
