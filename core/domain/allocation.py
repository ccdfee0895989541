"""Pure capacity arithmetic: does a request fit, which GPUs and port it gets.

Nothing here touches a database; the service hands in the bookings that
overlap the window and gets back a decision.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter

from core.domain.model import Booking, Resources, Window

# Placement (which GPUs and port) lives in core.domain.placement; importable from here too.
from core.domain.placement import choose_gpus as choose_gpus
from core.domain.placement import choose_port as choose_port


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


def _levels(cpus_at: dict[int, float], memory_at: dict[int, int]) -> Iterator[tuple[int, float, int]]:
    """(instant, CPUs, memory) in use from each instant where use changes, in time order:
    the changes at one instant are summed first (all ends and starts there), so with
    half-open windows each level is exactly the use from that instant on."""
    cpus = 0.0
    memory = 0
    for moment in sorted(cpus_at):
        cpus += cpus_at[moment]
        memory += memory_at[moment]
        yield moment, cpus, memory


def load_in(start: int, end: int, spans: Iterable[Span], account_id: int | None) -> Load:
    """`usage_in` on spans: the peak over [start, end) by one sweep over the instants where
    use changes (a slot grid has far fewer of them than spans have edges)."""
    cpus_at: dict[int, float] = {}
    memory_at: dict[int, int] = {}
    gpus: list[str] = []
    ports: set[int] = set()
    own = None
    for row_id, owner, begin, finish, cpus, memory, gpu_ids, port in spans:
        if finish <= start or begin >= end:
            continue
        if begin < start:
            begin = start
        if finish > end:
            finish = end
        cpus_at[begin] = cpus_at.get(begin, 0.0) + cpus
        cpus_at[finish] = cpus_at.get(finish, 0.0) - cpus
        memory_at[begin] = memory_at.get(begin, 0) + memory
        memory_at[finish] = memory_at.get(finish, 0) - memory
        if gpu_ids:
            gpus.append(gpu_ids)
        ports.add(port)
        if owner == account_id and own is None:
            own = row_id
    peak_cpus = 0.0
    peak_memory = 0
    for _, cpus_now, memory_now in _levels(cpus_at, memory_at):
        if cpus_now > peak_cpus:
            peak_cpus = cpus_now
        if memory_now > peak_memory:
            peak_memory = memory_now
    return Load(Usage(round(peak_cpus, 6), peak_memory, gpu_set(gpus), frozenset(ports)), own)


@dataclass(frozen=True)
class Fit:
    """What a request needs of a window, for `earliest_fit`."""

    resources: Resources
    host: Resources
    account_id: int | None
    port: int | None  # the port asked for, if any
    preferred: int | None  # the member's own port
    port_range: tuple[int, int]


_ALWAYS = (-(2**62), 2**62)


def _blocked_intervals(spans: Sequence[Span], fit: Fit) -> list[tuple[int, int]]:
    """Where, instant by instant, the request cannot be: CPUs or memory short, or the
    member already holds a booking (or the asked port is held). Sorted, disjoint."""
    max_cpus = fit.host.cpus - fit.resources.cpus + 1e-9
    max_memory = fit.host.memory - fit.resources.memory
    if max_cpus < 0 or max_memory < 0:  # more than the host has: blocked everywhere
        return [_ALWAYS]
    cpus_at: dict[int, float] = {}
    memory_at: dict[int, int] = {}
    # Nothing to sweep when even all spans at once leave room for the request.
    if round(sum(map(itemgetter(4), spans)), 6) > max_cpus or sum(map(itemgetter(5), spans)) > max_memory:
        for _, _, begin, finish, cpus, memory, _, _ in spans:
            cpus_at[begin] = cpus_at.get(begin, 0.0) + cpus
            cpus_at[finish] = cpus_at.get(finish, 0.0) - cpus
            memory_at[begin] = memory_at.get(begin, 0) + memory
            memory_at[finish] = memory_at.get(finish, 0) - memory
    account_id, asked_port = fit.account_id, fit.port
    blocked = [(span[2], span[3]) for span in spans if span[1] == account_id or span[7] == asked_port]
    since: int | None = None
    for moment, cpus_now, memory_now in _levels(cpus_at, memory_at):
        short = round(cpus_now, 6) > max_cpus or memory_now > max_memory
        if short and since is None:
            since = moment
        elif not short and since is not None:
            blocked.append((since, moment))
            since = None
    blocked.sort()
    merged: list[tuple[int, int]] = []
    for begin, finish in blocked:
        if merged and begin <= merged[-1][1]:
            if finish > merged[-1][1]:
                merged[-1] = (merged[-1][0], finish)
        else:
            merged.append((begin, finish))
    return merged


def earliest_fit(spans: Sequence[Span], fit: Fit, duration: int, candidates: Sequence[int]) -> int | None:
    """The first of the sorted `candidates` starts whose window [start, start + duration)
    fits `fit`: one forward sweep over the spans that overlap the candidates' windows.

    CPUs, memory, the member's own bookings and an asked port are limits at each
    instant, so they become blocked intervals, and a blocked candidate skips to the first
    candidate after its interval. GPUs and the choice of a port count what is held at any
    instant of the window, so held GPU ids and ports are counted as the window slides
    (spans enter by start and leave by end); each only when it could run out, that is
    unless the request would fit even with every GPU (port) that any span holds.
    """
    blocked = _blocked_intervals(spans, fit)
    low, high = fit.port_range
    gpus_wanted, host_gpus = fit.resources.gpus, fit.host.gpus
    asked_port, preferred = fit.port, fit.preferred
    ports = set(map(itemgetter(7), spans))
    count_gpus = gpus_wanted > host_gpus - len(gpu_set(map(itemgetter(6), spans)))
    count_ports = asked_port is None and (preferred is None or preferred in ports) and (
        len(ports) > high - low and sum(low <= port <= high for port in ports) > high - low)
    held = spans if count_gpus or count_ports else []
    entering, leaving = sorted(held, key=itemgetter(2)), sorted(held, key=itemgetter(3))
    gpu_count: dict[int, int] = {}
    port_count: dict[int, int] = {}
    busy_in_range = entered = left = b = i = 0
    blocked_count, held_count, candidate_count = len(blocked), len(held), len(candidates)
    while i < candidate_count:
        start = candidates[i]
        end = start + duration
        while b < blocked_count and blocked[b][1] <= start:
            b += 1
        if b < blocked_count and blocked[b][0] < end:  # on to the first start after it
            i = bisect_left(candidates, blocked[b][1], i + 1)
            continue
        i += 1
        while entered < held_count and entering[entered][2] < end:
            _, _, _, _, _, _, gpus, port = entering[entered]
            for gpu in map(int, gpus.split(",")) if gpus and count_gpus else ():
                gpu_count[gpu] = gpu_count.get(gpu, 0) + 1
            if port not in port_count:
                port_count[port] = 0
                busy_in_range += low <= port <= high
            port_count[port] += 1
            entered += 1
        while left < held_count and leaving[left][3] <= start:
            _, _, _, _, _, _, gpus, port = leaving[left]
            for gpu in map(int, gpus.split(",")) if gpus and count_gpus else ():
                gpu_count[gpu] -= 1
                if gpu_count[gpu] == 0:
                    del gpu_count[gpu]
            port_count[port] -= 1
            if port_count[port] == 0:
                del port_count[port]
                busy_in_range -= low <= port <= high
            left += 1
        if count_gpus and gpus_wanted > host_gpus - len(gpu_count):
            continue
        if count_ports and not (
            (preferred is not None and preferred not in port_count) or busy_in_range <= high - low
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


