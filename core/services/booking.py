"""The booking service: every use case the chat adapters and the CLI call.

Each method opens one unit of work. A change to a booking is decided and recorded
in one transaction that first takes the server's lock, so no interleaving of
requests can overbook, or act twice on one press.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, tzinfo

from core.domain import pool_refusals, refusals
from core.domain import restart_requests as restarts
from core.domain.allocation import shortages, usage_in
from core.domain.maintenance import MaintenanceWindow
from core.domain.model import (
    Account,
    Booking,
    Refusal,
    Status,
    Window,
)
from core.domain.server_health import ServerHealth
from core.domain.time_tokens import TimeInputError, parse_duration
from core.domain.timeparse import parse_end
from core.services.decisions import observed
from core.services.maintenance import MaintenanceService
from core.services.notifier import Message, MessageKind
from core.services.outbox import enqueue
from core.services.ports import OutboxRepository, UnitOfWork
from core.services.waitlist import WaitlistService


class BookingService(MaintenanceService, WaitlistService):
    """Every use case the chat adapters and the CLI call, in a chain of parts:
    accounts (accounts.py, account_settings.py), capacity (capacity.py), offers
    (offers.py), booking and reading bookings (new_bookings.py), maintenance windows
    (maintenance.py), the waitlist (waitlist.py) and, here, changes
    to a booking: cancel, extend, restart.
    """

    def servers(self) -> dict[str, BookingService]:
        """The service of each server, by name: this one alone (core/services/pool.py
        has a pool's)."""
        return {self.config.server.name: self}

    def health(self) -> list[ServerHealth]:
        """The pool's servers' heartbeats; none for one server alone (nothing to watch)."""
        return []

    def on(self, server: str | None) -> BookingService:
        """The service of `server` (None: this one's); another name is refused."""
        if server is None or server == self.config.server.name:
            return self
        raise pool_refusals.unknown_server(server, [self.config.server.name])

    def _owner_zone(self, uow: UnitOfWork, booking: Booking) -> tzinfo:
        return self.zone_of(self._existing(uow, booking.account))

    def cancel(self, booking_id: int, *, actor: str | None, reason: str | None = None) -> Booking:
        """Cancel before the start; end a running booking now."""
        with self._uow() as uow:
            uow.bookings.lock_server()
            booking = self._owned(uow, booking_id, actor)
            now = self.now()
            if not self._current(booking, now):
                raise refusals.too_late_to_cancel(booking, self._owner_zone(uow, booking))
            booked_end = booking.end.isoformat()  # for usage reports (core/domain/usage.py)
            freed = Window(max(now, booking.start), booking.end)
            if booking.status == Status.BOOKED:
                booking = replace(booking, status=Status.CANCELLED)
                kind = "cancelled"
            else:
                booking = replace(booking, end=max(now, booking.start))
                kind = "ended_early"
            uow.bookings.save(booking)
            uow.bookings.record(booking_id, kind, actor, booked_end=booked_end)
            self._tell_owner(uow, booking, actor, kind, reason)
            waited = self._waitlist_freed(uow, freed)  # those who asked to be told, or booked
            uow.commit()
        for changed in (booking_id, *waited):
            self._on_change(changed)
        return booking

    def remove_maintenance(self, window_id: int, *, actor: str | None) -> MaintenanceWindow:
        """As maintenance.py's; then those waiting for room the window held are told."""
        window = super().remove_maintenance(window_id, actor=actor)
        self.recheck_waitlist(Window(max(self.now(), window.start), window.end))
        return window

    @staticmethod
    def _current(booking: Booking, now: datetime) -> bool:
        """Only a booking that still holds its window can be changed."""
        return booking.holds_resources and booking.end > now

    def extend(
        self, booking_id: int, end_text: str, *, actor: str | None, reason: str | None = None
    ) -> Booking:
        """Move the end later. `2-day` extends by two days; a date sets the new end."""
        with observed(self._decision_observers, "extend"):
            return self._extend(booking_id, end_text, actor=actor, reason=reason)

    def _extend(
        self, booking_id: int, end_text: str, *, actor: str | None, reason: str | None
    ) -> Booking:
        # The text is read before the write transaction opens, so dateparser never runs
        # while the server's lock is held: a short read gives the booking's start and its
        # member's time zone. A problem with the text is reported after the other checks.
        with self._uow() as uow:
            booking = self._owned(uow, booking_id, actor)
            account = self._existing(uow, booking.account)
        try:
            asked: timedelta | datetime | Refusal = self._read_end(account, booking, end_text)
        except Refusal as problem:
            asked = problem
        with self._uow() as uow:
            uow.bookings.lock_server()
            booking = self._owned(uow, booking_id, actor)
            now = self.now()
            account = self._existing(uow, booking.account)
            if not self._current(booking, now):
                raise refusals.too_late_to_extend(booking, self.zone_of(account))
            self._check_still_allowed(account, booking)
            new_end = self._new_end(account, booking, asked)
            extra = Window(booking.end, new_end)
            others = [b for b in uow.bookings.holding_between(extra.start, extra.end)
                      if b.id != booking.id]
            self._check_extension(booking, extra, others)
            self._check_maintenance(uow, booking, extra, self.zone_of(account))
            old_end = booking.end
            booking = replace(booking, end=new_end)
            uow.bookings.save(booking)
            uow.bookings.record(
                booking_id, "extended", actor, old_end=old_end.isoformat(), new_end=new_end.isoformat()
            )
            self._tell_owner(uow, booking, actor, "extended", reason)
            uow.commit()
        self._on_change(booking_id)
        return booking

    def _read_end(self, account: Account, booking: Booking, text: str) -> timedelta | datetime:
        """What `extend` was asked: an amount to add to the end (`2-day`) or a new end."""
        try:
            by = parse_duration(text)
            return by if by is not None else parse_end(
                text, start=booking.start, zone=self.zone_of(account), now=self.now(),
                slot_minutes=self._slot,
            )
        except TimeInputError as exc:
            raise refusals.bad_time(exc) from None

    def _new_end(
        self, account: Account, booking: Booking, asked: timedelta | datetime | Refusal
    ) -> datetime:
        if isinstance(asked, Refusal):
            raise asked
        new_end = booking.end + asked if isinstance(asked, timedelta) else asked
        max_days = self.config.booking.max_days
        if new_end <= booking.end:
            raise refusals.new_end_not_later()
        if new_end - booking.start > timedelta(days=max_days):
            raise refusals.extended_too_long(
                max_days, booking.start + timedelta(days=max_days), self.zone_of(account))
        return new_end

    def _check_still_allowed(self, account: Account, booking: Booking) -> None:
        """A booking is extended only while it is within the member's maxima as they are now
        (an admin may have lowered them since it was booked)."""
        maximum, held = self.limits_of(account), booking.resources
        if held.cpus > maximum.cpus or held.memory > maximum.memory or held.gpus > maximum.gpus:
            raise refusals.over_maximum_now(booking.id, held, maximum)

    def _check_extension(self, booking: Booking, extra: Window, others: list[Booking]) -> None:
        own = [b for b in others if b.account == booking.account]
        if own:
            raise refusals.own_booking_in_the_way(own[0].id)
        usage = usage_in(extra, others)
        taken = sorted(set(booking.gpu_ids) & usage.busy_gpus)
        short = shortages(replace(booking.resources, gpus=0), self.host, usage)
        port = booking.port if booking.port in usage.busy_ports else None
        if short or taken or port is not None:
            raise refusals.longer_window_short(short, taken, port)

    def restart(
        self, booking_id: int, *, actor: str | None, reason: str | None = None,
        after: int | None = None,
    ) -> Booking:
        """Ask the scheduler to restart a running booking's container (the old `-rst`).

        Only recorded here: the scheduler, perhaps in another process, acts on
        it (see core/domain/restart_requests.py) and messages the member when done.
        `after`: how many restarts were asked when the button pressed was drawn; once
        more were asked (by another press, or this one pressed twice), it restarts
        nothing and is refused with how the latest restart went. It is checked under
        the server's lock, in the transaction that records the request, so two presses
        at once restart once.
        """
        with self._uow() as uow:
            uow.bookings.lock_server()
            booking = self._owned(uow, booking_id, actor)
            now = self.now()
            if booking.status != Status.RUNNING or booking.end <= now:
                raise refusals.not_running(booking, now, self._owner_zone(uow, booking))
            events = uow.bookings.events(booking_id)
            if after is not None and restarts.requests_made(events) > after:
                raise refusals.restart_overtaken(booking, events, self._owner_zone(uow, booking))
            if restarts.pending_request(events) is not None:
                raise refusals.restart_pending(booking_id)
            uow.bookings.record(booking_id, restarts.REQUESTED, actor or booking.account,
                                at=now.isoformat())
            self._tell_owner(uow, booking, actor, restarts.REQUESTED, reason)
            uow.commit()
        self._on_change(booking_id)
        return booking

    def _tell_owner(
        self, uow: UnitOfWork, booking: Booking, actor: str | None, change: str,
        reason: str | None,
    ) -> None:
        """When someone else (an admin) changed a booking, its owner is told, in the same
        transaction (the outbox; a unit of work without one tells nobody)."""
        outbox: OutboxRepository | None = getattr(uow, "outbox", None)
        if actor is None or actor == booking.account or outbox is None:
            return
        text = self._notices.changed_by_someone_else(
            change, booking, actor, self._owner_zone(uow, booking), reason)
        enqueue(outbox, booking.account, Message(MessageKind.INFO, text, booking.id), self.now())
