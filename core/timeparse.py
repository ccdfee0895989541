"""Turning what a member types into booking times.

Accepted, for a start and for an end:
- ``YYYY MM DD hh mm`` with the minutes on the slot grid (00 or 30 by default);
- ``now`` (start only, and on its own): the start of the current slot;
- durations: ``{n}-hour`` / ``{n}h`` / ``{n} hours`` (1-336), ``{n}-day``
  (1-14) and ``{n}-week`` (1-2), combinable (``1-day 6-hour``,
  ``1 week and 2 days``), optionally after ``for`` or ``+``: a start counts from
  the start of the current slot, an end from the start;
- ``in …`` / ``… from now`` with such amounts count from now: whole days and
  weeks from the start of the current slot, anything with hours (or minutes,
  ``in 90 minutes``) from now itself, rounded up (``in 3 hours``);
- natural language through dateparser (``tomorrow 9am``, ``next monday 14:00``),
  read as wall-clock time in the member's time zone; a text that names its own
  zone (``9am UTC``) is read in that zone.

Rounding: a natural-language or ``in N hours`` time off the slot grid is
rounded *up* to the next slot boundary, so a start is never earlier than asked
and an end never cuts a session short. Exact ``YYYY MM DD hh mm`` input must be
on the grid.

Daylight saving time: wall-clock times are computed in local time and only then
given the zone's offset for that day, so ``tomorrow 9am`` is 09:00 on either
side of a change. A local time that does not exist (the hour skipped when the
clocks go forward, e.g. 02:30 on 2026-03-29 in Europe/Berlin) is refused with a
message naming the gap. A local time that happens twice (when the clocks go
back) means its first occurrence, the one still in summer time.

Refused with a message that says what works, rather than half-read:
- bare numbers (``3``, ``12 30``): dateparser would read them as a month or a day;
- ``now`` together with other words (``now 1-day``) and a duration together
  with other words (``tomorrow 9am 3-day``, ``1-day ✨``): a start and an end
  go in separate fields, or in one line as ``tomorrow 9am for 3-day``;
- symbols other than letters, digits and ``: . - + / , '`` (``now ✨``): they
  are refused rather than dropped, so nothing is booked at a time half-read.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta, tzinfo

import dateparser

_EXACT = re.compile(r"^(\d{4})\s+(\d{1,2})\s+(\d{1,2})\s+(\d{1,2})\s+(\d{1,2})$")
_HOUR_UNITS = r"hours?|hrs?|h"
_UNITS = rf"days?|weeks?|{_HOUR_UNITS}"
_MINUTE_UNITS = r"minutes?|mins?"
# One amount, e.g. `3-day`, `2 hours`, `2h`; minutes only count in `in …` / `… from now`.
_FLAG = re.compile(rf"(\d+)\s*-?\s*({_UNITS}|{_MINUTE_UNITS})\b", re.IGNORECASE)
_FLAGS_ONLY = re.compile(
    rf"^(?:\s*(?:\+|for|in)?\s*\d+\s*-?\s*(?:{_UNITS})\b\s*(?:and|,)?)+\s*$", re.IGNORECASE
)
_AMOUNTS_ONLY = re.compile(
    rf"^(?:\s*\d+\s*-?\s*(?:{_UNITS}|{_MINUTE_UNITS})\b\s*(?:and|,)?)+\s*$", re.IGNORECASE
)
_FROM_NOW = re.compile(r"^(?:in\s+(?P<ahead>.+)|(?P<before>.+?)\s+from\s+now)$", re.IGNORECASE)
_NOW_WORD = re.compile(r"\bnow\b", re.IGNORECASE)
_DIGITS_ONLY = re.compile(r"^[\d\s]+$")
_PUNCTUATION = set(":.-+/,'")
_RANGES = {"week": 2, "day": 14, "hour": 14 * 24, "minute": 14 * 24 * 60}

FORMATS_HELP = (
    "`now`, `3-day`, `1-week 2-day`, `2-hour`, `YYYY MM DD hh mm` (minutes 00 or 30), "
    "or words such as `tomorrow 9am`, `next monday 14:00`, `in 3 hours`"
)
_START_AND_END = "a start and an end: `tomorrow 9am for 3-day`"


class TimeInputError(ValueError):
    """What the member typed is not a time we understand; the text says what works."""


def slot_floor(moment: datetime, slot_minutes: int) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    slot = timedelta(minutes=slot_minutes)
    return epoch + ((moment - epoch) // slot) * slot


def slot_ceil(moment: datetime, slot_minutes: int) -> datetime:
    floor = slot_floor(moment, slot_minutes)
    return floor if floor == moment else floor + timedelta(minutes=slot_minutes)


def _unit_of(word: str) -> str:
    word = word.lower()
    if word.startswith("w"):
        return "week"
    if word.startswith("d"):
        return "day"
    if word.startswith("h"):
        return "hour"
    return "minute"


def _sum_amounts(text: str) -> tuple[timedelta, bool]:
    """Add up the amounts in `text` (already known to be only amounts).

    Returns the total and whether any amount was in hours or minutes."""
    total = timedelta()
    below_a_day = False
    for number, word in _FLAG.findall(text):
        count, unit = int(number), _unit_of(word)
        if not 1 <= count <= _RANGES[unit]:
            raise TimeInputError(
                f"`{count}-{unit}` is out of range: {unit}s go from 1 to {_RANGES[unit]}"
            )
        total += timedelta(**{f"{unit}s": count})
        below_a_day = below_a_day or unit in ("hour", "minute")
    return total, below_a_day


def parse_duration(text: str) -> timedelta | None:
    """`3-day`, `1-week 2-day`, `2-hour` -> timedelta; None when the text is not only flags."""
    if not _FLAGS_ONLY.match(text):
        return None
    return _sum_amounts(text)[0]


def _from_now(text: str, now: datetime, slot_minutes: int) -> datetime | None:
    """`in 3 hours`, `2 days from now` -> the moment; None for any other text."""
    match = _FROM_NOW.match(text)
    if not match:
        return None
    amounts = match.group("ahead") or match.group("before")
    if not _AMOUNTS_ONLY.match(amounts):
        return None
    total, below_a_day = _sum_amounts(amounts)
    if below_a_day:
        return slot_ceil(now + total, slot_minutes)
    return slot_floor(now, slot_minutes) + total


def _zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def _localize(wall: datetime, zone: tzinfo) -> datetime:
    """Give a naive wall-clock time `zone`'s offset; refuse times in a DST gap.

    A time that happens twice (clocks going back) takes its first occurrence."""
    local = wall.replace(tzinfo=zone, fold=0)
    try:
        moment = local.astimezone(UTC)
        exists = moment.astimezone(zone).replace(tzinfo=None) == wall
    except (OverflowError, ValueError):
        raise TimeInputError("that date is out of range; try " + FORMATS_HELP) from None
    if exists:
        return moment
    # In a gap: fold=0 reads it with the offset before the change, fold=1 with the one after.
    earliest = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    change = earliest
    while change < moment and change.astimezone(zone).utcoffset() == earliest.astimezone(zone).utcoffset():
        change += timedelta(minutes=1)
    before = (change - timedelta(minutes=1)).astimezone(zone) + timedelta(minutes=1)
    after = change.astimezone(zone)
    raise TimeInputError(
        f"{wall:%Y-%m-%d %H:%M} does not exist in {_zone_name(zone)}: the clocks jump from "
        f"{before:%H:%M} to {after:%H:%M} that day (daylight saving time); "
        f"pick a time outside that gap, such as {after:%H:%M}"
    )


def _parse_exact(match: re.Match[str], zone: tzinfo, slot_minutes: int) -> datetime:
    year, month, day, hour, minute = (int(part) for part in match.groups())
    if minute % slot_minutes:
        allowed = ", ".join(f"{m:02d}" for m in range(0, 60, slot_minutes)) if slot_minutes < 60 else "00"
        raise TimeInputError(f"minutes must be on the slot grid ({allowed}), not {minute:02d}")
    try:
        wall = datetime(year, month, day, hour, minute)
    except ValueError as exc:
        raise TimeInputError(f"no such date or time: {exc}") from None
    return _localize(wall, zone)


def _dateparse(text: str, local_now: datetime) -> datetime | None:
    settings = {
        "PREFER_DATES_FROM": "future",  # no TIMEZONE: naive unless the text names a zone
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return dateparser.parse(text, settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input
        return None


def _parse_natural(text: str, zone: tzinfo, now: datetime, slot_minutes: int) -> datetime:
    # dateparser works in naive wall-clock time from a naive local `now`; the zone's
    # offset for the *target* day is attached afterwards (see "Daylight saving time").
    parsed = _dateparse(text, now.astimezone(zone))
    if parsed is not None and parsed.tzinfo is not None:
        # The text named its own zone (`9am UTC`): "today" and "the future" are that zone's.
        parsed = _dateparse(text, now.astimezone(parsed.tzinfo))
    if parsed is None:
        raise TimeInputError(f"`{text}` is not a time I understand; try {FORMATS_HELP}")
    # An aware result means the text named its own zone, e.g. `9am UTC`.
    moment = _localize(parsed, zone) if parsed.tzinfo is None else parsed
    try:
        return slot_ceil(moment.astimezone(UTC), slot_minutes)
    except (OverflowError, ValueError):
        raise TimeInputError("that date is out of range; try " + FORMATS_HELP) from None


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
    strays = sorted({c for c in cleaned if not (c.isalnum() or c.isspace() or c in _PUNCTUATION)})
    if strays:
        raise TimeInputError(
            f"`{cleaned}`: {' '.join(strays)} is not part of a time; try {FORMATS_HELP}"
        )
    if _DIGITS_ONLY.match(cleaned) and not _EXACT.match(cleaned):
        raise TimeInputError(
            f"`{cleaned}` is only a number; write a duration such as `3-day` or `2-hour`, "
            "or a full date and time as `YYYY MM DD hh mm`"
        )
    relative = _from_now(lowered, now, slot_minutes)
    if relative is not None:
        return relative
    duration = parse_duration(lowered)
    if duration is not None:
        return slot_ceil(base + duration, slot_minutes)
    if _NOW_WORD.search(lowered):
        raise TimeInputError(
            f"`{cleaned}`: `now` goes on its own, as a start; for a start and an end "
            "write `now for 1-day`"
        )
    if _AMOUNTS_ONLY.match(lowered):
        raise TimeInputError(
            f"`{cleaned}`: minutes work only from now (`in 90 minutes`); "
            "a duration is in hours, days or weeks (`2-hour`, `3-day`)"
        )
    if _FLAG.search(lowered):
        raise TimeInputError(
            f"`{cleaned}` mixes a duration with other words; give one time "
            f"(`tomorrow 9am`, `3-day`, `in 3 hours`), or {_START_AND_END}"
        )
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
