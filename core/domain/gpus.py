"""The host's GPUs as the allocation sees them: how many, and which pairs share an NVLink."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GpuInventory:
    count: int
    # Pairs of GPU ids joined by NVLink: multi-GPU bookings prefer GPUs joined this way.
    nvlinks: frozenset[frozenset[int]] = field(default_factory=frozenset)
