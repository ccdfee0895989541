"""Usage arithmetic: what a booking booked and held within a period (README, "Usage reports").

Booked: the booking's window as booked (extensions included; an early end does not
shorten it), unless it was cancelled. Held: from its start until it ended (an early end
counts until it ended) and, for a booking still running, until now; a failed start (a
no-show) and a cancelled booking hold nothing. Both are cut to the period. Amounts are
resource-hours: GPUs, CPUs and memory GB times hours. GPU use: the average utilisation the
scheduler recorded for a booking's GPUs (core/domain/idle.py), weighted by the GPU-hours
held, where it was sampled. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from core.domain.model import Booking, Event, Resources, Status, Window

EARLY_END = "ended_early"  # the event a cancel of a started booking records
BOOKED_END = "booked_end"  # its detail: the end the booking had before it ended early
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_YEARS = (1970, 9998)  # a report's days, and the day after the last, stay datetimes


class PeriodError(ValueError):
    """A month or date that cannot be read; the message says what works."""


@dataclass(frozen=True)
class Amount:
    gpu_hours: float = 0.0
    cpu_hours: float = 0.0
    memory_gb_hours: float = 0.0

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.gpu_hours + other.gpu_hours, self.cpu_hours + other.cpu_hours,
                      self.memory_gb_hours + other.memory_gb_hours)


def amount(resources: Resources, hours: float) -> Amount:
    return Amount(resources.gpus * hours, resources.cpus * hours, resources.memory * hours)


def hours_within(start: datetime, end: datetime, period: Window) -> float:
    """Hours of [start, end) inside the period (0 when they do not overlap)."""
    seconds = (min(end, period.end) - max(start, period.start)).total_seconds()
    return max(seconds, 0.0) / 3600


@dataclass(frozen=True)
class BookingUsage:
    booking: Booking
    booked_hours: float
    held_hours: float
    gpu_util: float | None = None  # average utilisation of its GPUs, percent, when sampled

    @property
    def booked(self) -> Amount:
        return amount(self.booking.resources, self.booked_hours)

    @property
    def held(self) -> Amount:
        return amount(self.booking.resources, self.held_hours)


def booked_end(booking: Booking, events: list[Event]) -> datetime:
    """The end as booked: before an early end when one was recorded with it."""
    for event in reversed(events):
        if event.kind == EARLY_END and BOOKED_END in event.detail:
            return max(datetime.fromisoformat(str(event.detail[BOOKED_END])), booking.end)
    return booking.end


def gpu_util(events: list[Event]) -> float | None:
    """The last average utilisation recorded for the booking's GPUs, or None."""
    for event in reversed(events):
        value = event.detail.get("avg_util")
        if isinstance(value, int | float) and event.detail.get("samples"):
            return float(value)
    return None


def booking_usage(booking: Booking, events: list[Event], period: Window,
                  now: datetime) -> BookingUsage:
    if booking.status == Status.CANCELLED:
        return BookingUsage(booking, 0.0, 0.0)
    booked = hours_within(booking.start, booked_end(booking, events), period)
    if booking.status == Status.FAILED:
        return BookingUsage(booking, booked, 0.0)
    held = hours_within(booking.start, min(booking.end, now), period)
    return BookingUsage(booking, booked, held, gpu_util(events))


@dataclass(frozen=True)
class MemberUsage:
    member: str
    bookings: int
    booked: Amount
    held: Amount
    sampled_gpu_hours: float = 0.0  # held GPU-hours whose utilisation was recorded
    busy_gpu_hours: float = 0.0  # the same, times their utilisation

    @property
    def gpu_util(self) -> float | None:
        """Average GPU utilisation over the sampled GPU-hours, percent; None unsampled."""
        if self.sampled_gpu_hours <= 0:
            return None
        return 100 * self.busy_gpu_hours / self.sampled_gpu_hours

    def __add__(self, other: MemberUsage) -> MemberUsage:
        return MemberUsage(self.member, self.bookings + other.bookings,
                           self.booked + other.booked, self.held + other.held,
                           self.sampled_gpu_hours + other.sampled_gpu_hours,
                           self.busy_gpu_hours + other.busy_gpu_hours)


def _member_usage(usage: BookingUsage) -> MemberUsage:
    sampled = usage.held.gpu_hours if usage.gpu_util is not None else 0.0
    return MemberUsage(usage.booking.account, 1, usage.booked, usage.held, sampled,
                       sampled * (usage.gpu_util or 0.0) / 100)


def per_member(usages: list[BookingUsage]) -> list[MemberUsage]:
    """One line per member with booked or held time in the period, by name."""
    found: dict[str, MemberUsage] = {}
    for usage in usages:
        if usage.booked_hours <= 0 and usage.held_hours <= 0:
            continue
        name = usage.booking.account
        found[name] = found.get(name, MemberUsage(name, 0, Amount(), Amount())) + _member_usage(usage)
    return [found[name] for name in sorted(found)]


def total(members: list[MemberUsage], name: str) -> MemberUsage:
    whole = MemberUsage(name, 0, Amount(), Amount())
    for member in members:
        whole += member
    return whole


def month_period(text: str, zone: tzinfo) -> Window:
    """`2026-11`: that month, midnight to midnight in `zone`."""
    found = _MONTH.fullmatch(text.strip())
    if not found or not 1 <= int(found[2]) <= 12:
        raise PeriodError(f"`{text[:40]}` is not a month; use YEAR-MONTH, such as 2026-11.")
    _check_year(int(found[1]), text)
    year, month = int(found[1]), int(found[2])
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Window(_midnight(first, zone), _midnight(following, zone))


def days_period(start_text: str, end_text: str, zone: tzinfo,
                names: tuple[str, str] = ("--start", "--end")) -> Window:
    """From the start of the first day to the end of the last (both included), in `zone`;
    `names`: what the reader calls the two days (the CLI's options by default)."""
    first, last = _day(start_text, names[0]), _day(end_text, names[1])
    if last < first:
        raise PeriodError(f"{_first_up(names[1])} {last} is before {names[0]} {first}; give "
                          "the last day on or after the first.")
    return Window(_midnight(first, zone), _midnight(last + timedelta(days=1), zone))


def _day(text: str, option: str) -> date:
    found = _DAY.fullmatch(text.strip())
    try:
        day = date(int(found[1]), int(found[2]), int(found[3])) if found else None
    except ValueError:
        day = None
    if day is not None:
        _check_year(day.year, text)
        return day
    raise PeriodError(f"{_first_up(option)} `{text[:40]}` is not a date; use YEAR-MONTH-DAY, "
                      "such as 2026-11-30.")


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def _check_year(year: int, text: str) -> None:
    if not _YEARS[0] <= year <= _YEARS[1]:
        raise PeriodError(f"`{text}`: a report covers the years {_YEARS[0]} to {_YEARS[1]}; "
                          "use one of them, such as 2026-11.")


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def this_month(now: datetime, zone: tzinfo) -> str:
    """The month a report is about when none is named: `now`'s, in `zone`."""
    return f"{now.astimezone(zone):%Y-%m}"
