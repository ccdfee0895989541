"""Booking a window, and reading bookings back: what every change to a booking
(booking.py) builds on.

A booking is decided and recorded in one transaction that first takes the
server's lock, so no interleaving of requests can overbook CPUs, memory, a GPU
or a port.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from core.domain import refusals
from core.domain.allocation import load_in, micros
from core.domain.extra_command import check_extra_command
from core.domain.model import (
    Account,
    Booking,
    Refusal,
    Window,
)
from core.domain.placement import choose_gpus, choose_port
from core.services.capacity import BookingRequest
from core.services.decisions import observed
from core.services.offers import OfferService
from core.services.ports import UnitOfWork


class NewBookingService(OfferService):
    def book(self, request: BookingRequest, *, actor: str | None = None) -> Booking:
        """Decide and record `request`, or raise a Refusal saying why and what fits."""
        with observed(self._decision_observers, "book"):
            return self._book(request, actor)

    def _book(self, request: BookingRequest, actor: str | None) -> Booking:
        # The times are read before the write transaction opens, so dateparser never
        # runs while the server's lock is held; a problem with them is still reported
        # after the checks that came before it.
        try:
            window: Window | Refusal = self.parse_window(
                self.account(request.user), request.start, request.end
            )
        except Refusal as problem:
            window = problem
        with self._uow() as uow:
            account = self._existing(uow, request.user)
            if actor is not None and actor != account.name:
                self._require_admin(uow, actor)
            self.check_resources(account, request.resources)
            image = self._image(account, request.image)
            check_extra_command(request.command)
            if request.port is not None:
                self._own_port(uow, account, request.port)  # in range, no one else's
            if isinstance(window, Refusal):
                raise window
            uow.bookings.lock_server()
            read: list[frozenset[int]] = []

            def reserved() -> frozenset[int]:  # other members' own ports, read when needed
                if not read:
                    read.append(uow.accounts.reserved_ports(except_name=account.name))
                return read[0]

            booking = self._decide(uow, account, request, window, image, reserved)
            booking = uow.bookings.add(booking)
            assert booking.id is not None
            uow.bookings.record(booking.id, "created", actor or account.name)
            if account.preferred_port is None and booking.port not in reserved():
                # The first port a member gets becomes their own.
                account.preferred_port = booking.port
                uow.accounts.save(account)
            uow.commit()
        self._on_change(booking.id)
        return booking

    def _decide(
        self, uow: UnitOfWork, account: Account, request: BookingRequest, window: Window, image: str,
        reserved: Callable[[], frozenset[int]],
    ) -> Booking:
        begin, finish = micros(window.start), micros(window.end)
        spans, windows = self._holding(uow, window.start, window.end)
        load = load_in(begin, finish, spans, account.id)
        usage = load.usage
        problem = self._problem(account, request, load.own, usage)
        if problem is not None:
            problem = self._blame(problem, account, request, begin, finish, spans, windows)
            earliest = self._earliest(uow, account, request, window)
            raise refusals.with_offer(problem, earliest, self.zone_of(account))
        free_gpus = [g for g in range(self.host.gpus) if g not in usage.busy_gpus]
        port = request.port or choose_port(
            preferred=account.preferred_port, port_range=self.config.booking.ports,
            busy=usage.busy_ports,
            # Other members' own ports matter only when the member's own port is not free.
            reserved=(
                frozenset() if account.preferred_port is not None
                and account.preferred_port not in usage.busy_ports else reserved()
            ),
        )
        assert port is not None  # _problem checked that a port is free
        return Booking(
            account=account.name, start=window.start, end=window.end,
            resources=request.resources,
            gpu_ids=choose_gpus(free_gpus, request.resources.gpus, self._nvlinks),
            port=port, image=image, command=request.command or account.command,
            server=self.config.server.name,
        )

    def _owned(self, uow: UnitOfWork, booking_id: int, actor: str | None) -> Booking:
        """The booking, when `actor` (None: the system) owns it or is an admin.

        Someone else's booking is answered exactly like one that does not exist,
        so members cannot learn which ids exist or whose they are.
        """
        booking = uow.bookings.get(booking_id)
        if booking is None or (
            actor is not None and actor != booking.account
            and not self.is_admin(self._existing(uow, actor))
        ):
            raise refusals.not_yours(booking_id)
        return booking

    def get(self, booking_id: int, *, actor: str | None = None) -> Booking:
        with self._uow() as uow:
            return self._owned(uow, booking_id, actor)

    def bookings(self, user: str | None = None, *, history: bool = False) -> list[Booking]:
        """Upcoming and running bookings (all of them with `history`)."""
        after = None if history else self.now()
        with self._uow() as uow:
            if user is not None:
                self._existing(uow, user)
                found = uow.bookings.of_account(user, after=after)
            else:
                found = uow.bookings.all_after(after or datetime(1970, 1, 1, tzinfo=UTC))
        if not history:
            found = [b for b in found if b.holds_resources]
        return sorted(found, key=lambda b: (b.start, b.id or 0))
