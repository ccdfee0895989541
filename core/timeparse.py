"""Turning what a member types into booking times.

Accepted, for a start and for an end:
- ``YYYY MM DD hh mm`` with the minutes on the slot grid (00 or 30 by default);
- ``now`` (start only): the start of the current slot;
- ``{n}-day`` (1-14) and ``{n}-week`` (1-2), combinable (``1-week 2-day``):
  a start counts from the start of the current slot, an end from the start;
- natural language through dateparser (``tomorrow 9am``, ``next monday 14:00``,
  ``in 3 hours``), read in the member's time zone.

Rounding: a natural-language time off the slot grid is rounded *up* to the
next slot boundary, so a start is never earlier than asked and an end never
cuts a session short. Exact ``YYYY MM DD hh mm`` input must be on the grid.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta, tzinfo

import dateparser

_EXACT = re.compile(r"^(\d{4})\s+(\d{1,2})\s+(\d{1,2})\s+(\d{1,2})\s+(\d{1,2})$")
_FLAG = re.compile(r"(\d+)\s*-?\s*(days?|weeks?)", re.IGNORECASE)
_FLAGS_ONLY = re.compile(r"^(?:\s*(?:\+|for|in)?\s*\d+\s*-?\s*(?:days?|weeks?)\s*(?:and)?)+\s*$", re.I)

FORMATS_HELP = (
    "`now`, `3-day`, `1-week 2-day`, `YYYY MM DD hh mm` (minutes 00 or 30), "
    "or words such as `tomorrow 9am`, `next monday 14:00`, `in 3 hours`"
)


class TimeInputError(ValueError):
    """What the member typed is not a time we understand; the text says what works."""


def slot_floor(moment: datetime, slot_minutes: int) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    slot = timedelta(minutes=slot_minutes)
    return epoch + ((moment - epoch) // slot) * slot


def slot_ceil(moment: datetime, slot_minutes: int) -> datetime:
    floor = slot_floor(moment, slot_minutes)
    return floor if floor == moment else floor + timedelta(minutes=slot_minutes)


def parse_duration(text: str) -> timedelta | None:
    """`3-day`, `1-week 2-day` -> timedelta; None when the text is not only flags."""
    if not _FLAGS_ONLY.match(text):
        return None
    total = timedelta()
    for number, unit in _FLAG.findall(text):
        count = int(number)
        if unit.lower().startswith("week"):
            if not 1 <= count <= 2:
                raise TimeInputError(f"`{count}-week` is out of range: weeks go from 1 to 2")
            total += timedelta(weeks=count)
        else:
            if not 1 <= count <= 14:
                raise TimeInputError(f"`{count}-day` is out of range: days go from 1 to 14")
            total += timedelta(days=count)
    return total


def _parse_exact(match: re.Match[str], zone: tzinfo, slot_minutes: int) -> datetime:
    year, month, day, hour, minute = (int(part) for part in match.groups())
    if minute % slot_minutes:
        allowed = ", ".join(f"{m:02d}" for m in range(0, 60, slot_minutes)) if slot_minutes < 60 else "00"
        raise TimeInputError(f"minutes must be on the slot grid ({allowed}), not {minute:02d}")
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=zone)
    except ValueError as exc:
        raise TimeInputError(f"no such date or time: {exc}") from None
    return local.astimezone(UTC)


def _parse_natural(text: str, zone: tzinfo, now: datetime, slot_minutes: int) -> datetime:
    settings = {
        "PREFER_DATES_FROM": "future",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TIMEZONE": str(zone),
        "TO_TIMEZONE": "UTC",
        "RELATIVE_BASE": now.astimezone(zone).replace(tzinfo=None),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = dateparser.parse(text, settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input
        parsed = None
    if parsed is None:
        raise TimeInputError(f"`{text}` is not a time I understand; try {FORMATS_HELP}")
    return slot_ceil(parsed.astimezone(UTC), slot_minutes)


def parse_moment(
    text: str, *, base: datetime, zone: tzinfo, now: datetime, slot_minutes: int,
    allow_now: bool,
) -> datetime:
    """Parse one time. Duration flags count from `base`. Returns UTC."""
    cleaned = " ".join(text.strip().split())
    if not cleaned:
        raise TimeInputError(f"no time given; try {FORMATS_HELP}")
    if len(cleaned) > 100:
        raise TimeInputError("that time is too long to be a time; try " + FORMATS_HELP)
    lowered = cleaned.lower()
    if lowered == "now":
        if not allow_now:
            raise TimeInputError("`now` is for a start; give an end such as `3-day`")
        return slot_floor(now, slot_minutes)
    duration = parse_duration(lowered)
    if duration is not None:
        return base + duration
    exact = _EXACT.match(cleaned)
    if exact:
        return _parse_exact(exact, zone, slot_minutes)
    return _parse_natural(cleaned, zone, now, slot_minutes)


def parse_start(text: str, *, zone: tzinfo, now: datetime, slot_minutes: int) -> datetime:
    return parse_moment(
        text, base=slot_floor(now, slot_minutes), zone=zone, now=now,
        slot_minutes=slot_minutes, allow_now=True,
    )


def parse_end(
    text: str, *, start: datetime, zone: tzinfo, now: datetime, slot_minutes: int
) -> datetime:
    return parse_moment(
        text, base=start, zone=zone, now=now, slot_minutes=slot_minutes, allow_now=False
    )
