"""The waitlist: a member refused for lack of room asks to be told when the same request
fits (core/domain/waitlist_match.py says when a start is one for it).

When a cancel or an early end frees a window (booking.py calls `_waitlist_freed` in the
transaction that frees it, under the server's lock), only the entries whose reach
overlaps it are tried, first come first: an entry that asked for it (`auto`) is booked in
that same transaction and its member told; the others get a direct message (the outbox)
with a *Book it* button carrying the whole request, which books through the usual path,
so the first to press gets it and a later press is answered with the state then. An
entry is told about a start once; it stays until its member holds that booking, clears
it, or its window ends. Anything else that frees room (a maintenance window removed, a
booking that failed to start: the lifecycle's `freed` port) calls `recheck_waitlist`
with what it freed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Protocol

from core.domain import waitlist_match as rules
from core.domain.extra_command import check_extra_command
from core.domain.model import Account, Booking, Refusal, Resources, Window
from core.domain.waitlist_match import WaitlistEntry, touched_by
from core.services.capacity import BookingRequest
from core.services.new_bookings import NewBookingService
from core.services.notifier import Message
from core.services.outbox import enqueue
from core.services.ports import OutboxRepository, UnitOfWork


class WaitlistRepository(Protocol):
    def add(self, entry: WaitlistEntry, now: datetime) -> int: ...

    def of_account(self, account: str) -> list[WaitlistEntry]: ...

    def starting_before(self, before: datetime, *, ending_after: datetime) -> list[WaitlistEntry]:
        """Entries whose window starts before `before` and ends after `ending_after`."""

    def mark_offered(self, entry_id: int, start: datetime) -> None: ...

    def remove(self, entry_ids: list[int]) -> None: ...

    def remove_ended(self, now: datetime) -> int: ...


class WaitlistWords(Protocol):
    """What the member is told (core/chat/waitlist_words.py; bot/ injects it)."""

    def offer(self, entry: WaitlistEntry, start: datetime, zone: tzinfo,
              server: str | None = None) -> Message:
        """`server`: the pool's server the room is on (None for one server alone)."""

    def booked_for_you(self, booking: Booking, zone: tzinfo, max_days: int) -> Message: ...

    def dropped(self, entry: WaitlistEntry, why: str, zone: tzinfo) -> Message: ...


