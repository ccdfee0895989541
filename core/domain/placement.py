"""Placement: which GPUs and which port a booking that fits gets.

Pure; core.domain.allocation decides whether a request fits at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


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
