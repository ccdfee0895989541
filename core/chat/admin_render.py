"""How an admin view becomes text: each surface says how a span looks (`Markup`), and
`render`/`pages` turn a view into its text, split into pages that fit the surface's
limits. Nothing is ever cut: what does not fit goes on the next page.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Protocol

from core.chat.admin_views import AdminView, ChatUser, Code, Line, Name, Strong, Time


class Markup(Protocol):
    """How one surface shows each kind of span."""

    bullet: str  # before each row: "• " in chat, "" in a terminal

    def text(self, text: str) -> str: ...
    def strong(self, text: str) -> str: ...
    def name(self, text: str) -> str: ...
    def code(self, text: str) -> str: ...
    def time(self, at: datetime, zone: tzinfo) -> str: ...
    def user(self, platform: str, user_id: str) -> str: ...
    def arrow(self) -> str: ...


def line_text(line: Line, markup: Markup) -> str:
    parts = []
    for span in line:
        if isinstance(span, str):
            parts.append(markup.text(span))
        elif isinstance(span, Strong):
            parts.append(markup.strong(span.text))
        elif isinstance(span, Name):
            parts.append(markup.name(span.text))
        elif isinstance(span, Code):
            parts.append(markup.code(span.text))
        elif isinstance(span, Time):
            parts.append(markup.time(span.at, span.zone))
        elif isinstance(span, ChatUser):
            parts.append(markup.user(span.platform, span.user_id))
        else:
            parts.append(markup.arrow())
    return "".join(parts)


def render(view: AdminView, markup: Markup) -> str:
    """The whole view as one text (a terminal, or a surface without limits)."""
    return "\n".join(_blocks(view, markup))


def pages(view: AdminView, markup: Markup, limit: int) -> list[str]:
    """The view as texts of at most `limit` characters each. A section split over pages
    says on each which of its rows it shows ("accounts 26-50 of 50"); nothing is cut."""
    out: list[str] = []
    for block in _blocks(view, markup, limit):
        if out and len(out[-1]) + 1 + len(block) <= limit:
            out[-1] += "\n" + block
        else:
            out.append(block)
    return out


def _blocks(view: AdminView, markup: Markup, limit: int | None = None) -> list[str]:
    """The view's title, sections (each in pieces that fit `limit`) and notes, in order."""
    blocks = [line_text(view.title, markup)] if view.title else []
    for section in view.sections:
        title = line_text(section.title, markup)
        rows = [markup.bullet + line_text(row, markup) for row in section.rows]
        if not rows:
            empty = line_text(section.empty, markup)
            blocks.append("\n".join(t for t in (title, empty) if t))
            continue
        blocks += _split(title, rows, section.noun, limit)
    blocks += [line_text(note, markup) for note in view.notes]
    return [_fit(b, limit) for b in blocks if b]


def _split(title: str, rows: list[str], noun: str, limit: int | None) -> list[str]:
    whole = "\n".join([title, *rows] if title else rows)
    if limit is None or len(whole) <= limit:
        return [whole]
    pieces: list[list[str]] = [[]]
    room = limit - len(title) - len(f"\n({noun} 0000-0000 of 0000)") - 1
    for row in rows:
        used = sum(len(r) + 1 for r in pieces[-1])
        if pieces[-1] and used + len(row) > room:
            pieces.append([])
        pieces[-1].append(row)
    out, first = [], 1
    for piece in pieces:
        last = first + len(piece) - 1
        footer = f"({noun} {first}-{last} of {len(rows)})"
        out.append("\n".join([title, *piece, footer] if title else [*piece, footer]))
        first = last + 1
    return out


def _fit(text: str, limit: int | None) -> str:
    """A single row longer than a whole page (it never happens with these views) is cut
    with a mark rather than breaking the message."""
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
