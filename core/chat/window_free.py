"""What is free for a whole window, in words, for a form that shows it as it is filled; in a
pool of servers, on the server chosen, or a short line per server."""

from __future__ import annotations

from datetime import datetime, tzinfo

from core.chat.actions import seed_time
from core.chat.messages import describe_resources
from core.domain.model import Refusal, Resources
from core.domain.zones import local_time
from core.services.booking import BookingService
from core.services.capacity import SlotFree

CHOOSE = "Choose a start and an end to see what is free then."


def free_for_window(service: BookingService, start: datetime | None, end: datetime | str,
                    wanted: Resources, zone: tzinfo, server: str = "") -> str:
    """What is free from `start` (None: now) to `end` (a moment, or a length from the
    start such as "3-day"), and whether `wanted` fits in it; times written in `zone`.
    A pool: on `server` when it is one of the pool's, else a line per server."""
    servers = service.servers()
    if len(servers) > 1 and server in servers:
        return f"On {server}: " + free_for_window(servers[server], start, end, wanted, zone)
    if len(servers) > 1:
        return _per_server(servers, start, end, wanted, zone)
    slots = _slots(service, start, end)
    if slots is None:
        return CHOOSE
    free = _free(slots)
    said = (f"Free for the whole time, {local_time(slots[0].start, zone)} -> "
            f"{local_time(slots[-1].end, zone)}: {describe_resources(free)}")
    short = _short(free, wanted)
    if not short:
        return f"{said}. Your request fits."
    return (f"{said}. Not enough {' and '.join(short)} then: booking offers the earliest "
            "start that fits.")


def _per_server(servers: dict[str, BookingService], start: datetime | None,
                end: datetime | str, wanted: Resources, zone: tzinfo) -> str:
    lines: list[str] = []
    window = ""
    for name, one in servers.items():
        slots = _slots(one, start, end)
        if slots is None:
            return CHOOSE
        window = window or (f"{local_time(slots[0].start, zone)} -> "
                            f"{local_time(slots[-1].end, zone)}")
        free = _free(slots)
        short = _short(free, wanted)
        fits = "fits" if not short else f"not enough {' and '.join(short)}"
        lines.append(f"{name}: {describe_resources(free)} ({fits})")
    return f"Free for the whole time, {window}:\n" + "\n".join(lines)


def _slots(service: BookingService, start: datetime | None,
           end: datetime | str) -> list[SlotFree] | None:
    server = service.zone_of(None)  # free_slots reads times in the server's zone
    start_text = "now" if start is None else seed_time(start, server)
    end_text = end if isinstance(end, str) else seed_time(end, server)
    try:
        return service.free_slots(start_text, end_text)
    except Refusal:
        return None


def _free(slots: list[SlotFree]) -> Resources:
    gpus = set(slots[0].gpu_ids).intersection(*(s.gpu_ids for s in slots))
    return Resources(min(s.cpus for s in slots), min(s.memory for s in slots), len(gpus))


def _short(free: Resources, wanted: Resources) -> list[str]:
    return [name for name, have, need in (("CPUs", free.cpus, wanted.cpus),
                                          ("memory", free.memory, wanted.memory),
                                          ("GPUs", free.gpus, wanted.gpus)) if need > have]
