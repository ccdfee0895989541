"""The booking service: every use case the chat adapters and the CLI call.

Each method opens one unit of work. A booking is decided and recorded in one
transaction that first takes the server's lock, so no interleaving of
requests can overbook CPUs, memory, a GPU or a port.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from core.domain.allocation import (
    choose_gpus,
    choose_port,
    load_in,
    micros,
    shortages,
    usage_in,
)
from core.domain.extra_command import check_extra_command
from core.domain.model import (
    Account,
    Booking,
    ErrorCode,
    Refusal,
    Status,
    Window,
)
from core.domain.restart_requests import REQUESTED as RESTART_REQUESTED
from core.domain.restart_requests import pending_request
from core.domain.time_tokens import TimeInputError, parse_duration
from core.domain.timeparse import parse_end
from core.domain.zones import local_time
from core.services.capacity import BookingRequest
from core.services.notices import changed_by_someone_else
from core.services.notifier import Message, MessageKind
from core.services.offers import OfferService
from core.services.outbox import enqueue
from core.services.ports import OutboxRepository, UnitOfWork


class BookingService(OfferService):
    """Every use case the chat adapters and the CLI call: accounts
    (core/services/accounts.py), capacity (capacity.py), offers (offers.py) and,
    here, the bookings themselves: book, cancel, extend, restart, list.
    """

    def book(self, request: BookingRequest, *, actor: str | None = None) -> Booking:
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
        load = load_in(begin, finish, uow.bookings.spans_between(window.start, window.end), account.id)
        usage = load.usage
        problem = self._problem(account, request, load.own, usage)
        if problem is not None:
            code, message = problem
            earliest = self._earliest(uow, account, request, window)
            raise Refusal(code, message + self._offer(account, earliest), earliest_start=earliest)
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
            raise Refusal(
                ErrorCode.NOT_FOUND, f"There is no booking #{booking_id} of yours; `list` shows yours."
            )
        return booking

    def get(self, booking_id: int, *, actor: str | None = None) -> Booking:
        with self._uow() as uow:
            return self._owned(uow, booking_id, actor)

    def _require_current(
        self, uow: UnitOfWork, booking: Booking, now: datetime, instead: str
    ) -> None:
        """Only a booking that still holds its window can be changed."""
        if booking.holds_resources and booking.end > now:
            return
        if booking.holds_resources:
            ended = local_time(booking.end, self.zone_of(self._existing(uow, booking.account)))
            why = f"ended at {ended}"
        else:
            why = f"is {booking.status.value}"
        raise Refusal(ErrorCode.NOT_FOUND, f"Booking #{booking.id} {why}; {instead}.")

    def cancel(self, booking_id: int, *, actor: str | None, reason: str | None = None) -> Booking:
        """Cancel before the start; end a running booking now."""
        with self._uow() as uow:
            uow.bookings.lock_server()
            booking = self._owned(uow, booking_id, actor)
            now = self.now()
            self._require_current(uow, booking, now, "book anew with `book`")
            if booking.status == Status.BOOKED:
                booking = replace(booking, status=Status.CANCELLED)
                kind = "cancelled"
            else:
                booking = replace(booking, end=max(now, booking.start))
                kind = "ended_early"
            uow.bookings.save(booking)
            uow.bookings.record(booking_id, kind, actor)
            self._tell_owner(uow, booking, actor, kind, reason)
            uow.commit()
        self._on_change(booking_id)
        return booking

    def extend(
        self, booking_id: int, end_text: str, *, actor: str | None, reason: str | None = None
    ) -> Booking:
        """Move the end later. `2-day` extends by two days; a date sets the new end."""
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
            self._require_current(uow, booking, now, "book a new window with `book`")
            account = self._existing(uow, booking.account)
            self._check_still_allowed(account, booking)
            new_end = self._new_end(account, booking, asked)
            extra = Window(booking.end, new_end)
            others = [b for b in uow.bookings.holding_between(extra.start, extra.end)
                      if b.id != booking.id]
            self._check_extension(booking, extra, others)
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
            raise Refusal(ErrorCode.BAD_TIME, str(exc)) from None

    def _new_end(
        self, account: Account, booking: Booking, asked: timedelta | datetime | Refusal
    ) -> datetime:
        if isinstance(asked, Refusal):
            raise asked
        new_end = booking.end + asked if isinstance(asked, timedelta) else asked
        max_days = self.config.booking.max_days
        if new_end <= booking.end:
            raise Refusal(ErrorCode.BAD_TIME, "The new end must be after the current end; try `1-day`.")
        if new_end - booking.start > timedelta(days=max_days):
            limit = (booking.start + timedelta(days=max_days)).astimezone(self.zone_of(account))
            raise Refusal(
                ErrorCode.BAD_TIME,
                f"A booking lasts at most {max_days} days; it can end at {limit:%Y %m %d %H %M} latest.",
            )
        return new_end

    def _check_still_allowed(self, account: Account, booking: Booking) -> None:
        """A booking is extended only while it is within the member's maxima as they are now
        (an admin may have lowered them since it was booked)."""
        maximum, held = self.limits_of(account), booking.resources
        if held.cpus > maximum.cpus or held.memory > maximum.memory or held.gpus > maximum.gpus:
            raise Refusal(
                ErrorCode.OVER_LIMIT,
                f"Booking #{booking.id} holds {held.describe()}, more than your maximum now "
                f"({maximum.describe()}), so it cannot be extended; when it ends, book again "
                "within your maximum.",
            )

    def _check_extension(self, booking: Booking, extra: Window, others: list[Booking]) -> None:
        own = [b for b in others if b.account == booking.account]
        if own:
            raise Refusal(ErrorCode.OVERLAP, f"Your booking #{own[0].id} starts before the new end.")
        usage = usage_in(extra, others)
        taken = sorted(set(booking.gpu_ids) & usage.busy_gpus)
        short = shortages(replace(booking.resources, gpus=0), self.host, usage)
        if taken:
            short.append("GPU " + ", ".join(map(str, taken)) + " (booked by someone else)")
        if booking.port in usage.busy_ports:
            short.append(f"port {booking.port}")
        if short:
            raise Refusal(
                ErrorCode.NO_CAPACITY,
                "The longer window does not fit: " + ", ".join(short) + " is short. "
                "Try a shorter extension.",
            )

    def restart(self, booking_id: int, *, actor: str | None, reason: str | None = None) -> Booking:
        """Ask the scheduler to restart a running booking's container (the old `-rst`).

        Only recorded here: the scheduler, perhaps in another process, acts on
        it (see core/domain/restart_requests.py) and messages the member when done.
        """
        with self._uow() as uow:
            uow.bookings.lock_server()
            booking = self._owned(uow, booking_id, actor)
            now = self.now()
            if booking.status != Status.RUNNING or booking.end <= now:
                account = self._existing(uow, booking.account)
                raise Refusal(ErrorCode.NOT_RUNNING, self._not_running(account, booking, now))
            if pending_request(uow.bookings.events(booking_id)) is not None:
                raise Refusal(
                    ErrorCode.PENDING,
                    f"A restart of booking #{booking_id} is already on its way; "
                    "I will message you when it is done.",
                )
            uow.bookings.record(booking_id, RESTART_REQUESTED, actor or booking.account,
                                at=now.isoformat())
            self._tell_owner(uow, booking, actor, RESTART_REQUESTED, reason)
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
        zone = self.zone_of(self._existing(uow, booking.account))
        text = changed_by_someone_else(change, booking, actor, zone, reason)
        enqueue(outbox, booking.account, Message(MessageKind.INFO, text, booking.id), self.now())

    def _not_running(self, account: Account, booking: Booking, now: datetime) -> str:
        """Why a booking's container cannot be restarted now."""
        number = f"Booking #{booking.id}"
        if booking.status == Status.BOOKED:
            return (f"{number} is booked; it starts at "
                    f"{local_time(booking.start, self.zone_of(account))}. "
                    "Its container can be restarted once it runs.")
        if booking.status == Status.STARTING:
            return (f"{number} is starting; I will message you when it is ready, "
                    "then it can be restarted.")
        if booking.status == Status.ENDING or booking.end <= now:
            return f"{number} is ending; its container is being backed up and removed."
        return f"{number} is {booking.status.value}; it has no container to restart."

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
