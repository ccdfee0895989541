"""Maintenance windows (README, "Maintenance windows"): an admin takes the whole server, or
some GPUs, out of booking for a while.

A window is stored in the maintenance table and read by every booking decision as one
more holding span (capacity.py, `_holding`), so nothing is booked into it and offers skip
it. Adding one first shows the admin whose bookings it meets (`plan`); `add` stores it and,
in the same transaction, tells each of those members (the outbox) with the earliest start
after it where the same booking fits, as a button.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from core.domain import refusals
from core.domain.maintenance import GpuListError, MaintenanceWindow, parse_gpu_list
from core.domain.model import Account, Booking, Window
from core.domain.time_tokens import slot_ceil
from core.services.capacity import BookingRequest
from core.services.maintenance_port import MaintenanceRepository, repository, windows_between
from core.services.new_bookings import NewBookingService
from core.services.outbox import enqueue
from core.services.ports import OutboxRepository, UnitOfWork

MAX_REASON = 500


@dataclass(frozen=True)
class Affected:
    """A booking a window meets, and the earliest start after it where the same fits."""

    booking: Booking
    alternative: datetime | None = None


@dataclass(frozen=True)
class MaintenancePlan:
    window: MaintenanceWindow  # its id is None until added
    affected: tuple[Affected, ...]


class MaintenanceService(NewBookingService):
    def _maintenance(self, uow: UnitOfWork) -> MaintenanceRepository:
        found = repository(uow)
        if found is None:
            raise RuntimeError("this unit of work stores no maintenance windows")
        return found

    def _check_admin(self, uow: UnitOfWork, actor: str | None) -> None:
        """`actor`: an admin's account name; None: the system (root or the service's user at
        the command line)."""
        if actor is not None and not self.is_admin(self._existing(uow, actor)):
            raise refusals.maintenance_admins_only(self._admins(uow))

    def _read_window(self, actor: str | None, by: str | None, start_text: str, end_text: str,
                     gpus: str | None, reason: str) -> MaintenanceWindow:
        """The window asked for, checked; read before any transaction opens (dateparser)."""
        account = None if actor is None else self.account(actor)
        reason = " ".join("".join(c for c in reason if c.isprintable() or c.isspace()).split())
        if not reason or len(reason) > MAX_REASON:
            raise refusals.maintenance_needs_reason()
        try:
            gpu_ids = parse_gpu_list(gpus, self.host.gpus)
        except GpuListError as exc:
            raise refusals.bad_gpu_list(exc) from None
        start, end = self._read_times(start_text, end_text, self.zone_of(account), self.now())
        if end <= start:
            raise refusals.end_not_after_start()
        if end <= self.now():
            raise refusals.start_in_past()
        return MaintenanceWindow(start, end, gpu_ids, reason, by or actor or "admin")

    def plan_maintenance(self, start: str, end: str, gpus: str | None, reason: str, *,
                         actor: str | None, by: str | None = None) -> MaintenancePlan:
        """What `add_maintenance` would store, and whose bookings it meets; stores nothing.
        `by`: who is named as adding it (default: `actor`)."""
        window = self._read_window(actor, by, start, end, gpus, reason)
        with self._uow() as uow:
            self._check_admin(uow, actor)
            return MaintenancePlan(window, tuple(Affected(b) for b in self._met(uow, window)))

    def add_maintenance(self, start: str, end: str, gpus: str | None, reason: str, *,
                        actor: str | None, by: str | None = None) -> MaintenancePlan:
        """Store the window and tell each member whose booking it meets, with an offer."""
        asked = self._read_window(actor, by, start, end, gpus, reason)
        with self._uow() as uow:
            self._check_admin(uow, actor)
            uow.bookings.lock_server()
            window = self._maintenance(uow).add(
                start=asked.start, end=asked.end, gpu_ids=asked.gpu_ids, reason=asked.reason,
                actor=asked.created_by)
            affected = tuple(
                Affected(booking, self._alternative(uow, booking)) for booking in self._met(uow, window))
            outbox: OutboxRepository | None = getattr(uow, "outbox", None)
            for item in affected if outbox is not None else ():
                assert outbox is not None
                account = self._existing(uow, item.booking.account)
                message = self._notices.maintenance_ahead(
                    window, item.booking, item.alternative, self.zone_of(account),
                    window.created_by)
                enqueue(outbox, account.name, message, self.now())
            uow.commit()
        return MaintenancePlan(window, affected)

    def _met(self, uow: UnitOfWork, window: MaintenanceWindow) -> list[Booking]:
        held = uow.bookings.holding_between(max(window.start, self.now()), window.end)
        return sorted((b for b in held if window.affects(b)), key=lambda b: (b.start, b.id or 0))

    def _alternative(self, uow: UnitOfWork, booking: Booking) -> datetime | None:
        """The earliest start, from the booking's own start on, where the same booking fits
        if it is given up (the window just stored counts)."""
        account: Account = self._existing(uow, booking.account)
        start = max(booking.start, slot_ceil(self.now(), self._slot))
        request = BookingRequest(user=account.name, resources=booking.resources, start="",
                                 end="", image=booking.image, command=booking.command)
        return self._earliest(uow, account, request,
                              Window(start, start + (booking.end - booking.start)), booking.id)

    def maintenance_windows(self, *, actor: str | None, history: bool = False,
                            ) -> list[MaintenanceWindow]:
        """Windows not yet over (all of them with `history`), earliest first."""
        now = self.now()
        with self._uow() as uow:
            self._check_admin(uow, actor)
            start = now - timedelta(days=36500) if history else now
            return self._maintenance(uow).between(start, now + timedelta(days=36500))

    def remove_maintenance(self, window_id: int, *, actor: str | None) -> MaintenanceWindow:
        with self._uow() as uow:
            self._check_admin(uow, actor)
            uow.bookings.lock_server()
            store = self._maintenance(uow)
            window = store.get(window_id)
            if window is None or not store.remove(window_id):
                raise refusals.no_maintenance(window_id)
            uow.commit()
        return window

    def _check_maintenance(self, uow: UnitOfWork, booking: Booking, extra: Window,
                           zone: tzinfo) -> None:
        """Refuse a longer window for `booking` that runs into maintenance of what it holds."""
        found = [w for w in windows_between(uow, extra.start, extra.end)
                 if w.whole_server or set(w.gpu_ids) & set(booking.gpu_ids)]
        if found:
            raise refusals.in_maintenance(found, zone)
