"""Reading a booking request written in one line of chat.

`book 2 gpus 8 cpus 32g now 3-day`, `book 1 gpu tomorrow 9am for 1-week`,
`8 32 1` (the old CLI's `cpus memory gpus`). Whatever is not found stays None.
core.domain.resource_words takes out the resources; what is left is split here
into a start and an end.

The times are only split here, never judged: `book 1 gpu now 1-day ✨` gives the
start `now 1-day ✨`, which core.domain.timeparse refuses (stray symbols and `now` or a
duration mixed with other words are refused there, not dropped), so a line that
is not fully understood is never booked at some other time.

A line over 300 characters is refused (RequestTextError, with a message that
says what works) before anything reads it; see core.domain.request_line.
"""

from __future__ import annotations

from core.domain.request_line import Line, ParsedRequest, check_length
from core.domain.resource_words import parse_resources
from core.domain.time_tokens import read_amount

_SEPARATORS = ("for", "until", "till", "to", "->")
_STARTERS = ("from", "starting", "start")
_END_UNITS = {
    "day": "day", "days": "day", "week": "week", "weeks": "week",
    "hour": "hour", "hours": "hour", "hr": "hour", "hrs": "hour", "h": "hour",
}


def _trailing_amounts(line: Line) -> int | None:
    """The first token of the amounts that end the line (`… 1-day 6-hour`), or None.

    `ok[i]`: tokens[i:] are amounts joined by `and` and nothing else; filled from
    the right, so the whole line is read once."""
    count = len(line.tokens)
    ok = [False] * count
    for i in range(count - 1, -1, -1):
        read = read_amount(line.lower, line.tokens, i, _END_UNITS)
        if read is None:
            continue
        j = read[1]
        if j == count:
            ok[i] = True
        elif line.at(j) == "and" and not line.glued(line.tokens[j].end):
            ok[i] = j + 1 < count and ok[j + 1]
        else:
            ok[i] = ok[j]
    return ok.index(True) if True in ok else None


def _exact(words: list[str]) -> bool:
    """`YYYY MM DD hh mm`."""
    return all(w.isascii() and w.isdigit() for w in words) and len(words[0]) == 4 and all(
        len(w) <= 2 for w in words[1:]
    )


def split_times(text: str) -> tuple[str | None, str | None]:
    """`now 3-day` -> (now, 3-day); `tomorrow 9am for 1-week` -> (tomorrow 9am, 1-week).

    `in 3 hours` is a start on its own; `in 3 hours 1-day` -> (in 3 hours, 1-day).
    """
    check_length(text)
    words = text.split()
    if len(words) > 1 and words[0].lower() in _STARTERS:
        words = words[1:]
    if not words:
        return None, None
    if len(words) == 10 and _exact(words[:5]) and _exact(words[5:]):
        return " ".join(words[:5]), " ".join(words[5:])
    for k in range(1, len(words) - 1):
        if words[k].lower() in _SEPARATORS:
            return " ".join(words[:k]), " ".join(words[k + 1:])
    text = " ".join(words)
    line = Line(text)
    first = _trailing_amounts(line)
    if first is None:
        return text, None
    head, flags = text[: line.tokens[first].start].rstrip(), text[line.tokens[first].start:]
    if head.lower() == "in" or head.lower().endswith(" in"):
        # `in 3 hours`: the first amount belongs to the start
        read = read_amount(line.lower, line.tokens, first, _END_UNITS)
        assert read is not None
        after = read[1]
        start = f"{head} {text[line.tokens[first].start:line.tokens[after - 1].end]}"
        if after < len(line.tokens) and line.at(after) == "and":
            after += 1
        rest = text[line.tokens[after].start:].strip() if after < len(line.tokens) else ""
        return start, rest or None
    return head or None, flags


def parse_request(text: str) -> ParsedRequest:
    found, rest = parse_resources(text)
    found.start, found.end = split_times(rest)
    return found
