"""Reading a booking request written in one line of chat.

`book 2 gpus 8 cpus 32g now 3-day`, `book 1 gpu tomorrow 9am for 1-week`,
`8 32 1` (the old CLI's `cpus memory gpus`). Whatever is not found stays None.

The times are only split here, never judged: `book 1 gpu now 1-day ✨` gives the
start `now 1-day ✨`, which core.timeparse refuses (stray symbols and `now` or a
duration mixed with other words are refused there, not dropped), so a line that
is not fully understood is never booked at some other time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = r"(\d+(?:\.\d+)?)"
_VALUE = r"(?<![=:\d.])" + _NUMBER  # a number that is not the value of `key=`
_PATTERNS = {
    "gpus": [rf"\bgpus?\s*[=:]\s*{_NUMBER}", rf"{_VALUE}\s*(?:x\s*)?gpus?\b"],
    "cpus": [rf"\b(?:cpus?|cores?)\s*[=:]\s*{_NUMBER}", rf"{_VALUE}\s*(?:cpus?|cores?)\b"],
    "memory": [
        rf"\b(?:ram|mem|memory)\s*[=:]\s*{_NUMBER}\s*(?:gb|g)?\b",
        rf"{_VALUE}\s*(?:gb|gib|g)\b(?:\s*(?:of\s+)?(?:ram|mem|memory))?",
        rf"{_VALUE}\s*(?:ram|mem|memory)\b",
    ],
}
_TRIPLE = re.compile(rf"^\s*{_NUMBER}\s+{_NUMBER}\s+{_NUMBER}\s*$")
_EXACT = r"\d{4}(?:\s+\d{1,2}){4}"
_TWO_EXACT = re.compile(rf"^({_EXACT})\s+({_EXACT})$")
_SEPARATOR = re.compile(r"^(.*?)\s+(?:for|until|till|to|->)\s+(.+)$", re.IGNORECASE)
_AMOUNT = r"\d+\s*-?\s*(?:days?|weeks?|hours?|hrs?|h)\b"
_TRAILING_FLAGS = re.compile(
    rf"^(.*?)\s*((?:{_AMOUNT}\s*(?:and\b\s*)?)*{_AMOUNT})\s*$", re.IGNORECASE
)
_FIRST_AMOUNT = re.compile(rf"^({_AMOUNT})\s*(?:and\b\s*)?(.*)$", re.IGNORECASE)
_ENDS_WITH_IN = re.compile(r"(?:^|\s)in$", re.IGNORECASE)


@dataclass
class ParsedRequest:
    cpus: float | None = None
    memory: int | None = None
    gpus: int | None = None
    start: str | None = None
    end: str | None = None

    @property
    def names_resources(self) -> bool:
        return any(v is not None for v in (self.cpus, self.memory, self.gpus))


def parse_resources(text: str) -> tuple[ParsedRequest, str]:
    """Take the resource phrases out of `text`; return them and what is left."""
    found = ParsedRequest()
    triple = _TRIPLE.match(text)
    if triple:
        cpus, memory, gpus = triple.groups()
        return ParsedRequest(float(cpus), _whole(memory), _whole(gpus)), ""
    rest = text
    for key, patterns in _PATTERNS.items():
        for pattern in patterns:
            match = re.search(pattern, rest, re.IGNORECASE)
            if match:
                value = match.group(1)
                setattr(found, key, float(value) if key == "cpus" else _whole(value))
                rest = rest[: match.start()] + " " + rest[match.end():]
                break
    return found, " ".join(rest.split())


def _whole(value: str) -> int:
    number = float(value)
    if not number.is_integer():
        raise ValueError(f"{value} must be a whole number")
    return int(number)


def split_times(text: str) -> tuple[str | None, str | None]:
    """`now 3-day` -> (now, 3-day); `tomorrow 9am for 1-week` -> (tomorrow 9am, 1-week).

    `in 3 hours` is a start on its own; `in 3 hours 1-day` -> (in 3 hours, 1-day).
    """
    text = re.sub(r"^(?:from|starting|start)\s+", "", text.strip(), flags=re.IGNORECASE)
    if not text:
        return None, None
    two = _TWO_EXACT.match(text)
    if two:
        return two.group(1), two.group(2)
    separated = _SEPARATOR.match(text)
    if separated:
        return separated.group(1) or None, separated.group(2)
    trailing = _TRAILING_FLAGS.match(text)
    if trailing:
        head, flags = trailing.group(1), trailing.group(2).strip()
        if _ENDS_WITH_IN.search(head):  # `in 3 hours`: the first amount belongs to the start
            first = _FIRST_AMOUNT.match(flags)
            if first:
                return f"{head} {first.group(1)}", first.group(2) or None
        return head or None, flags
    return text, None


def parse_request(text: str) -> ParsedRequest:
    found, rest = parse_resources(text)
    found.start, found.end = split_times(rest)
    return found
