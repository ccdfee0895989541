"""Refusals that only a pool of servers (config `servers:`) gives."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from core.domain.model import ErrorCode, Refusal


def unknown_server(name: str, names: Sequence[str]) -> Refusal:
    shown = name if len(name) <= 40 else f"{name[:40]}..."  # a member's text, echoed short
    return Refusal(ErrorCode.BAD_INPUT,
                   f"There is no server `{shown}`; the servers are {', '.join(names)}.")


def no_server_fits(per_server: Sequence[tuple[str, Refusal]], zone: tzinfo) -> Refusal:
    """A request that named no server and fits on none: what each server is short of, and
    the earliest start that fits on any of them (and on which)."""
    reason = "No server has room for that. " + " ".join(
        f"{name}: {refusal.reason}" for name, refusal in per_server)
    offers = sorted((r.earliest_start, name) for name, r in per_server if r.earliest_start)
    if not offers:
        offer = " Nothing of that size fits within the booking horizon; try fewer resources."
        return Refusal(ErrorCode.NO_CAPACITY, reason + offer, reason=reason)
    earliest, server = offers[0]
    local = earliest.astimezone(zone)
    offer = (f" The earliest start that fits is {local:%Y %m %d %H %M} ({local.tzname()}) "
             f"on {server}.")
    return Refusal(ErrorCode.NO_CAPACITY, reason + offer, earliest_start=earliest,
                   reason=reason, server=server)
