"""The admin views, produced once: the `/capacity` summary, the users table, a member's
limits (and, in admin_link.py, a chat link). Slack, Discord and the CLI only render them.

A view is made of lines of neutral spans (plain text, a server name, an account name,
something to type, a time, a chat user); each surface says how a span looks
(`admin_render.Markup`) and admin_render turns a view into its text, in pages that fit
the surface's limits. A view's actions are what an admin can do next (a button).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from core.chat.actions import Action
from core.chat.messages import describe_resources
from core.chat.pool_words import server_line
from core.chat.server_states import health_record, pool_health, state_words
from core.chat.time_marks import split_times
from core.domain.model import Account, Booking
from core.domain.quota import QUOTA_KEYS, quota_gb
from core.services.booking import BookingService
from core.services.capacity import SlotFree, merge_slots

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
    charts: tuple[GpuTimeline, ...] = ()  # one per server, drawn as one figure (bot/charts.py)
    # The same content as data, for `--json`.
    records: tuple[Mapping[str, Any], ...] = field(default=(), compare=False)

    @property
    def chart(self) -> GpuTimeline | None:
        """The first server's chart (the only one for one server)."""
        return self.charts[0] if self.charts else None


# ----- the views --------------------------------------------------------------


def free_periods(
    service: BookingService, zone: tzinfo, start_text: str = "now", end_text: str = "1-day",
    *, heading: Line = (),
) -> AdminView:
    """The host's resources, and per run of slots with the same free resources what is free."""
    return _periods(service, zone, service.free_slots(start_text, end_text), heading)


def _periods(
    service: BookingService, zone: tzinfo, slots: list[SlotFree], heading: Line
) -> AdminView:
    host = service.host
    title: Line = (Strong(service.config.server.name),
                   f": {describe_resources(host)}")
    rows = tuple(
        (Time(p.start, zone), Arrow(), Time(p.end, zone),
         f": {p.cpus:g} CPU{'' if p.cpus == 1 else 's'}, {p.memory} GB, "
         f"GPUs free: {_ids(p.gpu_ids)}")
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
    when, and the chart of it. A pool of servers: each server's, one after another."""
    if len(service.servers()) > 1:
        return _per_server(service, lambda one: capacity_summary(one, zone, days, admin=admin))
    free = free_periods(service, zone, "now", f"{days}-day", heading=free_heading(days))
    if not admin:  # who holds what, and the chart, are the admins'
        return AdminView(free.title, free.sections, ((ADMIN_NOTE,),), records=free.records)
    start = service.now()
    end = start + timedelta(days=days)
    who, held = gpu_holders(service, zone, start, end)
    chart = GpuTimeline(held, service.host.gpus, start, end, zone,
                        f"{service.config.server.name}: who holds which GPU, next {days} days")
    return AdminView(free.title, (*free.sections, who), charts=(chart,), records=free.records)


def capacity_between(
    service: BookingService, zone: tzinfo, start_text: str = "now", end_text: str = "1-day",
    *, admin: bool,
) -> AdminView:
    """What is free per period between two times (`booking capacity`) and, for an admin, the
    summary's "who holds which GPU" over the same window; the records stay the free slots
    (in a pool each server's, with its name)."""
    if len(service.servers()) > 1:
        return _per_server(service, lambda one: capacity_between(one, zone, start_text,
                                                                 end_text, admin=admin))
    slots = service.free_slots(start_text, end_text)
    free = _periods(service, zone, slots, ())
    if not admin:
        return free
    who, _held = gpu_holders(service, zone, slots[0].start, slots[-1].end)
    return AdminView(free.title, (*free.sections, who), records=free.records)


def _per_server(service: BookingService,
                view_of: Callable[[BookingService], AdminView]) -> AdminView:
    """A pool's view: whether each server is up, then each server's own view under its name
    (its first section's title starts with the server, says so when it is down, and gives
    its resources); a chart per server."""
    names = list(service.servers())
    now, zone = service.now(), service.zone_of(None)
    health = pool_health(service)
    rows = tuple(_spans(server_line(one, now, zone), zone) for one in health.values())
    sections: list[Section] = [Section((), rows)] if rows else []
    notes: list[Line] = []
    records: list[Mapping[str, Any]] = []
    charts: list[GpuTimeline] = []
    for name, one in service.servers().items():
        view = view_of(one)
        first, *rest = view.sections
        title = view.title
        if name in health and health[name].is_down(now):
            title = (Strong(name), " — ", Strong("down"), ", ",
                     *_spans(state_words(health[name], now, zone).removeprefix("down, "), zone),
                     f" ({describe_resources(one.host)})")
        heading = (*title, ". ", *first.title) if first.title else title
        sections += [Section(heading, first.rows, first.empty, first.noun), *rest]
        notes += [note for note in view.notes if note not in notes]
        state = health_record(health[name], now) if name in health else {}
        records += [{"server": name, **state, **record} for record in view.records]
        charts += view.charts
    return AdminView((Strong(f"{len(names)} servers"), f": {', '.join(names)}"), tuple(sections),
                     tuple(notes), charts=tuple(charts), records=tuple(records))


def _spans(words: str, zone: tzinfo) -> Line:
    """Words with times that local_time wrote in `zone`, each time as a Time span."""
    return tuple(Time(piece, zone) if isinstance(piece, datetime) else piece
                 for piece in split_times(words, zone))


def gpu_holders(
    service: BookingService, zone: tzinfo, start: datetime, end: datetime
) -> tuple[Section, tuple[Booking, ...]]:
    """Per GPU, who holds it from when until when between `start` and `end`; and the
    bookings that hold resources then."""
    held = tuple(b for b in service.bookings() if b.start < end and b.end > start)
    holders = tuple(
        (f"GPU {gpu}: ", Name(b.account), f" (#{b.id}) from ", Time(b.start, zone), " until ",
         Time(b.end, zone))
        for gpu, b in sorted(((g, b) for b in held for g in b.gpu_ids),
                             key=lambda pair: (pair[0], pair[1].start))
    )
    who = Section(("Who holds which GPU:",), holders, empty=("No GPU is held.",), noun="GPUs held")
    return who, held


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


def quota_words(quotas: Mapping[str, float | None]) -> str:
    return "quotas: " + ", ".join(
        f"{key.removesuffix('_space')} folder " + ("no limit" if gb is None else f"{gb:g} GB")
        for key, gb in quotas.items())


def _quotas(service: BookingService, account: Account) -> dict[str, float | None]:
    return {key: quota_gb(account, key, service.config) for key in QUOTA_KEYS}


def _ids(gpu_ids: Sequence[int]) -> str:
    return ",".join(map(str, gpu_ids)) or "none"
