"""Reading times, part two: words (`tomorrow 9am`, `next monday 14:00`, `dec 1 at noon`),
our own reader first and dateparser after it."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, tzinfo

import dateparser

from core.domain.time_tokens import (
    FORMATS_HELP,
    START_AND_END,
    TimeInputError,
    Token,
    localize,
    slot_ceil,
)
from core.domain.time_vocabulary import (
    DAY_OFFSETS,
    FILLERS,
    MONTHS,
    ORDINALS,
    PARTS_OF_DAY,
    WEEKDAYS,
    ZONE_WORDS,
    Reading,
)


class _WordsReader:
    """Reads a time in words, token by token; every token must be part of a day, a time
    of day or a zone, or a filler (`at`, `on`, `the`, `,`) before one."""

    def __init__(self, cleaned: str, text: str, tokens: list[Token]) -> None:
        self.cleaned = cleaned  # as typed, for messages
        self.text = text  # lower case: what the tokens index
        self.tokens = tokens
        self.reading = Reading()

    def read(self) -> Reading:
        i = fillers = 0
        while i < len(self.tokens):
            token = self.tokens[i]
            if token.text in FILLERS or (token.text == "," and i > 0):
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
                               f"give one start, or {START_AND_END}")
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
        if word in DAY_OFFSETS:
            if word == "tonight" and self.reading.part_of_day is not None:
                raise self._refuse(f"it names a time of day twice (`{word}` is the second)")
            self._set_day(i, i + 1, offset=DAY_OFFSETS[word])
            if word == "tonight":
                self.reading.part_of_day = word  # a time of day may still follow: `tonight 9pm`
            return i + 1
        if word in ("next", "this") and self._at(i + 1) in WEEKDAYS:
            return self._set_day(i, i + 2, weekday=WEEKDAYS[self._at(i + 1)])
        if word in WEEKDAYS:
            return self._set_day(i, i + 1, weekday=WEEKDAYS[word])
        if word in MONTHS and self._number(i + 1, 1, 2) is not None:  # dec 1[st][, 2026]
            return self._date(i, self._ordinal(i + 2), MONTHS[word], self._number(i + 1, 1, 2))
        day = self._number(i, 1, 2)
        if day is not None:  # 1[st] [of] december[, 2026]
            j = self._ordinal(i + 1)
            j += self._at(j) == "of"
            if self._at(j) in MONTHS:
                return self._date(i, j + 1, MONTHS[self._at(j)], day)
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
        return j + 1 if self._at(j) in ORDINALS and self._touching(j) else j

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
                               f"give one start, or {START_AND_END}")
        reading.clock = (hour, minute)
        return j

    def _part_of_day(self, i: int) -> int | None:
        word = self._at(i)
        if word not in PARTS_OF_DAY:
            return None
        if not self.reading.has_day:
            raise self._refuse(f"`{word}` needs a day before it, as in `tomorrow {word}`")
        if self.reading.clock is not None or self.reading.part_of_day is not None:
            raise self._refuse(f"it names a time of day twice (`{word}` is the second)")
        self.reading.part_of_day = word
        return i + 1

    def _zone(self, i: int) -> int | None:
        if self._at(i) in ZONE_WORDS:
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


def parse_natural(
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
    moment = localize(parsed, zone) if parsed.tzinfo is None else parsed
    return slot_ceil(moment.astimezone(UTC), slot_minutes)
