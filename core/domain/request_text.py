"""Reading a booking request written in one line of chat.

`book 2 gpus 8 cpus 32g now 3-day`, `book 1 gpu tomorrow 9am for 1-week`,
`8 32 1` (the old CLI's `cpus memory gpus`). Whatever is not found stays None.

The times are only split here, never judged: `book 1 gpu now 1-day ✨` gives the
start `now 1-day ✨`, which core.domain.timeparse refuses (stray symbols and `now` or a
duration mixed with other words are refused there, not dropped), so a line that
is not fully understood is never booked at some other time.

Refused here (RequestTextError, a ValueError, with a message that says what
works): a line over 300 characters, before anything reads it; a count with a
sign (`-2 gpus`, `gpus=+1`), with letters stuck to it (`1e3 gpus`) or of more
than six digits; a fraction of a GPU or of a GB (cpus may be fractional).

The line is cut into tokens first (a run of digits, a run of letters, or one
other character: one linear pass, core.domain.time_tokens.tokenize), and the tokens are
then read in plain Python, so no input makes the reading slow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.domain.time_tokens import read_amount, tokenize

MAX_REQUEST_CHARS = 300
_REQUEST_EXAMPLE = "`book 1 gpu 8 cpus 32g tomorrow 9am for 3-day`"
_GPU_WORDS = ("gpu", "gpus")
_CPU_WORDS = ("cpu", "cpus", "core", "cores")
_MEMORY_WORDS = ("ram", "mem", "memory")
_SEPARATORS = ("for", "until", "till", "to", "->")
_STARTERS = ("from", "starting", "start")
_END_UNITS = {
    "day": "day", "days": "day", "week": "week", "weeks": "week",
    "hour": "hour", "hours": "hour", "hr": "hour", "hrs": "hour", "h": "hour",
}


class RequestTextError(ValueError):
    """A request line that cannot be read as written; the text says what works."""


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


def _check_length(text: str) -> None:
    if len(text) > MAX_REQUEST_CHARS:
        raise RequestTextError(
            f"That request is too long ({len(text)} characters; at most {MAX_REQUEST_CHARS}): "
            f"write it as {_REQUEST_EXAMPLE}"
        )


# ----- resources ---------------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    value: str
    start: int  # character positions in the text searched
    end: int


class _Line:
    """One text and its tokens, with the small questions the resource patterns ask."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lower = text.lower()
        self.tokens = tokenize(self.lower)

    def at(self, i: int) -> str:
        return self.tokens[i].text if 0 <= i < len(self.tokens) else ""

    def touching(self, i: int) -> bool:
        """Token `i` follows token `i - 1` with no space between them."""
        return 0 < i < len(self.tokens) and self.tokens[i].start == self.tokens[i - 1].end

    def glued(self, index: int) -> bool:
        """The character at `index` would continue a word (a digit or `_`), as `\\b` sees it."""
        return 0 <= index < len(self.lower) and (
            self.lower[index].isdecimal() or self.lower[index] == "_"
        )

    def word(self, i: int, words: tuple[str, ...]) -> bool:
        """Token `i` is one of `words`, standing alone (`\\bword\\b`)."""
        return (
            0 <= i < len(self.tokens) and self.tokens[i].text in words
            and not self.glued(self.tokens[i].start - 1) and not self.glued(self.tokens[i].end)
        )

    def number(self, i: int) -> int | None:
        """A number (`8`, `2.5`) at token `i`: the index after it, or None."""
        if not (0 <= i < len(self.tokens) and self.tokens[i].is_number):
            return None
        if self.at(i + 1) == "." and self.touching(i + 1) and self.touching(i + 2) and (
            i + 2 < len(self.tokens) and self.tokens[i + 2].is_number
        ):
            return i + 3
        return i + 1

    def span(self, i: int, j: int) -> str:
        return self.text[self.tokens[i].start:self.tokens[j - 1].end]

    def value(self, i: int) -> int | None:
        """A count standing on its own at token `i` (not the value of `key=`): the index after it.

        A count with a sign or with letters stuck before it is refused."""
        j = self.number(i)
        if j is None:
            return None
        before = self.tokens[i].start - 1
        if before >= 0 and self.lower[before] in "=:.":
            return None
        if before >= 0 and self.lower[before] in "+-" and (
            before == 0 or self.lower[before - 1].isspace()
        ):
            raise self.signed(i, j)
        if before >= 0 and self.lower[before].isalnum():
            raise RequestTextError(
                f"`{self.chunk(i)}` is not a count; write counts as plain numbers, as in "
                f"{_REQUEST_EXAMPLE}"
            )
        return j

    def keyed(self, i: int, keys: tuple[str, ...]) -> int | None:
        """`key=N`, `key: N` at token `i`: the index of N."""
        if not self.word(i, keys) or self.at(i + 1) not in ("=", ":"):
            return None
        signed = self.number(i + 3) if self.at(i + 2) in ("+", "-") and self.touching(i + 3) else None
        if signed is not None:
            raise self.signed(i + 3, signed)
        return i + 2 if self.number(i + 2) is not None else None

    def signed(self, i: int, j: int) -> RequestTextError:
        return RequestTextError(
            f"A count has no sign: write `{self.span(i, j)}`, not "
            f"`{self.text[self.tokens[i].start - 1:self.tokens[j - 1].end]}`"
        )

    def chunk(self, i: int) -> str:
        """The characters around token `i` up to the nearest spaces."""
        start = self.lower.rfind(" ", 0, self.tokens[i].start) + 1
        end = self.lower.find(" ", self.tokens[i].end)
        return self.text[start:end if end >= 0 else len(self.text)][:20]

    def match(self, i: int, number: int, end: int) -> _Match:
        """The text of the number at token `number`, spanning tokens `i` to `end`."""
        after = self.number(number) or number + 1
        return _Match(
            self.lower[self.tokens[number].start:self.tokens[after - 1].end],
            self.tokens[i].start, self.tokens[end - 1].end,
        )


