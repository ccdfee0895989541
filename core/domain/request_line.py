"""One line of a booking request: its length limit, its error, what was read from it,
and its tokens with the small questions both readers ask of them.

core.domain.resource_words reads the resources (`2 gpus 8 cpus 32g`) and
core.domain.request_text splits off the times; both work on a `Line`.

The line is cut into tokens first (a run of digits, a run of letters, or one
other character: one linear pass, core.domain.time_tokens.tokenize), and the
tokens are then read in plain Python, so no input makes the reading slow.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.time_tokens import tokenize

MAX_REQUEST_CHARS = 300
REQUEST_EXAMPLE = "`book 1 gpu 8 cpus 32g tomorrow 9am for 3-day`"


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


def check_length(text: str) -> None:
    """Refuse a line over MAX_REQUEST_CHARS, before anything reads it."""
    if len(text) > MAX_REQUEST_CHARS:
        raise RequestTextError(
            f"That request is too long ({len(text)} characters; at most {MAX_REQUEST_CHARS}): "
            f"write it as {REQUEST_EXAMPLE}"
        )


class Line:
    """One text and its tokens (of the text in lower case)."""

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
        """The text as typed from token `i` up to token `j` (not included)."""
        return self.text[self.tokens[i].start:self.tokens[j - 1].end]

    def chunk(self, i: int) -> str:
        """The characters around token `i` up to the nearest spaces (at most 20)."""
        start = self.lower.rfind(" ", 0, self.tokens[i].start) + 1
        end = self.lower.find(" ", self.tokens[i].end)
        return self.text[start:end if end >= 0 else len(self.text)][:20]
