"""The usage report and a booking's event log as admin views (core/chat/admin_views.py):
the CLI, Slack and Discord render them; `usage_csv` is the report as a table;
`usage_bars` what a chart of it draws (bot/usage_chart.py)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from core.chat.admin_views import AdminView, Arrow, Line, Name, Section, Span, Strong, Time
from core.domain.model import Account, ErrorCode, Refusal
from core.domain.usage import Amount, MemberUsage
from core.services.booking import BookingService
from core.services.lifecycle_base import event_time
from core.services.usage_report import BookingHistory, Dropped, UsageReport, usage_reports

CSV_COLUMNS = (
    "server", "member", "bookings",
    "booked_gpu_hours", "booked_cpu_hours", "booked_memory_gb_hours",
    "held_gpu_hours", "held_cpu_hours", "held_memory_gb_hours", "avg_gpu_util_percent",
)
ALL_MEMBERS = "*"  # the member column of the server's total row in the CSV
ALL_SERVERS = "*"  # the server column of a pool's total row
NOTE = ("Booked: each window as booked, cut to the period. Held: until the booking ended "
        "(an early end counts until it ended; a running booking until now). Cancelled "
        "bookings and failed starts hold nothing. GPU use: the GPUs' average utilisation "
        "where the scheduler sampled it.")


def hours(value: float) -> str:
    return f"{value:,.1f}"


def amount_words(value: Amount) -> str:
    return (f"{hours(value.gpu_hours)} GPU-h, {hours(value.cpu_hours)} CPU-h, "
            f"{hours(value.memory_gb_hours)} GB-h")


def _usage_line(member: MemberUsage) -> str:
    count = f"{member.bookings} booking{'' if member.bookings == 1 else 's'}"
    util = member.gpu_util
    busy = "" if util is None else f"; GPU use {util:.0f}%"
    return (f" ({count}): booked {amount_words(member.booked)}; "
            f"held {amount_words(member.held)}{busy}")


@dataclass(frozen=True)
class UsageBars:
    """Per member, GPU-hours booked and held: what the report's chart draws."""

    title: str
    members: tuple[str, ...]
    booked: tuple[float, ...]
    held: tuple[float, ...]


@dataclass(frozen=True)
class UsageView(AdminView):
    """The report as an admin view, with what its chart draws."""

    bars: UsageBars = UsageBars("", (), (), ())


def usage_view(report: UsageReport) -> UsageView:
    """The report; in a pool, a section per server, then the whole pool's line."""
    zone = report.zone
    title: Line = (Strong(report.server), f": usage {report.label} (", Time(report.period.start, zone),
                   Arrow(), Time(report.period.end, zone), ")")
    if report.servers:
        usage = tuple(s for part in report.servers for s in _usage_sections(part, pooled=True))
        usage += (Section((), ((Strong("Whole pool"), _usage_line(report.total)),)),)
    else:
        usage = _usage_sections(report, pooled=False)
    cancelled = Section(("Cancelled:",),
                        tuple(_dropped_line(d, "cancelled", report) for d in report.cancelled),
                        empty=("None.",), noun="cancelled bookings")
    failed = Section(("No-shows (failed starts):",),
                     tuple(_dropped_line(d, "failed", report) for d in report.no_shows),
                     empty=("None.",), noun="no-shows")
    records = ({"period": {"start": report.period.start.isoformat(), "end": report.period.end.isoformat()},
                "members": [_member_record(m) for m in report.members],
                **_total_records(report),
                "cancelled": [_dropped_record(d, report) for d in report.cancelled],
                "no_shows": [_dropped_record(d, report) for d in report.no_shows]},)
    return UsageView(title, (*usage, cancelled, failed), notes=((NOTE,),),
                     records=records, bars=usage_bars(report))


def _usage_sections(report: UsageReport, *, pooled: bool) -> tuple[Section, ...]:
    """Per member and the whole server (in a pool, each titled with the server's name)."""
    heading: Line = (Strong(report.server), " per member:") if pooled else ("Per member:",)
    whole: Span = Strong(f"Whole {report.server}" if pooled else "Whole server")
    members = Section(heading, tuple((Name(m.member), _usage_line(m)) for m in report.members),
                      empty=("No booked time in this period.",), noun="members")
    return members, Section((), ((whole, _usage_line(report.total)),))


def _total_records(report: UsageReport) -> dict[str, Any]:
    if not report.servers:
        return {"server": _member_record(report.total)}
    return {"servers": [{"server": part.server, "members": [_member_record(m) for m in part.members],
                         "total": _member_record(part.total)} for part in report.servers],
            "pool": _member_record(report.total)}


def _dropped_line(dropped: Dropped, verb: str, report: UsageReport) -> Line:
    booking, zone = dropped.booking, report.zone
    where = f"on {booking.server} " if report.servers else ""
    line: Line = (f"#{booking.id} {where}", Name(booking.account),
                  f" {booking.resources.describe()} ", Time(booking.start, zone), Arrow(),
                  Time(booking.end, zone))
    if dropped.at is not None:
        line += (f"; {verb} ", Time(dropped.at, zone))
    if dropped.actor and dropped.actor != booking.account and verb == "cancelled":
        line += (" by ", Name(dropped.actor))
    if dropped.reason:
        line += (f": {dropped.reason}",)
    return line


def _amount_record(value: Amount) -> dict[str, float]:
    return {"gpu_hours": round(value.gpu_hours, 3), "cpu_hours": round(value.cpu_hours, 3),
            "memory_gb_hours": round(value.memory_gb_hours, 3)}


