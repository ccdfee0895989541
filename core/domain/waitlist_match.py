"""The waitlist's rules: what a waiting request is, when a start is one for it, when it is
done (booked) or over (expired). Pure; core/services/waitlist.py applies them.

A member refused for lack of room asks to be told when the same request fits: the same
resources, image and command, the same length, from the asked start or a later one that
is still within the asked window (a start before the asked end). Once the window has
ended no start is left, so the entry is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.model import Booking, ErrorCode, Refusal, Resources, Window
from core.domain.time_tokens import slot_ceil, slot_floor

MAX_ENTRIES = 5  # per member: a waitlist, not a second booking queue


@dataclass(frozen=True)
class WaitlistEntry:
    account: str
    resources: Resources
    window: Window  # as asked: its length is kept, its start may move up to its end
    auto: bool = False  # book it for the member instead of asking
    image: str | None = None
    command: str | None = None
    id: int | None = None
    offered: datetime | None = None  # the start last told about (not told twice)
    created: datetime | None = None

    @property
    def length(self) -> timedelta:
        return self.window.duration

    def first_start(self, now: datetime, slot_minutes: int) -> datetime:
        """The earliest start to try: the asked one, or the current slot once it passed."""
        return slot_ceil(max(self.window.start, slot_floor(now, slot_minutes)), slot_minutes)

    def accepts(self, start: datetime) -> bool:
        """Whether a booking of the same length from `start` is one this entry waits for."""
        return self.window.start <= start < self.window.end

    def expired(self, now: datetime, slot_minutes: int) -> bool:
        """No start within the window is left."""
        return self.first_start(now, slot_minutes) >= self.window.end

    def reach(self) -> Window:
        """Every instant a booking for this entry could hold."""
        return Window(self.window.start, self.window.end + self.length)

    def same_request(self, other: WaitlistEntry) -> bool:
        return (self.account, self.resources, self.window, self.image, self.command) == (
            other.account, other.resources, other.window, other.image, other.command)

    def fulfilled_by(self, bookings: Iterable[Booking]) -> Booking | None:
        """The member's booking that is this request (same resources and length, a start
        this entry accepts), if they hold one: then the entry is done."""
        return next((b for b in bookings if b.account == self.account and b.holds_resources
                     and b.resources == self.resources and b.end - b.start == self.length
                     and self.accepts(b.start)), None)


def touched_by(entries: Iterable[WaitlistEntry], freed: Window) -> list[WaitlistEntry]:
    """The entries a freed window could help, first come first."""
    return sorted((e for e in entries if e.reach().overlaps(freed)), key=lambda e: e.id or 0)


def too_many(limit: int) -> Refusal:
    return Refusal(ErrorCode.BAD_INPUT,
                   f"You wait for {limit} requests already; `waitlist` shows them and "
                   "`waitlist clear` drops them.")


def no_waitlist() -> Refusal:
    return Refusal(ErrorCode.BAD_INPUT, "This service keeps no waitlist; try booking again later.")


def nothing_refused() -> Refusal:
    return Refusal(ErrorCode.BAD_INPUT,
                   "There is nothing to wait for: say `notify me` right after a request was "
                   "refused for lack of room (`notify me auto` books it for you when it fits).")


def already_held(booking_id: int | None) -> Refusal:
    return Refusal(ErrorCode.OVERLAP,
                   f"You hold that already: booking #{booking_id}; nothing was added to the "
                   "waitlist.")
