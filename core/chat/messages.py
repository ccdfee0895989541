"""Words shown to members, built in one place for every adapter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from core.chat.actions import VERBS, Action, Card
from core.domain.model import Booking, Resources
from core.domain.time_tokens import FORMATS_HELP
from core.domain.zones import local_time


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


def describe_resources(resources: Resources) -> str:
    gpus = f"{resources.gpus} GPU" + ("" if resources.gpus == 1 else "s")
    return f"{resources.cpus:g} CPU{'' if resources.cpus == 1 else 's'}, {resources.memory} GB, {gpus}"


def booking_line(booking: Booking, zone: tzinfo, with_server: bool = False) -> str:
    """One booking in a line; `with_server` (a pool of servers): which server it is on."""
    gpu_ids = f" (ids {','.join(map(str, booking.gpu_ids))})" if booking.gpu_ids else ""
    where = f" on {booking.server}" if with_server and booking.server else ""
    return (
        f"#{booking.id}{where} [{booking.status.value}] {booking.account}: "
        f"{local_time(booking.start, zone)} -> {local_time(booking.end, zone)}, "
        f"{describe_resources(booking.resources)}{gpu_ids}, SSH port {booking.port}"
    )


def booking_dict(booking: Booking, zone: tzinfo) -> dict[str, Any]:
    """The JSON shape scripts rely on (see the README); `server`: the server's name, one
    server's too."""
    return {
        "id": booking.id,
        "server": booking.server,
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


def booked(booking: Booking, zone: tzinfo, with_server: bool = False) -> str:
    return f"Booked: {booking_line(booking, zone, with_server)}"


def _help() -> str:
    lines = [f"  {v.usage:<35} {v.summary}" for v in VERBS]
    lines.insert(1, f"  {'book 2 gpus tomorrow 9am for 1-week':<35} (the same, other words)")
    lines.append(f"  {'abort':<35} forget the request in progress")
    return "What I understand:\n" + "\n".join(lines)


HELP = f"""{_help()}
Times: {FORMATS_HELP}. Durations for the end count from the start."""
