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
- English words read by dateparser, as wall-clock time in the member's time
  zone: a day (``today``, ``tomorrow``, ``tonight``, ``day after tomorrow``,
  ``[next|this] monday``, ``dec 1``, ``1st of december 2026``, ``2026-12-01``),
  a time of day (``9am``, ``9:30pm``, ``14:00``, ``noon``, ``midnight``, or
  ``morning`` / ``afternoon`` / ``evening`` / ``night`` after a day), or both,
  with ``at`` / ``on`` / ``the`` / ``,`` between them (``tomorrow at 9am``,
  ``next monday 14:00``); a zone after the time of day (``9am UTC``,
  ``14:00 +0800``) reads the text in that zone.

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
- texts over 100 characters, before anything else looks at them;
- bare numbers (``3``, ``12 30``): dateparser would read them as a month or a day;
- ``now`` together with other words (``now 1-day``) and a duration together
  with other words (``tomorrow 9am 3-day``, ``1-day ✨``): a start and an end
  go in separate fields, or in one line as ``tomorrow 9am for 3-day``;
- symbols other than letters, digits and ``: . - + / , '`` (``now ✨``): they
  are refused rather than dropped, so nothing is booked at a time half-read;
- any word that is not one of the date and time words above (``mem``, ``no``,
  ``1e308``), a number that is neither a day nor a time of day (``tomorrow 9``),
  decimals (``3.5``, ``2.12``), dates that read differently in different
  countries (``12/01``, ``1.12.2026``), a day or a time of day given twice, and
  any text in which dateparser's answer does not show every part that was
  written (its hour and minute, its day).

Parsing is linear in the length of the text: the text is first cut into tokens
by one regular expression without nested repetition (a run of digits, a run of
letters, or one other character), and the tokens are then read in plain Python.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

import dateparser
from dateparser.timezones import timezone_info_list

MAX_TIME_CHARS = 100  # a time is refused above this, before any pattern runs
# One token: a run of ASCII digits, a run of letters, or any other single visible character.
_TOKEN = re.compile(r"(?P<number>[0-9]+)|(?P<word>[^\W\d_]+)|(?P<mark>\S)")
_PUNCTUATION = set(":.-+/,'")
_RANGES = {"week": 2, "day": 14, "hour": 14 * 24, "minute": 14 * 24 * 60}
_UNITS = {
    "day": "day", "days": "day", "week": "week", "weeks": "week",
    "hour": "hour", "hours": "hour", "hr": "hour", "hrs": "hour", "h": "hour",
}
_UNITS_AND_MINUTES = {**_UNITS, "minute": "minute", "minutes": "minute", "min": "minute",
                      "mins": "minute"}

FORMATS_HELP = (
    "`now`, `3-day`, `1-week 2-day`, `2-hour`, `YYYY MM DD hh mm` (minutes 00 or 30), "
    "or words such as `tomorrow 9am`, `next monday 14:00`, `in 3 hours`"
)
_START_AND_END = "a start and an end: `tomorrow 9am for 3-day`"


class TimeInputError(ValueError):
    """What the member typed is not a time we understand; the text says what works."""


@dataclass(frozen=True)
class Token:
    """One token of a text: its characters and where they are in that text."""

    kind: str  # "number", "word" or "mark"
    text: str
    start: int
    end: int

    @property
    def is_number(self) -> bool:
        return self.kind == "number"


