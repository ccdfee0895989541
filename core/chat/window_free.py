"""What is free for a whole window, in words, for a form that shows it as it is filled."""

from __future__ import annotations

from datetime import datetime, tzinfo

from core.chat.actions import seed_time
from core.chat.messages import describe_resources
from core.domain.model import Refusal, Resources
from core.domain.zones import local_time
from core.services.booking import BookingService


def free_for_window(service: BookingService, start: datetime | None, end: datetime | str,
                    wanted: Resources, zone: tzinfo) -> str:
    """What is free from `start` (None: now) to `end` (a moment, or a length from the
    start such as "3-day"), and whether `wanted` fits in it; times written in `zone`."""
    server = service.zone_of(None)  # free_slots reads times in the server's zone
    start_text = "now" if start is None else seed_time(start, server)
    end_text = end if isinstance(end, str) else seed_time(end, server)
    try:
        slots = service.free_slots(start_text, end_text)
    except Refusal:
        return "Choose a start and an end to see what is free then."
    cpus = min(s.cpus for s in slots)
    memory = min(s.memory for s in slots)
    gpus = set(slots[0].gpu_ids).intersection(*(s.gpu_ids for s in slots))
    free = (f"Free for the whole time, {local_time(slots[0].start, zone)} -> "
            f"{local_time(slots[-1].end, zone)}: "
            f"{describe_resources(Resources(cpus, memory, len(gpus)))}")
    short = [name for name, have, need in (("CPUs", cpus, wanted.cpus),
                                           ("memory", memory, wanted.memory),
                                           ("GPUs", len(gpus), wanted.gpus)) if need > have]
    if not short:
        return f"{free}. Your request fits."
    return (f"{free}. Not enough {' and '.join(short)} then: booking offers the earliest "
            "start that fits.")