def _member_record(member: MemberUsage) -> dict[str, Any]:
    util = member.gpu_util
    return {"member": member.member, "bookings": member.bookings,
            "booked": _amount_record(member.booked), "held": _amount_record(member.held),
            "avg_gpu_util_percent": None if util is None else round(util, 1)}


def _dropped_record(dropped: Dropped, report: UsageReport) -> dict[str, Any]:
    booking = dropped.booking
    where = {"server": booking.server} if report.servers else {}
    return {"id": booking.id, **where, "member": booking.account,
            "start": booking.start.isoformat(), "end": booking.end.isoformat(),
            "at": dropped.at.isoformat() if dropped.at else None,
            "by": dropped.actor, "reason": dropped.reason}


def usage_csv(report: UsageReport) -> str:
    """One row per member and one for the whole server (member `*`), hours to 3 places; in a
    pool, those rows for each server, then the whole pool's (server `*`, member `*`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows: list[tuple[str, str, MemberUsage]] = []
    for part in report.servers or (report,):
        rows += [(part.server, m.member, m) for m in part.members]
        rows.append((part.server, ALL_MEMBERS, part.total))
    if report.servers:
        rows.append((ALL_SERVERS, ALL_MEMBERS, report.total))
    for server, name, member in rows:
        writer.writerow([
            server, name, member.bookings,
            *(f"{v:.3f}" for v in (member.booked.gpu_hours, member.booked.cpu_hours,
                                   member.booked.memory_gb_hours, member.held.gpu_hours,
                                   member.held.cpu_hours, member.held.memory_gb_hours)),
            "" if member.gpu_util is None else f"{member.gpu_util:.1f}",
        ])
    return out.getvalue()


def usage_bars(report: UsageReport) -> UsageBars:
    return UsageBars(
        f"{report.server}: GPU-hours per member, {report.label}",
        tuple(m.member for m in report.members),
        tuple(m.booked.gpu_hours for m in report.members),
        tuple(m.held.gpu_hours for m in report.members),
    )


def history_view(history: BookingHistory, zone: tzinfo) -> AdminView:
    """A booking's events, oldest first, each with when, what, who and its details."""
    booking = history.booking
    where = f" on {history.server}" if history.server else ""
    title: Line = (f"#{booking.id}{where} [{booking.status.value}] ", Name(booking.account),
                   f" {booking.resources.describe()} ", Time(booking.start, zone), Arrow(),
                   Time(booking.end, zone))
    rows = tuple(
        (Time(event_time(e), zone), f" {e.kind}",
         *((" by ", Name(e.actor)) if e.actor else ()), _details(e.detail))
        for e in history.events
    )
    records = tuple({"at": event_time(e).isoformat(), "kind": e.kind, "actor": e.actor,
                     "detail": e.detail} for e in history.events)
    return AdminView(title, (Section(("Events, oldest first:",), rows,
                                     empty=("No events recorded.",), noun="events"),),
                     records=records)


def _details(detail: dict[str, Any]) -> str:
    shown = {k: v for k, v in detail.items() if k != "at" and v not in (None, [], "")}
    return (": " + ", ".join(f"{k}={_value(v)}" for k, v in shown.items())) if shown else ""


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


REPORT_HELP = ("`/capacity report [2026-11 | 2026-09-01 to 2026-11-30]`: usage per member for a "
               "month (default: this one) or a range of days, both included")
HISTORY_HELP = "`/capacity history N`: everything recorded about booking N, oldest first"


def capacity_report(service: BookingService, account: Account, words: list[str]) -> UsageView:
    """`/capacity report [month | first-day [to] last-day]`, for an admin: the report and
    its chart."""
    _require_admin(service, account, "A usage report")
    days = [w for w in words if w.lower() != "to"]
    reports = usage_reports(service)
    if len(words) <= 1:
        return usage_view(reports.month(words[0] if words else None))
    if len(days) == 2 and len(words) in (2, 3) and (len(words) == 2 or words[1].lower() == "to"):
        return usage_view(reports.days(days[0], days[1], ("the first day", "the last day")))
    typed = " ".join(words)
    shown = typed if len(typed) <= 80 else typed[:80] + "..."
    raise Refusal(ErrorCode.BAD_INPUT, f"`{shown}` is not a month or a range of days; "
                  "use `/capacity report` for this month, `/capacity report 2026-11`, or "
                  "`/capacity report 2026-09-01 to 2026-11-30`.")


def capacity_history(service: BookingService, account: Account, words: list[str]) -> AdminView:
    """`/capacity history N`, for an admin: booking N's events, oldest first."""
    _require_admin(service, account, "A booking's history")
    number = words[0].lstrip("#") if len(words) == 1 else ""
    if not number.isdigit():
        raise Refusal(ErrorCode.BAD_INPUT, "Say which booking: `/capacity history 12`.")
    try:
        history = usage_reports(service).history(int(number))
    except Refusal as refused:
        if refused.code != ErrorCode.NOT_FOUND:
            raise
        raise Refusal(ErrorCode.NOT_FOUND, f"There is no booking #{number}; `/capacity` "
                      "shows the current ones.") from None
    return history_view(history, service.zone_of(account))


def _require_admin(service: BookingService, account: Account, what: str) -> None:
    if not service.is_admin(account):
        raise Refusal(ErrorCode.NOT_OWNER, f"{what} needs an admin ({service.admin_names()}).")
