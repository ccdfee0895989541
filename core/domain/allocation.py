"""Pure capacity arithmetic: does a request fit, which GPUs and port it gets.

Nothing here touches a database; the service hands in the bookings that
overlap the window and gets back a decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter

from core.domain.model import Booking, Resources, Window


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


# A booking that holds resources, as a decision reads it: plain values, no objects.
# (id, account id, start, end, cpus, memory, GPU ids as text "0,1", port); times are
# whole microseconds since the Unix epoch (UTC), so the sweeps below compare ints.
Span = tuple[int, int, int, int, float, int, str, int]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_GRID_EPOCH = 946684800 * 1_000_000  # 2000-01-01 UTC, where core.domain.timeparse's slots start


def micros(moment: datetime) -> int:
    """An aware time as whole microseconds since the Unix epoch."""
    return (moment - _EPOCH) // _MICRO


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def slot_ceil_micros(value: int, slot: int) -> int:
    """core.domain.time_tokens.slot_ceil on microseconds (`slot` in microseconds)."""
    return _GRID_EPOCH - ((_GRID_EPOCH - value) // slot) * slot


def gpu_set(texts: Iterable[str]) -> frozenset[int]:
    joined = ",".join(text for text in texts if text)
    return frozenset(map(int, joined.split(","))) if joined else frozenset()


@dataclass(frozen=True)
class Load:
    """What a window holds: its usage, and the member's own booking in it (its id), if any."""

    usage: Usage
    own: int | None


def load_in(start: int, end: int, spans: Iterable[Span], account_id: int | None) -> Load:
    """`usage_in` on spans: the peak over [start, end) by one sweep over the edges."""
    edges: list[tuple[int, int, float, int]] = []
    gpus: list[str] = []
    ports: set[int] = set()
    own = None
    for row_id, owner, begin, finish, cpus, memory, gpu_ids, port in spans:
        if finish <= start or begin >= end:
            continue
        edges.append((begin if begin > start else start, 1, cpus, memory))
        edges.append((finish if finish < end else end, 0, -cpus, -memory))
        if gpu_ids:
            gpus.append(gpu_ids)
        ports.add(port)
        if owner == account_id and own is None:
            own = row_id
    # Plain tuple order: by instant, ends (0) before starts (1); within one instant and
    # kind the order cannot change the peak (all ends lower use, all starts raise it).
    edges.sort()
    cpus_now = peak_cpus = 0.0
    memory_now = peak_memory = 0
    for _, _, d_cpus, d_memory in edges:
        cpus_now += d_cpus
        memory_now += d_memory
        if cpus_now > peak_cpus:
            peak_cpus = cpus_now
        if memory_now > peak_memory:
            peak_memory = memory_now
    usage = Usage(round(peak_cpus, 6), peak_memory, gpu_set(gpus), frozenset(ports))
    return Load(usage, own)


@dataclass(frozen=True)
class Fit:
    """What a request needs of a window, for `earliest_fit`."""

    resources: Resources
    host: Resources
    account_id: int | None
    port: int | None  # the port asked for, if any
    preferred: int | None  # the member's own port
    port_range: tuple[int, int]


def _blocked_intervals(spans: Sequence[Span], fit: Fit) -> list[tuple[int, int]]:
    """Where, instant by instant, the request cannot be: CPUs or memory short, or the
    member already holds a booking (or the asked port is held). Sorted, disjoint."""
    max_cpus = fit.host.cpus - fit.resources.cpus + 1e-9
    max_memory = fit.host.memory - fit.resources.memory
    if max_cpus < 0 or max_memory < 0:  # more than the host has: blocked everywhere
        return [(-(2**62), 2**62)]
    # The change at each instant, summed first: a slot grid has far fewer instants than edges.
    changes: dict[int, list[float]] = {}
    account_id, asked_port = fit.account_id, fit.port
    for _, owner, begin, finish, cpus, memory, _, port in spans:
        blocks = (owner == account_id) + (port == asked_port)
        change = changes.get(begin)
        if change is None:
            changes[begin] = [cpus, memory, blocks]
        else:
            change[0] += cpus
            change[1] += memory
            change[2] += blocks
        change = changes.get(finish)
        if change is None:
            changes[finish] = [-cpus, -memory, -blocks]
        else:
            change[0] -= cpus
            change[1] -= memory
            change[2] -= blocks
    blocked: list[tuple[int, int]] = []
    cpus_now, memory_now, blocks_now = 0.0, 0.0, 0.0
    since: int | None = None
    for moment in sorted(changes):
        d_cpus, d_memory, d_blocks = changes[moment]
        cpus_now += d_cpus
        memory_now += d_memory
        blocks_now += d_blocks
        bad = blocks_now > 0 or round(cpus_now, 6) > max_cpus or memory_now > max_memory
        if bad and since is None:
            since = moment
        elif not bad and since is not None:
            blocked.append((since, moment))
            since = None
    return blocked


def earliest_fit(spans: Sequence[Span], fit: Fit, duration: int, candidates: Sequence[int]) -> int | None:
    """The first of the sorted `candidates` starts whose window [start, start + duration)
    fits `fit`: one forward sweep over the spans that overlap the candidates' windows.

    CPUs, memory, the member's own bookings and an asked port are limits at each
    instant, so they become blocked intervals; GPUs and the choice of a port count what
    is held at any instant of the window, so held GPU ids and ports are counted as the
    window slides (spans enter by start and leave by end).
    """
    blocked = _blocked_intervals(spans, fit)
    spans = sorted(spans, key=itemgetter(2))
    by_end = sorted(spans, key=itemgetter(3))
    gpu_count: dict[int, int] = {}
    port_count: dict[int, int] = {}
    low, high = fit.port_range
    ports_in_range = high - low + 1
    busy_in_range = 0
    entered = left = 0
    b = 0
    # Loop invariants held in locals: this loop runs once per candidate.
    blocked_count, span_count = len(blocked), len(spans)
    gpus_wanted, host_gpus = fit.resources.gpus, fit.host.gpus
    asked_port, preferred = fit.port, fit.preferred
    for start in candidates:
        end = start + duration
        while b < blocked_count and blocked[b][1] <= start:
            b += 1
        while entered < span_count and spans[entered][2] < end:
            span = spans[entered]
            gpu_ids, port = span[6], span[7]
            if gpu_ids:
                for gpu in map(int, gpu_ids.split(",")):
                    gpu_count[gpu] = gpu_count.get(gpu, 0) + 1
            held = port_count.get(port, 0)
            if held == 0 and low <= port <= high:
                busy_in_range += 1
            port_count[port] = held + 1
            entered += 1
        while left < span_count and by_end[left][3] <= start:
            span = by_end[left]
            gpu_ids, port = span[6], span[7]
            if gpu_ids:
                for gpu in map(int, gpu_ids.split(",")):
                    gpu_count[gpu] -= 1
                    if gpu_count[gpu] == 0:
                        del gpu_count[gpu]
            port_count[port] -= 1
            if port_count[port] == 0:
                del port_count[port]
                if low <= port <= high:
                    busy_in_range -= 1
            left += 1
        if b < blocked_count and blocked[b][0] < end:
            continue
        if gpus_wanted > host_gpus - len(gpu_count):
            continue
        if asked_port is None and not (
            (preferred is not None and preferred not in port_count)
            or busy_in_range < ports_in_range
        ):
            continue
        return start
    return None


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
