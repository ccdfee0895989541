"""Maintenance windows: an admin takes the whole server, or some GPUs, out of booking for a
while. A window holds what it names as a booking would, so the booking decision sweeps it
as one more span (core.domain.allocation.Span) and never hands out what it holds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from core.domain.allocation import Span, micros
from core.domain.model import Booking, Resources, Window

# A window's span holds no SSH port: 0 is outside every configured port range.
NO_PORT = 0
# ...and belongs to no member (account ids start at 1), so it is never "your own booking".
NO_ACCOUNT = 0


@dataclass(frozen=True)
class MaintenanceWindow:
    start: datetime
    end: datetime
    gpu_ids: tuple[int, ...]  # () = the whole server
    reason: str
    created_by: str = ""
    id: int | None = None

    @property
    def whole_server(self) -> bool:
        return not self.gpu_ids

    @property
    def window(self) -> Window:
        return Window(self.start, self.end)

    def span(self, host: Resources) -> Span:
        """What the window holds, as the decision sweeps it: the whole server is every CPU,
        all memory and every GPU; named GPUs are only those ids."""
        if self.whole_server:
            gpus = ",".join(map(str, range(host.gpus)))
            return (-(self.id or 0), NO_ACCOUNT, micros(self.start), micros(self.end),
                    host.cpus, host.memory, gpus, NO_PORT)
        return (-(self.id or 0), NO_ACCOUNT, micros(self.start), micros(self.end), 0.0, 0,
                ",".join(map(str, self.gpu_ids)), NO_PORT)

    def as_booking(self, host: Resources) -> Booking:
        """What the window holds as a booking would, for views of what is free."""
        gpus = tuple(range(host.gpus)) if self.whole_server else self.gpu_ids
        cpus, memory = (host.cpus, host.memory) if self.whole_server else (0.0, 0)
        return Booking(account=f"maintenance #{self.id}", start=self.start, end=self.end,
                       resources=Resources(cpus, memory, len(gpus)), gpu_ids=gpus,
                       port=NO_PORT, image="")

    def affects(self, booking: Booking) -> bool:
        """A holding booking whose window overlaps this one and uses what it holds."""
        return booking.holds_resources and booking.window.overlaps(self.window) and (
            self.whole_server or bool(set(self.gpu_ids) & set(booking.gpu_ids)))

    def blocks(self, resources: Resources) -> bool:
        """Whether a request for `resources` in an overlapping window is held up by it."""
        return self.whole_server or resources.gpus > 0


def spans_of(windows: Iterable[MaintenanceWindow], host: Resources) -> list[Span]:
    return [window.span(host) for window in windows]


class GpuListError(ValueError):
    """A GPU list not understood; the message says what works."""


def parse_gpu_list(text: str | None, host_gpus: int) -> tuple[int, ...]:
    """`0,1` (or `0 1`, `[0, 1]`) -> (0, 1); None or "" -> () (the whole server)."""
    if text is None or not text.strip():
        return ()
    parts = text.strip().strip("[]").replace(",", " ").split()
    if not parts or not all(part.isascii() and part.isdigit() and len(part) <= 6 for part in parts):
        shown = text.strip() if len(text.strip()) <= 40 else f"{text.strip()[:40]}..."
        raise GpuListError(f"`{shown}` is not a list of GPU ids; use ids such as `0,1`.")
    ids = tuple(sorted({int(part) for part in parts}))
    outside = [gpu for gpu in ids if gpu >= host_gpus]
    if outside:
        have = f"GPUs 0-{host_gpus - 1}" if host_gpus else "no GPUs"
        raise GpuListError(f"GPU {', '.join(map(str, outside))} is not on this server "
                           f"(it has {have}).")
    return ids