# Each pattern looks at token i and answers the match starting there, or None.
_Pattern = Callable[[_Line, int], _Match | None]


def _keyed(keys: tuple[str, ...], *, gb: bool = False) -> _Pattern:
    """`gpus=2`, `cpus: 8`, `mem=32g` (with `gb`, an optional `g`/`gb` after the number)."""

    def pattern(line: _Line, i: int) -> _Match | None:
        number = line.keyed(i, keys)
        if number is None:
            return None
        j = line.number(number)
        assert j is not None
        if gb:
            if line.at(j) in ("g", "gb"):  # `32g`, `32 gb`
                j += 1
            if j < len(line.tokens) and line.tokens[j].kind == "word" and line.touching(j):
                return None  # `mem=32x`: not a size
            if line.glued(line.tokens[j - 1].end):
                return None
        return line.match(i, number, j)

    return pattern


def _counted(units: tuple[str, ...], *, times: bool = False) -> _Pattern:
    """`2 gpus`, `2x gpu`, `8 cores` (with `times`, an optional `x` before the unit)."""

    def pattern(line: _Line, i: int) -> _Match | None:
        j = line.number(i)
        if j is None:
            return None
        unit = line.at(j)
        if times and unit == "x" and line.at(j + 1) in units:
            j, unit = j + 1, line.at(j + 1)
        elif times and unit[:1] == "x" and unit[1:] in units:  # `2xgpus`
            unit = unit[1:]
        if unit not in units or line.tokens[j].kind != "word" or line.glued(line.tokens[j].end):
            return None
        if line.value(i) is None:  # checked last: only a count before a unit is refused
            return None
        return line.match(i, i, j + 1)

    return pattern


def _sized(line: _Line, i: int) -> _Match | None:
    """`32g`, `32 GB`, `32gib`, `32g of ram`."""
    j = line.number(i)
    if j is None or line.at(j) not in ("g", "gb", "gib") or line.glued(line.tokens[j].end):
        return None
    if line.value(i) is None:
        return None
    end = j + 1
    after = end + (line.at(end) == "of" and end + 1 < len(line.tokens) and not line.touching(end + 1))
    if line.word(after, _MEMORY_WORDS):
        end = after + 1
    return line.match(i, i, end)


_PATTERNS: dict[str, list[_Pattern]] = {
    "gpus": [_keyed(_GPU_WORDS), _counted(_GPU_WORDS, times=True)],
    "cpus": [_keyed(_CPU_WORDS), _counted(_CPU_WORDS)],
    "memory": [_keyed(_MEMORY_WORDS, gb=True), _sized, _counted(_MEMORY_WORDS)],
}


def _search(text: str, pattern: _Pattern) -> _Match | None:
    """The leftmost match of `pattern` in `text`."""
    line = _Line(text)
    for i in range(len(line.tokens)):
        found = pattern(line, i)
        if found is not None:
            return found
    return None


def _triple(text: str) -> ParsedRequest | None:
    """`8 32 1`: the old CLI's `cpus memory gpus`, and nothing else on the line."""
    line = _Line(text)
    numbers: list[str] = []
    i = 0
    while i < len(line.tokens):
        j = line.number(i)
        if j is None or (numbers and line.touching(i)):
            return None
        numbers.append(line.lower[line.tokens[i].start:line.tokens[j - 1].end])
        i = j
    if len(numbers) != 3:
        return None
    cpus, memory, gpus = numbers
    return ParsedRequest(_checked_float(cpus, "cpus"), _whole(memory, "memory"), _whole(gpus, "gpus"))


def parse_resources(text: str) -> tuple[ParsedRequest, str]:
    """Take the resource phrases out of `text`; return them and what is left."""
    _check_length(text)
    triple = _triple(text)
    if triple is not None:
        return triple, ""
    found = ParsedRequest()
    rest = text
    for key, patterns in _PATTERNS.items():
        for pattern in patterns:
            match = _search(rest, pattern)
            if match:
                value = _checked_float(match.value, key) if key == "cpus" else _whole(match.value, key)
                setattr(found, key, value)
                rest = rest[: match.start] + " " + rest[match.end:]
                break
    return found, " ".join(rest.split())


def _checked_float(value: str, key: str) -> float:
    if len(value.split(".")[0].lstrip("0")) > 6:
        shown = value if len(value) <= 12 else value[:12] + "…"
        raise RequestTextError(f"{shown} {key} is more than this server has; "
                               f"write a count such as {_REQUEST_EXAMPLE}")
    return float(value)


def _whole(value: str, key: str) -> int:
    number = _checked_float(value, key)
    if not number.is_integer():
        unit = "GB of memory" if key == "memory" else key
        raise RequestTextError(f"{value} must be a whole number of {unit}")
    return int(number)


# ----- times -------------------------------------------------------------------


def _trailing_amounts(line: _Line) -> int | None:
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
    _check_length(text)
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
    line = _Line(text)
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
