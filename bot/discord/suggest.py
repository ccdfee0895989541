"""Autocomplete suggestions for `/schedule` options, as (name, value) pairs.

Synchronous: called in a worker thread. Discord shows at most 25 choices, and
a member may still submit text that is not among them.
"""

from __future__ import annotations

from bot.discord.render import CHOICE_LIMIT, clip
from core.chat.messages import describe_resources
from core.domain.model import Account, Resources
from core.services.booking import BookingService

MAX_CHOICES = 25
DURATIONS = ("1-day", "3-day", "1-week")
FREE_STARTS = 8  # how many upcoming free starts to offer
LOOKAHEAD = "3-day"

Choice = tuple[str, str]


def _matching(current: str, choices: list[Choice]) -> list[Choice]:
    """The typed text first (as typed), then the choices that contain it."""
    typed = current.strip()
    found = [c for c in choices if typed.lower() in c[0].lower() or typed.lower() in c[1].lower()]
    if typed and all(typed != value for _, value in found):
        found.insert(0, (clip(typed, CHOICE_LIMIT), clip(typed, CHOICE_LIMIT)))
    return [(clip(n, CHOICE_LIMIT), v) for n, v in found[:MAX_CHOICES] if len(v) <= CHOICE_LIMIT]


def starts(
    service: BookingService, account: Account | None, current: str, wanted: Resources
) -> list[Choice]:
    """`now`, then the next starts where `wanted` fits (after a time it did not)."""
    zone = service.zone_of(account)
    choices: list[Choice] = [("now", "now")]
    fitted_before = False
    for index, slot in enumerate(service.free_slots("now", LOOKAHEAD)):
        fits = (
            slot.cpus >= wanted.cpus
            and slot.memory >= wanted.memory
            and len(slot.gpu_ids) >= wanted.gpus
        )
        if fits and not fitted_before and index > 0:  # the first slot is `now`
            local = slot.start.astimezone(zone)
            free = describe_resources(Resources(slot.cpus, slot.memory, len(slot.gpu_ids)))
            choices.append((f"{local:%a %d %b %H:%M} {local.tzname()} ({free} free)",
                            f"{local:%Y %m %d %H %M}"))
        fitted_before = fits
        if len(choices) > FREE_STARTS:
            break
    return _matching(current, choices)


def typed(current: str, *known: str) -> list[Choice]:
    """Choices that need no database: `known` values, and what was typed."""
    return _matching(current, [(k, k) for k in known])


def ends(current: str) -> list[Choice]:
    return _matching(current, [(d, d) for d in DURATIONS])


def images(service: BookingService, current: str) -> list[Choice]:
    return _matching(current, [(i, i) for i in service.config.images.allowed])


def own_bookings(service: BookingService, account: Account | None, current: str) -> list[Choice]:
    """The member's upcoming and running bookings, value = booking id."""
    if account is None:
        return []
    zone = service.zone_of(account)
    choices = []
    for booking in service.bookings(account.name):
        start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
        choices.append((
            f"#{booking.id} {start:%a %d %b %H:%M} → {end:%a %d %b %H:%M} "
            f"{describe_resources(booking.resources)} [{booking.status.value}]",
            str(booking.id),
        ))
    typed = current.strip().lstrip("#")
    return [c for c in choices if typed in c[0]][:MAX_CHOICES]
