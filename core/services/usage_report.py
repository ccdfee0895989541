"""Usage reports and a booking's event log (README, "Usage reports"): read-only use cases.

The arithmetic is core/domain/usage.py; the words are core/chat/report_words.py. A report
reads the bookings that end after the period's start (`all_after`, every status), keeps
those that start before its end, and each one's events, in one read-only unit of work
per server. In a pool of servers the report is the whole pool's, with each server's own
report in `servers`; a booking's history is read from its own server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

from core.domain import usage
from core.domain.model import Booking, ErrorCode, Event, Refusal, Status, Window
from core.services.booking import BookingService
from core.services.lifecycle_base import event_time
from core.services.ports import UnitOfWork


@dataclass(frozen=True)
class Dropped:
    """A booking in the period that was cancelled, or failed to start (a no-show)."""

    booking: Booking
    at: datetime | None  # when it was cancelled or failed
    actor: str | None  # who cancelled it
    reason: str | None  # why it failed


@dataclass(frozen=True)
class UsageReport:
    server: str
    period: Window
    label: str  # "2026-11", or "2026-09-01 to 2026-11-30"
    zone: tzinfo
    now: datetime
    members: tuple[usage.MemberUsage, ...]
    total: usage.MemberUsage  # the whole server
    cancelled: tuple[Dropped, ...]
    no_shows: tuple[Dropped, ...]
    # In a pool: each server's report (this one is then the whole pool's, `server` naming
    # them all); empty for one server.
    servers: tuple[UsageReport, ...] = ()


@dataclass(frozen=True)
class BookingHistory:
    booking: Booking
    events: tuple[Event, ...]  # oldest first
    server: str | None = None  # in a pool, the booking's server


class UsageReports:
    def __init__(self, *, units: Mapping[str, Callable[[], UnitOfWork]],
                 clock: Callable[[], datetime], zone: tzinfo) -> None:
        """`units`: each server's unit of work, by name (one for one server)."""
        self._units = dict(units)
        self._clock = clock
        self.zone = zone  # months and days are read in it

    def month(self, text: str | None = None) -> UsageReport:
        """One calendar month (`2026-11`; none: this month)."""
        text = text or usage.this_month(self._clock(), self.zone)
        period = self._period(lambda: usage.month_period(text, self.zone))
        return self._report(period, f"{period.start:%Y-%m}")

    def days(self, start_text: str, end_text: str,
             names: tuple[str, str] = ("--start", "--end")) -> UsageReport:
        """From the first day to the last, both included (`2026-09-01`, `2026-11-30`);
        `names`: what refusals call the two days."""
        period = self._period(lambda: usage.days_period(start_text, end_text, self.zone, names))
        last = period.end - timedelta(days=1)
        return self._report(period, f"{period.start:%Y-%m-%d} to {last:%Y-%m-%d}")

    @staticmethod
    def _period(read: Callable[[], Window]) -> Window:
        try:
            return read()
        except usage.PeriodError as exc:
            raise Refusal(ErrorCode.BAD_INPUT, str(exc)) from None

    def _report(self, period: Window, label: str) -> UsageReport:
        now = self._clock()
        found: dict[str, list[Booking]] = {}
        logs: dict[int | None, list[Event]] = {}
        for name, unit in self._units.items():
            with unit() as uow:
                found[name] = sorted(
                    (b for b in uow.bookings.all_after(period.start) if b.start < period.end),
                    key=lambda b: (b.start, b.id or 0))
                logs.update((b.id, uow.bookings.events(b.id or 0)) for b in found[name])
        reports = tuple(_report(name, bookings, logs, period, label, self.zone, now)
                        for name, bookings in found.items())
        if len(reports) == 1:
            return reports[0]
        every = sorted((b for bookings in found.values() for b in bookings),
                       key=lambda b: (b.start, b.id or 0))
        whole = _report(", ".join(found), every, logs, period, label, self.zone, now)
        return replace(whole, servers=reports)

    def history(self, booking_id: int) -> BookingHistory:
        """Booking `booking_id`'s events, read from its server (whichever of a pool)."""
        unit, name = next(iter(self._units.values())), None
        if len(self._units) > 1:
            with unit() as uow:
                name = uow.bookings.server_of(booking_id)
            unit = self._units.get(name or "", unit)
        with unit() as uow:
            booking = uow.bookings.get(booking_id)
            if booking is None:
                raise Refusal(ErrorCode.NOT_FOUND,
                              f"There is no booking #{booking_id}; `booking ls --all` lists them.")
            return BookingHistory(booking, tuple(uow.bookings.events(booking_id)), name)


def _report(server: str, found: list[Booking], logs: Mapping[int | None, list[Event]],
            period: Window, label: str, zone: tzinfo, now: datetime) -> UsageReport:
    usages = [usage.booking_usage(b, logs[b.id], period, now) for b in found]
    members = usage.per_member(usages)
    return UsageReport(
        server=server, period=period, label=label, zone=zone, now=now,
        members=tuple(members), total=usage.total(members, server),
        cancelled=tuple(_dropped(b, logs[b.id], "cancelled") for b in found
                        if b.status == Status.CANCELLED),
        no_shows=tuple(_dropped(b, logs[b.id], "failed") for b in found
                       if b.status == Status.FAILED),
    )


def _dropped(booking: Booking, events: list[Event], kind: str) -> Dropped:
    last = next((e for e in reversed(events) if e.kind == kind), None)
    if last is None:
        return Dropped(booking, None, None, None)
    reason = last.detail.get("reason")
    return Dropped(booking, event_time(last), last.actor, str(reason) if reason else None)


def usage_reports(service: BookingService) -> UsageReports:
    """The reports of `service`'s servers (a pool's every server), months and days read in
    its server's zone."""
    return UsageReports(units={name: server.unit for name, server in service.servers().items()},
                        clock=service.now, zone=service.zone_of(None))
