"""The line a lab's announcements channel gets when a booking starts or ends."""

from __future__ import annotations

from datetime import tzinfo

from core.domain.model import Booking
from core.domain.zones import local_time
from core.services.notifier import MessageKind


def announcement(kind: MessageKind, booking: Booking, zone: tzinfo,
                 with_server: bool = False) -> str | None:
    """What the channel reads for a member's message of `kind`; None when it says nothing
    (only starts and ends are announced). Times written in `zone`; `with_server` (a pool of
    servers): which server the booking is on."""
    where = f" on {booking.server}" if with_server and booking.server else ""
    r = booking.resources
    gpus = f", GPU {','.join(map(str, booking.gpu_ids))}" if booking.gpu_ids else ""
    held = f"{r.cpus:g} CPU{'' if r.cpus == 1 else 's'}, {r.memory} GB{gpus}"
    if kind == MessageKind.READY:
        return (f"{booking.account} started booking #{booking.id}{where} ({held}) until "
                f"{local_time(booking.end, zone)}.")
    if kind == MessageKind.ENDED:
        return f"{booking.account}'s booking #{booking.id}{where} ended; {held} free again."
    return None
