"""The admin views, produced once: the `/capacity` summary, the users table, a member's
limits and a chat link. Slack, Discord and the CLI only render them.

A view is made of lines of neutral spans (plain text, a server name, an account name,
something to type, a time, a chat user); each surface says how a span looks
(`Markup`) and `render`/`pages` turn a view into its text, split into pages that fit
the surface's limits. Nothing is ever cut: what does not fit goes on the next page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol

from core.chat.actions import Action
from core.domain.model import Account, Booking, LinkConflict
from core.domain.quota import QUOTA_KEYS, quota_gb
from core.services.booking import BookingService
from core.services.capacity import merge_slots

SUMMARY_DAYS = 3
ADMIN_NOTE = "Changing limits or accounts needs an admin."


@dataclass(frozen=True)
class _Marked:
    text: str


class Strong(_Marked):
    """The server's name: the title of a summary."""


class Name(_Marked):
    """An account's lab id."""


class Code(_Marked):
    """Something to type: a command."""


@dataclass(frozen=True)
class Time:
    at: datetime
    zone: tzinfo  # the reader's zone, for surfaces that cannot show each reader's own


@dataclass(frozen=True)
class ChatUser:
    platform: str  # "slack" or "discord"
    user_id: str


@dataclass(frozen=True)
class Arrow:
    """From one time to the next."""


Span = str | Strong | Name | Code | Time | ChatUser | Arrow
Line = tuple[Span, ...]


@dataclass(frozen=True)
class Section:
    title: Line
    rows: tuple[Line, ...]
    empty: Line = ()  # said instead of the rows when there are none
    noun: str = "lines"  # what a row is, for the page footer: "accounts 1-25 of 50"


@dataclass(frozen=True)
class GpuTimeline:
    """Who holds which GPU when, for a surface that draws it (bot/charts.py)."""

    bookings: tuple[Booking, ...]
    gpu_count: int
    start: datetime
    end: datetime
    zone: tzinfo
    title: str


@dataclass(frozen=True)
class AdminView:
    title: Line = ()
    sections: tuple[Section, ...] = ()
    notes: tuple[Line, ...] = ()
    actions: tuple[Action, ...] = ()
    chart: GpuTimeline | None = None
    # The same content as data, for `--json`.
    records: tuple[Mapping[str, Any], ...] = field(default=(), compare=False)


# ----- the views --------------------------------------------------------------


def free_periods(
    service: BookingService, zone: tzinfo, start_text: str = "now", end_text: str = "1-day",
    *, heading: Line = (),
) -> AdminView:
    """The host's resources, and per run of slots with the same free resources what is free."""
    slots = service.free_slots(start_text, end_text)
    host = service.host
    title: Line = (Strong(service.config.server.name),
                   f": {host.cpus:g} CPUs, {host.memory} GB, {host.gpus} GPUs")
    rows = tuple(
        (Time(p.start, zone), Arrow(), Time(p.end, zone),
         f": {p.cpus:g} CPUs, {p.memory} GB, GPUs free: {_ids(p.gpu_ids)}")
        for p in merge_slots(slots)
    )
    records = tuple(
        {"start": s.start.astimezone(zone).isoformat(), "end": s.end.astimezone(zone).isoformat(),
         "cpus": s.cpus, "memory": s.memory, "gpus": len(s.gpu_ids), "gpu_ids": list(s.gpu_ids)}
        for s in slots
    )
    return AdminView(title, (Section(heading, rows, noun="periods"),), records=records)


