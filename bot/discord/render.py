"""How the service's words look in Discord: timestamps, booking lines, limits.

Discord renders `<t:UNIX:F>` in each reader's own time zone, so times sent to
Discord carry no zone of ours.
"""

from __future__ import annotations

from datetime import datetime

from core.domain import Booking
from core.messages import describe_resources

MESSAGE_LIMIT = 2000  # characters in a message's content
LABEL_LIMIT = 80  # characters in a button label
CHOICE_LIMIT = 100  # characters in a choice's name and value


def stamp(moment: datetime, style: str = "F") -> str:
    return f"<t:{int(moment.timestamp())}:{style}>"


def booking_line(booking: Booking) -> str:
    gpu_ids = f" (ids {','.join(map(str, booking.gpu_ids))})" if booking.gpu_ids else ""
    return (
        f"**#{booking.id}** [{booking.status.value}] "
        f"{stamp(booking.start)} → {stamp(booking.end)}, "
        f"{describe_resources(booking.resources)}{gpu_ids}, SSH port {booking.port}"
    )


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Text cut to Discord's limit, saying so when something was cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
