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

from datetime import datetime, tzinfo

from core.domain.time_tokens import (
    FORMATS_HELP,
    PUNCTUATION,
    START_AND_END,
    UNITS,
    UNITS_AND_MINUTES,
    TimeInputError,
    Token,
    cleaned_text,
    exact_parts,
    from_now,
    parse_exact,
    read_amount,
    read_amounts,
    slot_ceil,
    slot_floor,
    spaced,
    sum_amounts,
    tokenize,
    whole_word,
)
from core.domain.time_words import parse_natural


def parse_moment(
    text: str, *, base: datetime, zone: tzinfo, now: datetime, slot_minutes: int,
    allow_now: bool,
) -> datetime:
    """Parse one time. Duration flags count from `base`. Returns UTC."""
    cleaned = cleaned_text(text)
    if not cleaned:
        raise TimeInputError(f"no time given; try {FORMATS_HELP}")
    lowered = cleaned.lower()
    if lowered == "now":
        if not allow_now:
            raise TimeInputError("`now` is for a start; give an end such as `3-day`")
        return slot_floor(now, slot_minutes)
    strays = sorted({c for c in cleaned if not (c.isalnum() or c.isspace() or c in PUNCTUATION)})
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
        exact = exact_parts(tokens)
        if exact is None:
            raise TimeInputError(
                f"`{cleaned}` is only a number; write a duration such as `3-day` or `2-hour`, "
                "or a full date and time as `YYYY MM DD hh mm`"
            )
        return parse_exact(exact, zone, slot_minutes)
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
    relative = from_now(text, tokens, now, slot_minutes)
    if relative is not None:
        return relative
    amounts = read_amounts(text, tokens, units=UNITS, prefixes=True)
    if amounts is not None:
        return slot_ceil(base + sum_amounts(amounts)[0], slot_minutes)
    if any(whole_word(text, t, "now") for t in tokens):
        raise TimeInputError(
            f"`{cleaned}`: `now` goes on its own, as a start; for a start and an end "
            "write `now for 1-day`"
        )
    if read_amounts(text, tokens, units=UNITS_AND_MINUTES, prefixes=False) is not None:
        raise TimeInputError(
            f"`{cleaned}`: minutes work only from now (`in 90 minutes`); "
            "a duration is in hours, days or weeks (`2-hour`, `3-day`)"
        )
    for i in range(len(tokens)):
        read = read_amount(text, tokens, i, UNITS_AND_MINUTES)
        if read is None:
            continue
        if i > 0 and tokens[i - 1].text == "-" and tokens[i - 1].end == tokens[i].start and (
            i == 1 or spaced(text, tokens[i - 1])
        ):
            raise TimeInputError(
                f"`{cleaned}`: a duration cannot be negative; write it without the sign, "
                f"as in `{read[0].digits[:9]}-{read[0].unit}`"
            )
        raise TimeInputError(
            f"`{cleaned}` mixes a duration with other words; give one time "
            f"(`tomorrow 9am`, `3-day`, `in 3 hours`), or {START_AND_END}"
        )
    return parse_natural(cleaned, text, tokens, zone, now, slot_minutes)


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
