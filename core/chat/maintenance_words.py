"""What an admin reads about maintenance windows (README, "Maintenance windows"): the
bookings a new window meets before it is added, what was added and who was told, the
windows to come. The CLI prints these; `/capacity maintenance` sends them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from core.chat.messages import booking_line
from core.domain.maintenance import MaintenanceWindow
from core.domain.refusals import maintenance_words
from core.domain.zones import local_time
from core.services.booking import BookingService
from core.services.maintenance import Affected, MaintenancePlan

CLI = "booking maintenance"  # how the commands named in these words are typed


def _window(window: MaintenanceWindow, zone: tzinfo, server: str | None = None) -> str:
    words = maintenance_words(window, zone)
    number = f"#{window.id} " if window.id is not None else ""
    if server is not None:  # a pool's: `#3 on gpu2: Maintenance of ...`
        number = f"{number}on {server}: "
    return f"{number}{words[0].upper()}{words[1:]} (added by {window.created_by})"


def _affected(affected: Sequence[Affected], zone: tzinfo) -> list[str]:
    lines = []
    for item in affected:
        line = f"  {booking_line(item.booking, zone)}"
        if item.alternative == item.booking.start:
            line += "; offered the same time on other GPUs"
        elif item.alternative is not None:  # (a plan's preview has none yet)
            line += f"; offered from {local_time(item.alternative, zone)}"
        lines.append(line)
    return lines


def plan_text(plan: MaintenancePlan, zone: tzinfo, confirm: str) -> str:
    """Before adding: the window and the bookings it meets; `confirm` says how to go on."""
    head = _window(plan.window, zone).replace(" (added by", " (to be added by", 1)
    if not plan.affected:
        return f"{head}.\nIt meets no booking." + (f" {confirm}" if confirm else "")
    count = len(plan.affected)
    lines = [f"{head}.",
             f"It meets {count} booking{'s' if count != 1 else ''}; "
             f"{'its member is' if count == 1 else 'their members are'} told when it is added, "
             "with the earliest start where the same booking fits:",
             *_affected(plan.affected, zone), *([confirm] if confirm else [])]
    return "\n".join(lines)


def added_text(plan: MaintenancePlan, zone: tzinfo, command: str = CLI) -> str:
    lines = [f"Added maintenance window {_window(plan.window, zone)}."]
    if plan.affected:
        lines.append("Told the members of:")
        lines.extend(_affected(plan.affected, zone))
    else:
        lines.append("It meets no booking; nobody had to be told.")
    lines.append(f"New requests that overlap it are refused; `{command} rm {plan.window.id}` "
                 "removes it.")
    return "\n".join(lines)


def windows_text(windows: Sequence[MaintenanceWindow], zone: tzinfo, command: str = CLI,
                 servers: Sequence[str] = ()) -> str:
    """The windows, earliest first; with `servers` (a pool's, one per window) each named."""
    if not windows:
        return f"No maintenance windows ahead. Add one with `{command} add`."
    named = list(servers) if servers else [None] * len(windows)
    return "\n".join(_window(window, zone, server) for window, server in zip(windows, named,
                                                                              strict=True))


def windows_listing(service: BookingService, *, actor: str | None, zone: tzinfo,
                    command: str = CLI, history: bool = False) -> str:
    """`windows_text` of the windows `actor` may list; in a pool of servers each names its
    server (each server's windows are read on its own service)."""
    servers = service.servers()
    if len(servers) < 2:
        return windows_text(service.maintenance_windows(actor=actor, history=history), zone,
                            command)
    found = sorted(((window, name) for name, one in servers.items()
                    for window in one.maintenance_windows(actor=actor, history=history)),
                   key=lambda pair: (pair[0].start, pair[0].id or 0))
    return windows_text([w for w, _ in found], zone, command, [name for _, name in found])


def removed_text(window: MaintenanceWindow, zone: tzinfo) -> str:
    return (f"Removed maintenance window {_window(window, zone)}. Its time is bookable again; "
            "bookings already moved stay where they are.")