def tokenize(text: str) -> list[Token]:
    """Cut `text` into tokens in one linear pass; whitespace only separates them."""
    return [Token(m.lastgroup or "mark", m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _glued(text: str, index: int) -> bool:
    """Whether the character at `index` would continue a word (a digit or `_`), as `\\b` sees it."""
    return 0 <= index < len(text) and (text[index].isdecimal() or text[index] == "_")


def _whole_word(text: str, token: Token, *words: str) -> bool:
    """`token` is one of `words`, standing alone as a word (`\\bword\\b`)."""
    return token.text in words and not _glued(text, token.start - 1) and not _glued(text, token.end)


def _spaced(text: str, token: Token) -> bool:
    """Whitespace right before `token`."""
    return token.start > 0 and text[token.start - 1].isspace()


def slot_floor(moment: datetime, slot_minutes: int) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    slot = timedelta(minutes=slot_minutes)
    return epoch + ((moment - epoch) // slot) * slot


def slot_ceil(moment: datetime, slot_minutes: int) -> datetime:
    floor = slot_floor(moment, slot_minutes)
    return floor if floor == moment else floor + timedelta(minutes=slot_minutes)


# ----- amounts: `3-day`, `2 hours`, `1 week and 2 days` ----------------------


@dataclass(frozen=True)
class Amount:
    digits: str
    unit: str  # week, day, hour or minute

    @property
    def count(self) -> int:
        """The number, checked against the unit's range (so a 5,000-digit count is never converted)."""
        significant = self.digits.lstrip("0")
        count = int(significant or "0") if len(significant) <= 6 else None
        if count is None or not 1 <= count <= _RANGES[self.unit]:
            shown = str(count) if count is not None else f"{significant[:9]}…"
            raise TimeInputError(
                f"`{shown}-{self.unit}` is out of range: "
                f"{self.unit}s go from 1 to {_RANGES[self.unit]}"
            )
        return count


def read_amount(
    text: str, tokens: list[Token], i: int, units: dict[str, str]
) -> tuple[Amount, int] | None:
    """`tokens[i:]` starts with one amount (`3-day`, `2 hours`, `2h`): it and the index after it."""
    if i >= len(tokens) or not tokens[i].is_number:
        return None
    j = i + 1
    if j < len(tokens) and tokens[j].text == "-":
        j += 1
    if j >= len(tokens) or tokens[j].kind != "word" or _glued(text, tokens[j].end):
        return None
    unit = units.get(tokens[j].text)
    return (Amount(tokens[i].text, unit), j + 1) if unit else None


def _read_amounts(
    text: str, tokens: list[Token], *, units: dict[str, str], prefixes: bool
) -> list[Amount] | None:
    """The amounts when `tokens` are amounts and nothing else; None otherwise.

    Amounts may be joined by `and` or `,`; with `prefixes`, each may follow `+`,
    `for` or `in` (`+3-day`, `for 2 hours`)."""
    found: list[Amount] = []
    i = 0
    while i < len(tokens):
        if prefixes and tokens[i].text in ("+", "for", "in"):
            i += 1
        read = read_amount(text, tokens, i, units)
        if read is None:
            return None
        amount, i = read
        found.append(amount)
        if i < len(tokens) and tokens[i].text in ("and", ","):
            i += 1
    return found or None


def _sum_amounts(amounts: list[Amount]) -> tuple[timedelta, bool]:
    """The total of `amounts`, and whether any amount was in hours or minutes."""
    total = timedelta()
    for amount in amounts:
        total += timedelta(**{f"{amount.unit}s": amount.count})
    return total, any(amount.unit in ("hour", "minute") for amount in amounts)


def _cleaned(text: str) -> str:
    """`text` with its whitespace collapsed; refused when too long, before anything reads it."""
    if len(text) > 4 * MAX_TIME_CHARS:  # even before collapsing its whitespace
        text = text.strip()
        if len(text) > 4 * MAX_TIME_CHARS:
            raise _too_long(len(text))
    cleaned = " ".join(text.split())
    if len(cleaned) > MAX_TIME_CHARS:
        raise _too_long(len(cleaned))
    return cleaned


def _too_long(length: int) -> TimeInputError:
    return TimeInputError(
        f"that is too long for a time ({length} characters; at most {MAX_TIME_CHARS}); "
        f"try {FORMATS_HELP}"
    )


def parse_duration(text: str) -> timedelta | None:
    """`3-day`, `1-week 2-day`, `2-hour` -> timedelta; None when the text is not only flags."""
    lowered = _cleaned(text).lower()
    amounts = _read_amounts(lowered, tokenize(lowered), units=_UNITS, prefixes=True)
    return None if amounts is None else _sum_amounts(amounts)[0]


def _from_now(text: str, tokens: list[Token], now: datetime, slot_minutes: int) -> datetime | None:
    """`in 3 hours`, `2 days from now` -> the moment; None for any other text."""
    if len(tokens) >= 2 and tokens[0].text == "in" and _spaced(text, tokens[1]):
        amounts = tokens[1:]
    elif (len(tokens) >= 3 and tokens[-2].text == "from" and tokens[-1].text == "now"
          and _spaced(text, tokens[-2]) and _spaced(text, tokens[-1])):
        amounts = tokens[:-2]
    else:
        return None
    found = _read_amounts(text, amounts, units=_UNITS_AND_MINUTES, prefixes=False)
    if found is None:
        return None
    total, below_a_day = _sum_amounts(found)
    if below_a_day:
        return slot_ceil(now + total, slot_minutes)
    return slot_floor(now, slot_minutes) + total


# ----- exact times and time zones --------------------------------------------


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


def _exact(tokens: list[Token]) -> tuple[int, ...] | None:
    """`YYYY MM DD hh mm` (only numbers, already known) -> its five numbers."""
    widths = [len(t.text) for t in tokens]
    if len(widths) != 5 or widths[0] != 4 or max(widths[1:]) > 2:
        return None
    return tuple(int(t.text) for t in tokens)


def _parse_exact(parts: tuple[int, ...], zone: tzinfo, slot_minutes: int) -> datetime:
    year, month, day, hour, minute = parts
    if minute % slot_minutes:
        allowed = ", ".join(f"{m:02d}" for m in range(0, 60, slot_minutes)) if slot_minutes < 60 else "00"
        raise TimeInputError(f"minutes must be on the slot grid ({allowed}), not {minute:02d}")
    try:
        wall = datetime(year, month, day, hour, minute)
    except ValueError as exc:
        raise TimeInputError(f"no such date or time: {exc}") from None
    return _localize(wall, zone)


# ----- words: `tomorrow 9am`, `next monday 14:00`, `dec 1 at noon` -----------

_DAY_OFFSETS = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}
_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}
_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
_PARTS_OF_DAY = ("morning", "afternoon", "evening", "night")
_FILLERS = ("at", "on", "the")
_ORDINALS = ("st", "nd", "rd", "th")
_OUR_WORDS = {*_DAY_OFFSETS, *_WEEKDAYS, *_MONTHS, *_PARTS_OF_DAY, *_FILLERS, *_ORDINALS,
              "next", "this", "day", "after", "of", "am", "pm", "noon", "midnight"}
# The zone abbreviations dateparser reads (`UTC`, `GMT`, `CET`, `PST`...), after a time of day.
_ZONE_WORDS = frozenset(
    str(zone[0]).lower() for info in timezone_info_list for zone in info["timezones"]
    if str(zone[0]).isalpha()
) - _OUR_WORDS


@dataclass
class _Reading:
    """What the words of a time said, to be found again in dateparser's answer."""

    offset: int | None = None  # days after today
    weekday: int | None = None
    day: tuple[int | None, int, int] | None = None  # year (if given), month, day
    clock: tuple[int, int] | None = None
    part_of_day: str | None = None  # `morning`... or `tonight`
    zone: bool = False

    @property
    def has_day(self) -> bool:
        return self.offset is not None or self.weekday is not None or self.day is not None

    def agrees(self, parsed: datetime, local_now: datetime) -> bool:
        """Whether dateparser's `parsed` shows every part that was read."""
        if self.clock is not None and (parsed.hour, parsed.minute) != self.clock:
            return False
        if self.offset is not None and parsed.date() != local_now.date() + timedelta(days=self.offset):
            return False
        if self.weekday is not None and parsed.weekday() != self.weekday:
            return False
        if self.day is not None:
            year, month, day = self.day
            if (parsed.month, parsed.day) != (month, day) or year not in (None, parsed.year):
                return False
        return self.zone == (parsed.tzinfo is not None)


class _WordsReader:
    """Reads a time in words, token by token; every token must be part of a day, a time
    of day or a zone, or a filler (`at`, `on`, `the`, `,`) before one."""

    def __init__(self, cleaned: str, text: str, tokens: list[Token]) -> None:
        self.cleaned = cleaned  # as typed, for messages
        self.text = text  # lower case: what the tokens index
        self.tokens = tokens
        self.reading = _Reading()

    def read(self) -> _Reading:
        i = fillers = 0
        while i < len(self.tokens):
            token = self.tokens[i]
            if token.text in _FILLERS or (token.text == "," and i > 0):
                if i + 1 == len(self.tokens):
                    raise self._refuse(f"it ends with `{token.text}`; say what comes after it, "
                                       "as in `tomorrow at 9am`")
                fillers += 1
                if fillers > 2:  # `on the 1st`, never `the the the`
                    raise self._refuse(f"`{token.text}` is one word too many")
                i += 1
                continue
            fillers = 0
            j = self._day(i)
            if j is None:
                j = self._clock(i)
            if j is None:
                j = self._part_of_day(i)
            if j is None:
                j = self._zone(i)
            if j is None:
                raise self._not_understood(i)
            i = j
        return self.reading

    # -- helpers

    def _refuse(self, why: str) -> TimeInputError:
        return TimeInputError(f"`{self.cleaned}` is not a time I understand: {why}; try {FORMATS_HELP}")

    def _at(self, i: int) -> str:
        return self.tokens[i].text if i < len(self.tokens) else ""

    def _number(self, i: int, *widths: int) -> int | None:
        if i < len(self.tokens) and self.tokens[i].is_number and len(self.tokens[i].text) in widths:
            return int(self.tokens[i].text)
        return None

    def _touching(self, i: int) -> bool:
        """Token `i` follows token `i - 1` with no space between them."""
        return 0 < i < len(self.tokens) and self.tokens[i].start == self.tokens[i - 1].end

    def _set_day(self, i: int, j: int, **values: object) -> int:
        if self.reading.has_day:
            raise self._refuse(f"it names a day twice (`{self._span(i, j)}` is the second); "
                               f"give one start, or {_START_AND_END}")
        for key, value in values.items():
            setattr(self.reading, key, value)
        return j

    def _span(self, i: int, j: int) -> str:
        return self.text[self.tokens[i].start:self.tokens[j - 1].end]

    # -- the parts

    def _day(self, i: int) -> int | None:
        word = self._at(i)
        if word == "day" and self._at(i + 1) == "after" and self._at(i + 2) == "tomorrow":
            return self._set_day(i, i + 3, offset=2)
        if word in _DAY_OFFSETS:
            if word == "tonight" and self.reading.part_of_day is not None:
                raise self._refuse(f"it names a time of day twice (`{word}` is the second)")
            self._set_day(i, i + 1, offset=_DAY_OFFSETS[word])
            if word == "tonight":
                self.reading.part_of_day = word  # a time of day may still follow: `tonight 9pm`
            return i + 1
        if word in ("next", "this") and self._at(i + 1) in _WEEKDAYS:
            return self._set_day(i, i + 2, weekday=_WEEKDAYS[self._at(i + 1)])
        if word in _WEEKDAYS:
            return self._set_day(i, i + 1, weekday=_WEEKDAYS[word])
        if word in _MONTHS and self._number(i + 1, 1, 2) is not None:  # dec 1[st][, 2026]
            return self._date(i, self._ordinal(i + 2), _MONTHS[word], self._number(i + 1, 1, 2))
        day = self._number(i, 1, 2)
        if day is not None:  # 1[st] [of] december[, 2026]
            j = self._ordinal(i + 1)
            j += self._at(j) == "of"
            if self._at(j) in _MONTHS:
                return self._date(i, j + 1, _MONTHS[self._at(j)], day)
            return None
        year = self._number(i, 4)
        separator = self._at(i + 1)
        touching = all(self._touching(k) for k in range(i + 1, i + 5))
        if year is not None and separator in ("-", "/") and touching:
            month, day = self._number(i + 2, 1, 2), self._number(i + 4, 1, 2)
            if month is not None and day is not None and self._at(i + 3) == separator:
                return self._checked_date(i, i + 5, year, month, day)
        return None

    def _ordinal(self, j: int) -> int:
        return j + 1 if self._at(j) in _ORDINALS and self._touching(j) else j

    def _date(self, i: int, j: int, month: int, day: int | None) -> int:
        assert day is not None
        year = None
        if self._number(j, 4) is not None:
            year, j = self._number(j, 4), j + 1
        elif self._at(j) == "," and self._number(j + 1, 4) is not None:
            year, j = self._number(j + 1, 4), j + 2
        return self._checked_date(i, j, year, month, day)

    def _checked_date(self, i: int, j: int, year: int | None, month: int, day: int) -> int:
        try:
            date(2000 if year is None else year, month, day)  # 2000: February 29 exists
        except ValueError:
            raise self._refuse(f"there is no such date as `{self._span(i, j)}`") from None
        return self._set_day(i, j, day=(year, month, day))

    def _clock(self, i: int) -> int | None:
        word = self._at(i)
        if word in ("noon", "midnight"):
            return self._set_clock(i, i + 1, 12 if word == "noon" else 0, 0)
        hour = self._number(i, 1, 2)
        if hour is None:
            return None
        j, minute = i + 1, None
        if self._at(j) == ":" and self._touching(j) and self._touching(j + 1):
            minute = self._number(j + 1, 2)
            if minute is None:
                return None
            j += 2
        if self._at(j) in ("am", "pm"):
            if not 1 <= hour <= 12:
                raise self._refuse(f"`{self._span(i, j + 1)}`: with am or pm the hour goes from 1 to 12")
            hour = hour % 12 + (12 if self._at(j) == "pm" else 0)
            j += 1
        elif minute is None:
            return None  # a bare number is not a time of day
        if hour > 23 or (minute or 0) > 59:
            raise self._refuse(f"`{self._span(i, j)}` is not a time of day (00:00 to 23:59)")
        return self._set_clock(i, j, hour, minute or 0)

    def _set_clock(self, i: int, j: int, hour: int, minute: int) -> int:
        reading = self.reading
        if reading.clock is not None or reading.part_of_day not in (None, "tonight"):
            raise self._refuse(f"it names a time of day twice (`{self._span(i, j)}` is the second); "
                               f"give one start, or {_START_AND_END}")
        reading.clock = (hour, minute)
        return j

    def _part_of_day(self, i: int) -> int | None:
        word = self._at(i)
        if word not in _PARTS_OF_DAY:
            return None
        if not self.reading.has_day:
            raise self._refuse(f"`{word}` needs a day before it, as in `tomorrow {word}`")
        if self.reading.clock is not None or self.reading.part_of_day is not None:
            raise self._refuse(f"it names a time of day twice (`{word}` is the second)")
        self.reading.part_of_day = word
        return i + 1

    def _zone(self, i: int) -> int | None:
        if self._at(i) in _ZONE_WORDS:
            j = i + 1
            if self._at(j) in ("+", "-") and self._touching(j):
                j = self._offset(j) or j
        else:
            j = self._offset(i) or 0
            if not j:
                return None
        if self.reading.clock is None or self.reading.zone:
            raise self._refuse(f"a time zone such as `{self._span(i, j)}` goes once, right after "
                               "a time of day, as in `9am UTC`")
        self.reading.zone = True
        return j

    def _offset(self, i: int) -> int | None:
        """`+0800`, `-5`, `+05:30` at token `i`: the index after it."""
        if self._at(i) not in ("+", "-") or not self._touching(i + 1):
            return None
        if self._number(i + 1, 4) is not None:
            return i + 2
        if self._number(i + 1, 1, 2) is None:
            return None
        if self._at(i + 2) == ":" and self._touching(i + 2) and self._touching(i + 3) and (
            self._number(i + 3, 2) is not None
        ):
            return i + 4
        return i + 2

    def _chunk(self, token: Token) -> str:
        """The characters around `token` up to the nearest spaces: `1e308` for its `1`."""
        start = self.text.rfind(" ", 0, token.start) + 1
        end = self.text.find(" ", token.end)
        return self.text[start:end if end >= 0 else len(self.text)]

    def _not_understood(self, i: int) -> TimeInputError:
        token = self.tokens[i]
        if token.is_number:
            if self._at(i + 1) in ("/", ".") and self._touching(i + 1) and (
                self._number(i + 2, 1, 2, 4) is not None
            ):
                return self._refuse(
                    f"`{self._span(i, min(i + 5, len(self.tokens)))}` reads as different dates in "
                    "different countries; write the year first (`2026-12-01`), the month as a "
                    "word (`dec 1`), or `YYYY MM DD hh mm`"
                )
            chunk = self._chunk(token)
            if chunk == token.text and len(chunk) <= 2:
                hour = int(chunk)
                return self._refuse(f"`{chunk}` alone is not a time of day; write `{hour}am`, "
                                    f"`{hour}pm` or `{hour:02d}:00`")
            return self._refuse(f"`{chunk[:20]}` is neither a day nor a time of day")
        if token.text in ("next", "this"):
            return self._refuse(f"`{token.text}` goes before a weekday, as in `{token.text} monday`")
        if token.kind == "word":
            return self._refuse(f"`{token.text[:20]}` is not a date or time word")
        return self._refuse(f"`{token.text}` is out of place")


def _dateparse(text: str, local_now: datetime) -> datetime | None:
    settings = {
        "PREFER_DATES_FROM": "future",  # no TIMEZONE: naive unless the text names a zone
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return dateparser.parse(text, settings=settings, languages=["en"])
    except Exception:  # dateparser raises assorted errors on odd input
        return None


def _parse_natural(
    cleaned: str, text: str, tokens: list[Token], zone: tzinfo, now: datetime, slot_minutes: int
) -> datetime:
    reading = _WordsReader(cleaned, text, tokens).read()
    # dateparser works in naive wall-clock time from a naive local `now`; the zone's
    # offset for the *target* day is attached afterwards (see "Daylight saving time").
    local_now = now.astimezone(zone)
    parsed = _dateparse(cleaned, local_now)
    if parsed is not None and parsed.tzinfo is not None:
        # The text named its own zone (`9am UTC`): "today" and "the future" are that zone's.
        local_now = now.astimezone(parsed.tzinfo)
        parsed = _dateparse(cleaned, local_now)
    if parsed is None or not reading.agrees(parsed, local_now):
        raise TimeInputError(f"`{cleaned}` is not a time I understand; try {FORMATS_HELP}")
    # An aware result means the text named its own zone, e.g. `9am UTC`.
    moment = _localize(parsed, zone) if parsed.tzinfo is None else parsed
    return slot_ceil(moment.astimezone(UTC), slot_minutes)


# ----- one time ----------------------------------------------------------------


def parse_moment(
    text: str, *, base: datetime, zone: tzinfo, now: datetime, slot_minutes: int,
    allow_now: bool,
) -> datetime:
    """Parse one time. Duration flags count from `base`. Returns UTC."""
    cleaned = _cleaned(text)
    if not cleaned:
        raise TimeInputError(f"no time given; try {FORMATS_HELP}")
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
    try:
        return _parse_tokens(cleaned, lowered, tokenize(lowered), base=base, zone=zone, now=now,
                             slot_minutes=slot_minutes)
    except OverflowError:  # a date near the year 9999, plus a duration
        raise TimeInputError("that date is out of range; try " + FORMATS_HELP) from None


def _parse_tokens(
    cleaned: str, text: str, tokens: list[Token], *, base: datetime, zone: tzinfo,
    now: datetime, slot_minutes: int,
) -> datetime:
    if all(t.is_number for t in tokens):
        exact = _exact(tokens)
        if exact is None:
            raise TimeInputError(
                f"`{cleaned}` is only a number; write a duration such as `3-day` or `2-hour`, "
                "or a full date and time as `YYYY MM DD hh mm`"
            )
        return _parse_exact(exact, zone, slot_minutes)
    for i in range(len(tokens) - 2):
        whole, point, fraction = tokens[i:i + 3]
        dotted_on = (  # `1.12.2026` is a date, refused as such below
            (i > 0 and tokens[i - 1].text == "." and tokens[i - 1].end == whole.start)
            or (i + 3 < len(tokens) and tokens[i + 3].text == "." and tokens[i + 3].start == fraction.end)
        )
        if (whole.is_number and point.text == "." and fraction.is_number
                and whole.end == point.start and point.end == fraction.start and not dotted_on):
            raise TimeInputError(
                f"`{cleaned}`: `{text[whole.start:fraction.end][:20]}` is a decimal number, not a time; "
                "durations are whole numbers (`3-day 12-hour`, `90-hour`) and a time of day "
                "is written `9:30` or `9am`"
            )
    relative = _from_now(text, tokens, now, slot_minutes)
    if relative is not None:
        return relative
    amounts = _read_amounts(text, tokens, units=_UNITS, prefixes=True)
    if amounts is not None:
        return slot_ceil(base + _sum_amounts(amounts)[0], slot_minutes)
    if any(_whole_word(text, t, "now") for t in tokens):
        raise TimeInputError(
            f"`{cleaned}`: `now` goes on its own, as a start; for a start and an end "
            "write `now for 1-day`"
        )
    if _read_amounts(text, tokens, units=_UNITS_AND_MINUTES, prefixes=False) is not None:
        raise TimeInputError(
            f"`{cleaned}`: minutes work only from now (`in 90 minutes`); "
            "a duration is in hours, days or weeks (`2-hour`, `3-day`)"
        )
    for i in range(len(tokens)):
        read = read_amount(text, tokens, i, _UNITS_AND_MINUTES)
        if read is None:
            continue
        if i > 0 and tokens[i - 1].text == "-" and tokens[i - 1].end == tokens[i].start and (
            i == 1 or _spaced(text, tokens[i - 1])
        ):
            raise TimeInputError(
                f"`{cleaned}`: a duration cannot be negative; write it without the sign, "
                f"as in `{read[0].digits[:9]}-{read[0].unit}`"
            )
        raise TimeInputError(
            f"`{cleaned}` mixes a duration with other words; give one time "
            f"(`tomorrow 9am`, `3-day`, `in 3 hours`), or {_START_AND_END}"
        )
    return _parse_natural(cleaned, text, tokens, zone, now, slot_minutes)


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
