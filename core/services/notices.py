"""What a member is told when someone else (an admin) changed their booking."""

from __future__ import annotations

from datetime import tzinfo

from core.domain.model import Booking
from core.domain.zones import local_time


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
