"""Usage reports and a booking's event log (README, "Usage reports"): read-only use cases.

The arithmetic is core/domain/usage.py; the words are core/chat/report_words.py. A report
reads the bookings that end after the period's start (`all_after`, every status), keeps
those that start before its end, and each one's events, in one read-only unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class BookingHistory:
    booking: Booking
    events: tuple[Event, ...]  # oldest first


class UsageReports:
    def __init__(self, *, uow: Callable[[], UnitOfWork], clock: Callable[[], datetime],
                 server: str, zone: tzinfo) -> None:
        self._uow = uow
        self._clock = clock
        self._server = server
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
        with self._uow() as uow:
            found = [b for b in uow.bookings.all_after(period.start) if b.start < period.end]
            found.sort(key=lambda b: (b.start, b.id or 0))
            logs = {b.id: uow.bookings.events(b.id or 0) for b in found}
        usages = [usage.booking_usage(b, logs[b.id], period, now) for b in found]
        members = usage.per_member(usages)
        return UsageReport(
            server=self._server, period=period, label=label, zone=self.zone, now=now,
            members=tuple(members), total=usage.total(members, self._server),
            cancelled=tuple(_dropped(b, logs[b.id], "cancelled") for b in found
                            if b.status == Status.CANCELLED),
            no_shows=tuple(_dropped(b, logs[b.id], "failed") for b in found
                           if b.status == Status.FAILED),
        )

    def history(self, booking_id: int) -> BookingHistory:
        with self._uow() as uow:
            booking = uow.bookings.get(booking_id)
            if booking is None:
                raise Refusal(ErrorCode.NOT_FOUND,
                              f"There is no booking #{booking_id}; `booking ls --all` lists them.")
            return BookingHistory(booking, tuple(uow.bookings.events(booking_id)))


def _dropped(booking: Booking, events: list[Event], kind: str) -> Dropped:
    last = next((e for e in reversed(events) if e.kind == kind), None)
    if last is None:
        return Dropped(booking, None, None, None)
    reason = last.detail.get("reason")
    return Dropped(booking, event_time(last), last.actor, str(reason) if reason else None)



def usage_reports(service: BookingService) -> UsageReports:
    """The reports of `service`'s server, months and days read in the server's zone."""
    return UsageReports(uow=service.unit, clock=service.now, server=service.config.server.name,
                        zone=service.zone_of(None))