class WaitlistService(NewBookingService):
    # Set by the composition root (bot/bootstrap.py); without it nobody is told.
    waitlist_words: WaitlistWords | None = None

    def join_waitlist(
        self, user: str, resources: Resources, start: str, end: str, *, auto: bool = False,
        image: str | None = None, command: str | None = None,
    ) -> tuple[WaitlistEntry, datetime | None]:
        """Wait for a request: the entry, and the start it fits from right now (then it is
        not stored: the member can book it at once)."""
        window = self.parse_window(self.account(user), start, end)
        now = self.now()
        with self._uow() as uow:
            account = self._existing(uow, user)
            self.check_resources(account, resources)
            self._image(account, image)
            check_extra_command(command)
            waitlist = self._waitlist(uow)
            entry = WaitlistEntry(user, resources, window, auto, image, command)
            held = entry.fulfilled_by(uow.bookings.of_account(user, after=now))
            if held is not None:  # it would be dropped as done at once
                raise rules.already_held(held.id)
            mine = self._current_entries(uow, waitlist, user, now)
            same = next((e for e in mine if e.same_request(entry)), None)
            if same is None and len(mine) >= rules.MAX_ENTRIES:
                raise rules.too_many(rules.MAX_ENTRIES)
            fits = self._fit_for(uow, account, entry, now)
            if fits is None and same is not None and same.auto == auto:
                entry = same  # asked twice (a button pressed again): keeps its place
            elif fits is None:
                if same is not None and same.id is not None:  # now with(out) auto: asked anew
                    waitlist.remove([same.id])
                entry = replace(entry, id=waitlist.add(entry, now))
            uow.commit()  # also what _current_entries dropped
        return entry, fits

    def waitlist(self, user: str) -> list[WaitlistEntry]:
        """The member's waiting requests (those done or over are dropped first)."""
        with self._uow() as uow:
            self._existing(uow, user)
            entries = self._current_entries(uow, self._waitlist(uow), user, self.now())
            uow.commit()
        return entries

    def clear_waitlist(self, user: str) -> int:
        with self._uow() as uow:
            self._existing(uow, user)
            waitlist = self._waitlist(uow)
            ids = [e.id for e in waitlist.of_account(user) if e.id is not None]
            waitlist.remove(ids)
            uow.commit()
        return len(ids)

    def recheck_waitlist(self, freed: Window) -> list[int]:
        """Room was freed in `freed` (maintenance moved or removed): try the entries it could
        help. Returns the bookings made for members who asked for that."""
        with self._uow() as uow:
            uow.bookings.lock_server()
            booked = self._waitlist_freed(uow, freed)
            uow.commit()
        for booking_id in booked:
            self._on_change(booking_id)
        return booked

    # ----- inside the transaction that freed room --------------------------------

    def _waitlist_freed(self, uow: UnitOfWork, freed: Window) -> list[int]:
        """Called under the server's lock, in the transaction that freed `freed`."""
        waitlist: WaitlistRepository | None = getattr(uow, "waitlist", None)
        if waitlist is None or freed.end <= freed.start:
            return []
        now = self.now()
        waitlist.remove_ended(now)
        done: list[int] = []
        booked: list[int] = []
        for entry in touched_by(waitlist.starting_before(freed.end, ending_after=now), freed):
            assert entry.id is not None
            account = uow.accounts.get(entry.account)
            if account is None or self._finished(uow, entry, now):
                done.append(entry.id)
                continue
            start = self._fit_for(uow, account, entry, now)
            if start is None or (start == entry.offered and not entry.auto):
                continue
            tell = self._telling(uow, entry.account)
            if not entry.auto:
                if tell is not None:
                    tell.send(tell.words.offer(entry, start, tell.zone, server=self._pool_name))
                waitlist.mark_offered(entry.id, start)
                continue
            done.append(entry.id)
            try:
                booking = self._book_waiting(uow, account, entry, start)
            except Refusal as refusal:  # the member's limits, image or command changed since
                if tell is not None:
                    tell.send(tell.words.dropped(entry, refusal.message, tell.zone))
                continue
            assert booking.id is not None
            booked.append(booking.id)
            if tell is not None:
                tell.send(tell.words.booked_for_you(booking, tell.zone, self.config.booking.max_days))
        waitlist.remove(done)
        return booked

    def _book_waiting(
        self, uow: UnitOfWork, account: Account, entry: WaitlistEntry, start: datetime
    ) -> Booking:
        self.check_resources(account, entry.resources)
        image = self._image(account, entry.image)
        check_extra_command(entry.command)
        request = BookingRequest(user=account.name, resources=entry.resources, start="", end="",
                                 image=entry.image, command=entry.command)
        reserved = uow.accounts.reserved_ports(except_name=account.name)
        booking = self._decide(uow, account, request, Window(start, start + entry.length), image,
                               lambda: reserved)
        booking = uow.bookings.add(booking)
        assert booking.id is not None
        uow.bookings.record(booking.id, "created", account.name, waitlist=entry.id)
        if account.preferred_port is None and booking.port not in reserved:
            account.preferred_port = booking.port  # the first port a member gets is their own
            uow.accounts.save(account)
        return booking

    # ----- helpers -----------------------------------------------------------------

    @property
    def _pool_name(self) -> str | None:
        """This server's name in a pool (what an offer books on); None for one server."""
        return self.config.server.name if self.config.is_pool else None

    @staticmethod
    def _waitlist(uow: UnitOfWork) -> WaitlistRepository:
        waitlist: WaitlistRepository | None = getattr(uow, "waitlist", None)
        if waitlist is None:
            raise rules.no_waitlist()
        return waitlist

    def _finished(self, uow: UnitOfWork, entry: WaitlistEntry, now: datetime) -> bool:
        """Over (its window ended) or done (the member holds that booking now)."""
        return entry.expired(now, self._slot) or entry.fulfilled_by(
            uow.bookings.of_account(entry.account, after=now)) is not None

    def _current_entries(
        self, uow: UnitOfWork, waitlist: WaitlistRepository, user: str, now: datetime
    ) -> list[WaitlistEntry]:
        """The member's entries, once those over or done are dropped."""
        entries = waitlist.of_account(user)
        finished = [e for e in entries if self._finished(uow, e, now)]
        waitlist.remove([e.id for e in finished if e.id is not None])
        return [e for e in entries if e not in finished]

    def _fit_for(
        self, uow: UnitOfWork, account: Account, entry: WaitlistEntry, now: datetime
    ) -> datetime | None:
        """The earliest start this entry accepts that fits now, or None."""
        first = entry.first_start(now, self._slot)
        if not entry.accepts(first):
            return None
        request = BookingRequest(user=account.name, resources=entry.resources, start="", end="",
                                 image=entry.image, command=entry.command)
        found = self._earliest(uow, account, request, Window(first, first + entry.length))
        return found if found is not None and entry.accepts(found) else None

    def _telling(self, uow: UnitOfWork, name: str) -> _Telling | None:
        """How to tell a member something in this transaction (the outbox); None when this
        unit of work has no outbox or no words were given."""
        outbox: OutboxRepository | None = getattr(uow, "outbox", None)
        words = self.waitlist_words
        if outbox is None or words is None:
            return None
        now = self.now()

        def send(message: Message) -> None:
            enqueue(outbox, name, message, now)

        return _Telling(words, self.zone_of(uow.accounts.get(name)), send)


@dataclass(frozen=True)
class _Telling:
    words: WaitlistWords
    zone: tzinfo
    send: Callable[[Message], None]
