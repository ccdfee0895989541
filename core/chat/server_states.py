"""Whether each server of a pool is up, as the capacity views and the board show it: the
words of core.chat.pool_words.server_line (admin_views turns their time into a time span,
which Slack and Discord show in each reader's zone). One server: none.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from core.chat.pool_words import server_line
from core.domain.server_health import ServerHealth
from core.services.booking import BookingService


def pool_health(service: BookingService) -> dict[str, ServerHealth]:
    """Each server of a pool by name, in the pool's order (one whose `serve` never beat:
    seen_at None); {} for one server, or a store that keeps no heartbeats."""
    if not service.config.is_pool:
        return {}
    names = service.config.server_names
    found = {health.name: health for health in service.health()}
    if not found:
        return {}
    return {name: found.get(name, ServerHealth(name, None)) for name in names}


def state_words(health: ServerHealth, now: datetime, zone: tzinfo) -> str:
    """`up`, or `down, not heard from since 2026-12-02 14:30 CET` (or `... yet`)."""
    return server_line(health, now, zone).removeprefix(f"{health.name}: ")


def health_record(health: ServerHealth, now: datetime) -> dict[str, object]:
    """For `--json`: whether the server is up and when it was last heard from (UTC)."""
    return {"up": not health.is_down(now),
            "seen_at": health.seen_at.isoformat() if health.seen_at else None}
