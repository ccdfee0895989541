"""Words shown to members, built in one place for every adapter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import tzlocal

from core.domain.actions import VERBS, Action, Card
from core.domain.config import Config
from core.domain.model import Account, Booking, Resources
from core.domain.timeparse import FORMATS_HELP


@dataclass(frozen=True)
class Reply:
    """An answer. `cards`: one per booking where several are shown, each with its own
    actions; `private`: only the member may see it (a login), never a shared channel."""

    text: str
    actions: tuple[Action, ...] = ()
    private: bool = False
    cards: tuple[Card, ...] = ()

    @property
    def heading(self) -> str:
        """The text without the cards' own lines: what a surface that renders the cards
        shows above them."""
        if not self.cards:
            return self.text
        shown = {card.text for card in self.cards}
        return "\n".join(line for line in self.text.split("\n") if line not in shown).strip()


def member_zone(account: Account | None, config: Config) -> tzinfo:
    """The zone a member's times are shown in: their own, else the server's, else the host's."""
    name = (account.timezone if account else None) or config.server.timezone
    return ZoneInfo(name) if name else tzlocal.get_localzone()


def local_time(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def describe_resources(resources: Resources) -> str:
    gpus = f"{resources.gpus} GPU" + ("" if resources.gpus == 1 else "s")
    return f"{resources.cpus:g} CPUs, {resources.memory} GB, {gpus}"


def booking_line(booking: Booking, zone: tzinfo) -> str:
    gpu_ids = f" (ids {','.join(map(str, booking.gpu_ids))})" if booking.gpu_ids else ""
    return (
        f"#{booking.id} [{booking.status.value}] {booking.account}: "
        f"{local_time(booking.start, zone)} -> {local_time(booking.end, zone)}, "
        f"{describe_resources(booking.resources)}{gpu_ids}, SSH port {booking.port}"
    )


def booking_dict(booking: Booking, zone: tzinfo) -> dict[str, Any]:
    """The JSON shape scripts rely on (see the README)."""
    return {
        "id": booking.id,
        "user": booking.account,
        "status": booking.status.value,
        "start": booking.start.astimezone(zone).isoformat(),
        "end": booking.end.astimezone(zone).isoformat(),
        "cpus": booking.resources.cpus,
        "memory": booking.resources.memory,
        "gpus": booking.resources.gpus,
        "gpu_ids": list(booking.gpu_ids),
        "port": booking.port,
        "image": booking.image,
        "command": booking.command,
    }


def booked(booking: Booking, zone: tzinfo) -> str:
    return f"Booked: {booking_line(booking, zone)}"


def _help() -> str:
    lines = [f"  {v.usage:<35} {v.summary}" for v in VERBS]
    lines.insert(1, f"  {'book 2 gpus tomorrow 9am for 1-week':<35} (the same, other words)")
    lines.append(f"  {'abort':<35} forget the request in progress")
    return "What I understand:\n" + "\n".join(lines)


HELP = f"""{_help()}
Times: {FORMATS_HELP}. Durations for the end count from the start."""


def changed_by_someone_else(
    change: str, booking: Booking, actor: str, zone: tzinfo, reason: str | None = None
) -> str:
    """What a member is told when an admin changed their booking: who, what, and why."""
    number = f"your booking #{booking.id}"
    told = {
        "cancelled": f"{actor} (an admin) cancelled {number} "
                     f"({local_time(booking.start, zone)} -> {local_time(booking.end, zone)}).",
        "ended_early": f"{actor} (an admin) ended {number} now; its files are backed up first, "
                       "then its container is removed.",
        "extended": f"{actor} (an admin) extended {number}; it now ends at "
                    f"{local_time(booking.end, zone)}.",
        "restart_requested": f"{actor} (an admin) restarted the container of {number}; I will "
                             "message you when it is back. Log in again with the same password.",
    }[change]
    return f"{told} Why: {reason}" if reason else told
