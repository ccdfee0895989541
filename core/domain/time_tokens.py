"""Reading times, part one: tokens, the slot grid, amounts (`3-day`, `2 hours`) and
exact times (`2024 12 01 09 00`) in a zone; core/domain/timeparse.py puts them together."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

MAX_TIME_CHARS = 100  # a time is refused above this, before any pattern runs


# One token: a run of ASCII digits, a run of letters, or any other single visible character.
_TOKEN = re.compile(r"(?P<number>[0-9]+)|(?P<word>[^\W\d_]+)|(?P<mark>\S)")


PUNCTUATION = set(":.-+/,'")


_RANGES = {"week": 2, "day": 14, "hour": 14 * 24, "minute": 14 * 24 * 60}


UNITS = {
    "day": "day", "days": "day", "week": "week", "weeks": "week",
    "hour": "hour", "hours": "hour", "hr": "hour", "hrs": "hour", "h": "hour",
}


UNITS_AND_MINUTES = {**UNITS, "minute": "minute", "minutes": "minute", "min": "minute",
                      "mins": "minute"}


FORMATS_HELP = (
    "`now`, `3-day`, `1-week 2-day`, `2-hour`, `YYYY MM DD hh mm` (minutes 00 or 30), "
    "or words such as `tomorrow 9am`, `next monday 14:00`, `in 3 hours`"
)


START_AND_END = "a start and an end: `tomorrow 9am for 3-day`"


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


def whole_word(text: str, token: Token, *words: str) -> bool:
    """`token` is one of `words`, standing alone as a word (`\\bword\\b`)."""
    return token.text in words and not _glued(text, token.start - 1) and not _glued(text, token.end)


def spaced(text: str, token: Token) -> bool:
    """Whitespace right before `token`."""
    return token.start > 0 and text[token.start - 1].isspace()


def slot_floor(moment: datetime, slot_minutes: int) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    slot = timedelta(minutes=slot_minutes)
    return epoch + ((moment - epoch) // slot) * slot


def slot_ceil(moment: datetime, slot_minutes: int) -> datetime:
    floor = slot_floor(moment, slot_minutes)
    return floor if floor == moment else floor + timedelta(minutes=slot_minutes)


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


def read_amounts(
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


def sum_amounts(amounts: list[Amount]) -> tuple[timedelta, bool]:
    """The total of `amounts`, and whether any amount was in hours or minutes."""
    total = timedelta()
    for amount in amounts:
        total += timedelta(**{f"{amount.unit}s": amount.count})
    return total, any(amount.unit in ("hour", "minute") for amount in amounts)


def cleaned_text(text: str) -> str:
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
    lowered = cleaned_text(text).lower()
    amounts = read_amounts(lowered, tokenize(lowered), units=UNITS, prefixes=True)
    return None if amounts is None else sum_amounts(amounts)[0]


def from_now(text: str, tokens: list[Token], now: datetime, slot_minutes: int) -> datetime | None:
    """`in 3 hours`, `2 days from now` -> the moment; None for any other text."""
    if len(tokens) >= 2 and tokens[0].text == "in" and spaced(text, tokens[1]):
        amounts = tokens[1:]
    elif (len(tokens) >= 3 and tokens[-2].text == "from" and tokens[-1].text == "now"
          and spaced(text, tokens[-2]) and spaced(text, tokens[-1])):
        amounts = tokens[:-2]
    else:
        return None
    found = read_amounts(text, amounts, units=UNITS_AND_MINUTES, prefixes=False)
    if found is None:
        return None
    total, below_a_day = sum_amounts(found)
    if below_a_day:
        return slot_ceil(now + total, slot_minutes)
    return slot_floor(now, slot_minutes) + total


def _zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def localize(wall: datetime, zone: tzinfo) -> datetime:
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


def exact_parts(tokens: list[Token]) -> tuple[int, ...] | None:
    """`YYYY MM DD hh mm` (only numbers, already known) -> its five numbers."""
    widths = [len(t.text) for t in tokens]
    if len(widths) != 5 or widths[0] != 4 or max(widths[1:]) > 2:
        return None
    return tuple(int(t.text) for t in tokens)


def parse_exact(parts: tuple[int, ...], zone: tzinfo, slot_minutes: int) -> datetime:
    year, month, day, hour, minute = parts
    if minute % slot_minutes:
        allowed = ", ".join(f"{m:02d}" for m in range(0, 60, slot_minutes)) if slot_minutes < 60 else "00"
        raise TimeInputError(f"minutes must be on the slot grid ({allowed}), not {minute:02d}")
    try:
        wall = datetime(year, month, day, hour, minute)
    except ValueError as exc:
        raise TimeInputError(f"no such date or time: {exc}") from None
    return localize(wall, zone)
