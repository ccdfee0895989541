"""Words shown to members, built in one place for every adapter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import tzlocal

from core.config import Config
from core.domain import Account, Booking, Resources
from core.timeparse import FORMATS_HELP


@dataclass(frozen=True)
class Action:
    """Something the member can do next: a command for the conversation engine.

    Adapters render it as a button whose click sends `command` back as if typed.
    """

    label: str
    command: str
    style: str = ""  # "primary" or "danger" where an adapter can show it


@dataclass(frozen=True)
class Reply:
    text: str
    actions: tuple[Action, ...] = ()


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


HELP = f"""\
What I understand:
  book 1 gpu 8 cpus 32g now 3-day     book in one line (I ask for whatever is missing)
  book 2 gpus tomorrow 9am for 1-week
  list                                your upcoming and running bookings
  cancel N                            cancel booking N (ends it if it is running)
  extend N 2-day                      make booking N two days longer (or give a new end time)
  restart N                           restart the container of running booking N (same login)
  key ssh-ed25519 AAAA... me@laptop   add an SSH public key for logging in (`keys` lists them)
  timezone Europe/Berlin              show your times in another zone
  abort                               forget the request in progress
  help                                this text
Times: {FORMATS_HELP}. Durations for the end count from the start."""