def capacity_summary(
    service: BookingService, zone: tzinfo, days: int = SUMMARY_DAYS, *, admin: bool = True
) -> AdminView:
    """What is free in the next `days` days; for an admin also who holds which GPU until
    when, and the chart of it."""
    free = free_periods(service, zone, "now", f"{days}-day", heading=free_heading(days))
    start = service.now()
    end = start + timedelta(days=days)
    held = tuple(b for b in service.bookings() if b.start < end and b.end > start)
    holders = tuple(
        (f"GPU {gpu}: ", Name(b.account), f" (#{b.id}) from ", Time(b.start, zone), " until ",
         Time(b.end, zone))
        for gpu, b in sorted(((g, b) for b in held for g in b.gpu_ids),
                             key=lambda pair: (pair[0], pair[1].start))
    )
    who = Section(("Who holds which GPU:",), holders, empty=("No GPU is held.",), noun="GPUs held")
    if not admin:  # who holds what, and the chart, are the admins'
        return AdminView(free.title, free.sections, ((ADMIN_NOTE,),), records=free.records)
    chart = GpuTimeline(held, service.host.gpus, start, end, zone,
                        f"{service.config.server.name}: who holds which GPU, next {days} days")
    return AdminView(free.title, (*free.sections, who), chart=chart, records=free.records)


def free_heading(days: int) -> Line:
    return (f"Free in the next {days} days:",)


def users_table(service: BookingService, add_hint: str) -> AdminView:
    """Every account: lab id, admin, maxima, own port, disk quotas, chat links."""
    rows: list[Line] = []
    records: list[dict[str, Any]] = []
    for account in service.accounts():
        maximum = service.limits_of(account)
        admin = service.is_admin(account)
        row: list[Span] = [Name(account.name), " (admin)" if admin else "",
                           f": max {maximum.describe()}, port {account.preferred_port or '-'}"]
        for platform, chat_id in (("slack", account.slack_id), ("discord", account.discord_id)):
            if chat_id:
                row += [", ", ChatUser(platform, chat_id)]
        quotas = _quotas(service, account)
        if any(gb is not None for gb in quotas.values()):
            row.append(f", {quota_words(quotas)}")
        rows.append(tuple(row))
        records.append({
            "user": account.name, "admin": admin, "slack": account.slack_id,
            "discord": account.discord_id, "port": account.preferred_port,
            "max": {"cpus": maximum.cpus, "memory": maximum.memory, "gpus": maximum.gpus},
            "quotas": quotas,
        })
    empty: Line = ("No accounts yet: ", Code(add_hint), ".")
    return AdminView(sections=(Section((), tuple(rows), empty, noun="accounts"),),
                     records=tuple(records))


def member_limits(service: BookingService, member: Account, values: Mapping[str, str]) -> AdminView:
    """A member's maxima, after setting those in `values` (and their quotas, when given)."""
    if values:
        member = service.set_limits(member.name, dict(values))
    verb = " may now book up to " if values else " may book up to "
    line: list[Span] = [Name(member.name), verb, service.limits_of(member).describe()]
    if any(key in values for key in QUOTA_KEYS):
        line.append(f"; {quota_words(_quotas(service, member))}")
    return AdminView((*line, "."))


def link(
    service: BookingService, lab_id: str, user: ChatUser, *, again: Line, display_name: str = "",
    admin: bool = False, confirm: bool = False,
) -> AdminView:
    """Link a chat user to an account (made if new). Moving a link that belongs to someone
    else happens only with `confirm`; without it the view says what would and how (`again`)."""
    try:
        account = service.add_account(
            lab_id, admin=admin, display_name=display_name, confirm=confirm,
            **{f"{user.platform}_id": user.user_id},
        )
    except LinkConflict as conflict:
        return AdminView((conflict.message, " To do it, ", *again))
    role = " (admin)" if service.is_admin(account) else ""
    return AdminView((user, " is linked to ", Name(account.name), f"{role}."))


def quota_words(quotas: Mapping[str, float | None]) -> str:
    return "quotas: " + ", ".join(
        f"{key.removesuffix('_space')} folder " + ("no limit" if gb is None else f"{gb:g} GB")
        for key, gb in quotas.items())


def _quotas(service: BookingService, account: Account) -> dict[str, float | None]:
    return {key: quota_gb(account, key, service.config) for key in QUOTA_KEYS}


def _ids(gpu_ids: Sequence[int]) -> str:
    return ",".join(map(str, gpu_ids)) or "none"


# ----- rendering ----------------------------------------------------------------


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
