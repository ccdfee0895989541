"""Reading the resources of a booking request: `2 gpus`, `8 cpus`, `32g`, `gpus=2`,
`mem: 32g`, or the old CLI's `8 32 1` (`cpus memory gpus`). Whatever is not found
stays None; what is left of the line goes to core.domain.request_text.split_times.

Refused here (RequestTextError, a ValueError, with a message that says what
works): a line over 300 characters, before anything reads it; a count with a
sign (`-2 gpus`, `gpus=+1`), with letters stuck to it (`1e3 gpus`) or of more
than six digits; a fraction of a GPU or of a GB (cpus may be fractional).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.domain.request_line import (
    REQUEST_EXAMPLE,
    Line,
    ParsedRequest,
    RequestTextError,
    check_length,
)

_GPU_WORDS = ("gpu", "gpus")
_CPU_WORDS = ("cpu", "cpus", "core", "cores")
_MEMORY_WORDS = ("ram", "mem", "memory")


@dataclass(frozen=True)
class _Match:
    value: str
    start: int  # character positions in the text searched
    end: int


class _ResourceLine(Line):
    """A Line with the questions only the resource patterns ask."""

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
                f"{REQUEST_EXAMPLE}"
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

    def match(self, i: int, number: int, end: int) -> _Match:
        """The text of the number at token `number`, spanning tokens `i` to `end`."""
        after = self.number(number) or number + 1
        return _Match(
            self.lower[self.tokens[number].start:self.tokens[after - 1].end],
            self.tokens[i].start, self.tokens[end - 1].end,
        )


# Each pattern looks at token i and answers the match starting there, or None.
_Pattern = Callable[[_ResourceLine, int], _Match | None]


def _keyed(keys: tuple[str, ...], *, gb: bool = False) -> _Pattern:
    """`gpus=2`, `cpus: 8`, `mem=32g` (with `gb`, an optional `g`/`gb` after the number)."""

    def pattern(line: _ResourceLine, i: int) -> _Match | None:
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

    def pattern(line: _ResourceLine, i: int) -> _Match | None:
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


def _sized(line: _ResourceLine, i: int) -> _Match | None:
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
    line = _ResourceLine(text)
    for i in range(len(line.tokens)):
        found = pattern(line, i)
        if found is not None:
            return found
    return None


def _triple(text: str) -> ParsedRequest | None:
    """`8 32 1`: the old CLI's `cpus memory gpus`, and nothing else on the line."""
    line = _ResourceLine(text)
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
    check_length(text)
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
                               f"write a count such as {REQUEST_EXAMPLE}")
    return float(value)


def _whole(value: str, key: str) -> int:
    number = _checked_float(value, key)
    if not number.is_integer():
        unit = "GB of memory" if key == "memory" else key
        raise RequestTextError(f"{value} must be a whole number of {unit}")
    return int(number)
