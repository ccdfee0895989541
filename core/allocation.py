"""Pure capacity arithmetic: does a request fit, which GPUs and port it gets.

Nothing here touches a database; the service hands in the bookings that
overlap the window and gets back a decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.domain import Booking, Resources, Window


@dataclass(frozen=True)
class Usage:
    """The most any single instant of a window uses, and what is held at all."""

    peak_cpus: float
    peak_memory: int
    busy_gpus: frozenset[int]
    busy_ports: frozenset[int]


def usage_in(window: Window, bookings: Iterable[Booking]) -> Usage:
    """Peak CPU and memory use over `window`, by a sweep over booking edges.

    Use only changes where a booking starts or ends, so the peak is found by
    visiting those instants in order (ends before starts at the same instant,
    since windows are half-open).
    """
    edges: list[tuple[datetime, int, float, int]] = []
    gpus: set[int] = set()
    ports: set[int] = set()
    for booking in bookings:
        if not (booking.holds_resources and booking.window.overlaps(window)):
            continue
        begin = max(booking.start, window.start)
        finish = min(booking.end, window.end)
        res = booking.resources
        edges.append((begin, 1, res.cpus, res.memory))
        edges.append((finish, 0, -res.cpus, -res.memory))
        gpus.update(booking.gpu_ids)
        ports.add(booking.port)
    edges.sort(key=lambda edge: (edge[0], edge[1]))
    cpus = peak_cpus = 0.0
    memory = peak_memory = 0
    for _, _, d_cpus, d_memory in edges:
        cpus += d_cpus
        memory += d_memory
        peak_cpus = max(peak_cpus, cpus)
        peak_memory = max(peak_memory, memory)
    return Usage(round(peak_cpus, 6), peak_memory, frozenset(gpus), frozenset(ports))


def shortages(request: Resources, host: Resources, usage: Usage) -> list[str]:
    """What is short for `request` in a window with `usage`; empty when it fits."""
    short = []
    free_cpus = host.cpus - usage.peak_cpus
    free_memory = host.memory - usage.peak_memory
    free_gpus = host.gpus - len(usage.busy_gpus)
    if request.cpus > free_cpus + 1e-9:
        short.append(f"CPUs ({request.cpus:g} asked, {max(free_cpus, 0):g} free)")
    if request.memory > free_memory:
        short.append(f"memory ({request.memory} GB asked, {max(free_memory, 0)} GB free)")
    if request.gpus > free_gpus:
        short.append(f"GPUs ({request.gpus} asked, {max(free_gpus, 0)} free)")
    return short


def _runs(ids: Sequence[int]) -> list[list[int]]:
    """Split sorted ids into runs of consecutive numbers."""
    runs: list[list[int]] = []
    for gpu in ids:
        if runs and runs[-1][-1] == gpu - 1:
            runs[-1].append(gpu)
        else:
            runs.append([gpu])
    return runs


def choose_gpus(
    free: Iterable[int], count: int, nvlinks: frozenset[frozenset[int]] = frozenset()
) -> tuple[int, ...]:
    """Pick `count` GPUs among those free for the whole window.

    Rule: a multi-GPU request first looks for an NVLink island, a group of
    free GPUs joined by NVLink, that can hold it whole, and takes the smallest
    such island (lower ids on a tie). Within the island, or among all free
    GPUs when there are no links or no island is big enough, the best fit that
    keeps the pool least fragmented: the *shortest* run of consecutive free ids
    that can hold the whole request, from its low end, so long runs stay whole
    for larger requests later. When no run is long enough, fill from the
    longest runs first, so the request spans as few pieces as possible.
    """
    if count <= 0:
        return ()
    ids = sorted(set(free))
    if len(ids) < count:
        raise ValueError("not enough free GPUs")
    if count > 1 and nvlinks:
        islands = [island for island in _islands(ids, nvlinks) if len(island) >= count]
        if islands:
            ids = min(islands, key=lambda island: (len(island), island[0]))
    return _best_fit(ids, count)


def _islands(ids: list[int], nvlinks: frozenset[frozenset[int]]) -> list[list[int]]:
    """Groups of `ids` joined by NVLink (directly or through each other)."""
    islands: list[list[int]] = []
    seen: set[int] = set()
    for seed in ids:
        if seed in seen:
            continue
        island, todo = [], [seed]
        seen.add(seed)
        while todo:
            gpu = todo.pop()
            island.append(gpu)
            for other in ids:
                if other not in seen and frozenset((gpu, other)) in nvlinks:
                    seen.add(other)
                    todo.append(other)
        islands.append(sorted(island))
    return islands


def _best_fit(ids: list[int], count: int) -> tuple[int, ...]:
    runs = _runs(ids)
    fitting = [run for run in runs if len(run) >= count]
    if fitting:
        best = min(fitting, key=lambda run: (len(run), run[0]))
        return tuple(best[:count])
    chosen: list[int] = []
    for run in sorted(runs, key=lambda run: (-len(run), run[0])):
        chosen.extend(run[: count - len(chosen)])
        if len(chosen) == count:
            break
    return tuple(sorted(chosen))


def choose_port(
    *, preferred: int | None, port_range: tuple[int, int], busy: frozenset[int],
    reserved: frozenset[int],
) -> int | None:
    """The member's own port if free; else the lowest free port nobody owns; else the
    lowest free port another member owns, lent for this booking only.

    `busy` are the ports held at any instant of the window, so whatever is chosen
    is free for the whole window. `reserved` are other members' own ports: lent
    only when no unowned port is free, so owners keep priority for later bookings
    (and a lent port never becomes the borrower's own: the service makes only an
    unowned port a member's own).
    """
    if preferred is not None and preferred not in busy:
        return preferred
    low, high = port_range
    lent = None
    for port in range(low, high + 1):
        if port in busy:
            continue
        if port not in reserved:
            return port
        if lent is None:
            lent = port
    return lent
