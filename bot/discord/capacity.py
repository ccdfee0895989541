"""The `/capacity` use cases for admins, synchronous: called in a worker thread."""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo

from bot.discord.outgoing import Outgoing
from bot.discord.render import MESSAGE_LIMIT, stamp
from core.domain import Account, Booking, ErrorCode, LinkConflict, Refusal
from core.service import BookingService, merge_slots

log = logging.getLogger(__name__)

CHART_NAME = "gpu-timeline.png"


def require_admin(service: BookingService, account: Account) -> None:
    if service.is_admin(account):
        return
    raise Refusal(
        ErrorCode.NOT_OWNER, f"Only booking admins ({service.admin_names()}) may use /capacity."
    )


def summary(service: BookingService, days: int) -> Outgoing:
    """Free CPUs, memory and GPUs per run of equal slots, and the GPU timeline chart."""
    slots = service.free_slots("now", f"{days}-day")
    start, end = slots[0].start, slots[-1].end
    host = service.host
    header = (
        f"**{service.config.server.name}**: {host.cpus:g} CPUs, {host.memory} GB, "
        f"{host.gpus} GPUs. Free from {stamp(start)} to {stamp(end)}:"
    )
    periods = merge_slots(slots)
    lines = [header]
    for index, period in enumerate(periods):
        line = (
            f"{stamp(period.start, 'f')} → {stamp(period.end, 'f')}: {period.cpus:g} CPUs, "
            f"{period.memory} GB, GPUs free: {','.join(map(str, period.gpu_ids)) or 'none'}"
        )
        rest = f"… and {len(periods) - index} more ranges; see the chart."
        if sum(len(x) + 1 for x in lines) + len(line) + len(rest) + 1 > MESSAGE_LIMIT:
            lines.append(rest)
            break
        lines.append(line)
    held = [b for b in service.bookings() if b.start < end]
    zone = service.zone_of(None)
    chart = _chart(held, host.gpus, start, end, zone, f"{service.config.server.name}: GPUs")
    return Outgoing("\n".join(lines), file=(CHART_NAME, chart) if chart else None)


def _chart(
    held: list[Booking], gpu_count: int, start: datetime, end: datetime, zone: tzinfo, title: str
) -> bytes | None:
    try:
        from bot.charts import gpu_timeline_png
    except ImportError:
        log.warning("bot.charts is not available; /capacity shows no chart")
        return None
    try:
        return gpu_timeline_png(held, gpu_count, start, end, zone, title)
    except Exception:
        log.exception("drawing the GPU timeline failed")
        return None


def limits(
    service: BookingService, target: Account, values: dict[str, str]
) -> Outgoing:
    """Show `target`'s maxima, after setting those given in `values`."""
    if values:
        target = service.set_limits(target.name, values)
    verb = "may now book" if values else "may book"
    return Outgoing(f"`{target.name}` {verb} up to {service.limits_of(target).describe()}.")


def users(service: BookingService) -> Outgoing:
    lines = []
    for account in service.accounts():
        maximum = service.limits_of(account)
        lines.append(
            f"`{account.name}`{' (admin)' if service.is_admin(account) else ''}: "
            f"max {maximum.describe()}, port {account.preferred_port or '-'}"
            + (f", <@{account.discord_id}>" if account.discord_id else "")
        )
    return Outgoing("\n".join(lines) if lines else "No accounts yet: `/capacity link`.")


def link(
    service: BookingService, discord_id: int, display_name: str, lab_id: str, admin: bool,
    confirm: bool = False,
) -> Outgoing:
    try:
        account = service.add_account(
            lab_id, admin=admin, discord_id=str(discord_id), display_name=display_name,
            confirm=confirm,
        )
    except LinkConflict as conflict:
        return Outgoing(f"{conflict.message} To do it, run `/capacity link` again with "
                        "`confirm: True`.")
    role = " (admin)" if service.is_admin(account) else ""
    return Outgoing(f"<@{discord_id}> is linked to `{account.name}`{role}.")
