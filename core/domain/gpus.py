"""The host's GPUs as the allocation sees them: how many, and which pairs share an NVLink."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GpuInventory:
    count: int
    # Pairs of GPU ids joined by NVLink: multi-GPU bookings prefer GPUs joined this way.
    nvlinks: frozenset[frozenset[int]] = field(default_factory=frozenset)


def links_text(nvlinks: frozenset[frozenset[int]]) -> str:
    """`0-1,2-3`: how a host writes its NVLink pairs into its heartbeat."""
    return ",".join(f"{a}-{b}" for a, b in sorted(tuple(sorted(pair)) for pair in nvlinks))


def links_from_text(text: str | None, count: int) -> frozenset[frozenset[int]]:
    """The pairs `links_text` wrote, of GPUs below `count`; anything else is left out."""
    pairs = set()
    for part in (text or "")[:2000].split(","):
        first, dash, second = part.partition("-")
        if dash and first.isdecimal() and second.isdecimal() and len(first + second) < 6:
            a, b = int(first), int(second)
            if a != b and a < count and b < count:
                pairs.add(frozenset((a, b)))
    return frozenset(pairs)
