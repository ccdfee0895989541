"""A pool of servers (config `servers:`): one booking service per server, behind the
interface of one.

Accounts, their settings and the admins are the lab's (one table), so the pool answers
those as its home server's service does (the server this process runs, or the first
one). What concerns one booking goes to the service of the booking's server: booking
ids are unique across the pool, and each server's decisions take only that server's
lock, so a request that names a server costs the same however many servers there are.
A request that names none goes to a server where it fits as asked, the one it leaves
with the least free (so the servers with the most room keep it whole for larger
requests); where it fits nowhere, the refusal says what each server is short of and
offers the earliest start on any of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.domain import pool_refusals, refusals
from core.domain.allocation import from_micros, micros
from core.domain.gpus import GpuInventory
from core.domain.maintenance import MaintenanceWindow
from core.domain.model import Account, Booking, ErrorCode, Refusal, Window
from core.domain.server_health import ServerHealth
from core.domain.waitlist_match import WaitlistEntry
from core.services.booking import BookingService
from core.services.capacity import BookingRequest
from core.services.decisions import DecisionObserver
from core.services.maintenance_port import pool_windows_between
from core.services.pool_watch import HeartbeatRepository

# Refusals that another server may not give: the request is tried there next.
_ROOM = frozenset({ErrorCode.NO_CAPACITY, ErrorCode.PORT_TAKEN, ErrorCode.OVERLAP})


class BookingPool(BookingService):
    def __init__(self, services: Mapping[str, BookingService], *, home: str) -> None:
        first = services[home]
        super().__init__(config=first.config, uow=first._uow, gpus=first.inventory,
                         notices=first._notices, clock=first._clock, on_change=first._on_change)
        self._services = dict(services)
        self.home = home

    # ----- the servers ----------------------------------------------------------------

    def servers(self) -> dict[str, BookingService]:
        return dict(self._services)

    def on(self, server: str | None) -> BookingService:
        """The service of `server` (None: the home server's); a name not in the pool is
        refused with the names that are."""
        if server is None:
            return self._services[self.home]
        found = self._services.get(server)
        if found is None:
            raise pool_refusals.unknown_server(server, list(self._services))
        return found

    def _of_booking(self, booking_id: int) -> BookingService:
        with self._uow() as uow:
            name = uow.bookings.server_of(booking_id)
        found = self._services.get(name) if name is not None else None
        if found is None:  # no such booking, or one of a server no longer configured
            raise refusals.not_yours(booking_id)
        return found

    def health(self) -> list[ServerHealth]:
        """Every server's last heartbeat (core/domain/server_health.py), by name."""
        with self._uow() as uow:
            heartbeats: HeartbeatRepository | None = getattr(uow, "heartbeats", None)
            found = [] if heartbeats is None else heartbeats.all()
        return [health for health in found if health.name in self._services]

    def heard(self, health: Iterable[ServerHealth]) -> None:
        """What each server's host last read from NVML (its heartbeat): the other servers'
        NVLink pairs, and the count of those configured with `gpus: auto`."""
        for server in health:
            service = self._services.get(server.name)
            if service is None or server.name == self.home or server.gpus is None:
                continue
            configured = service.config.capacity.gpus
            count = server.gpus if configured == "auto" else configured
            links = server.nvlinks if count == server.gpus else frozenset()
            service.recount_gpus(GpuInventory(count, links))

    def observe_decisions(self, observer: DecisionObserver) -> None:
        for service in self._services.values():
            service.observe_decisions(observer)

    # ----- new bookings ---------------------------------------------------------------

    def book(self, request: BookingRequest, *, actor: str | None = None) -> Booking:
        if request.server is not None or len(self._services) == 1:
            name = request.server or self.home
            try:
                return self.on(name).book(request, actor=actor)
            except Refusal as refusal:
                if refusal.earliest_start is not None:
                    refusal.server = name
                raise
        account = self.account(request.user)
        window = self.parse_window(account, request.start, request.end)
        fits, rest = self._order(account, request, window)
        refused: list[tuple[str, Refusal]] = []
        # Where it fits, least room left first; then the first where it does not, which
        # checks everything else (limits, image...) in a locked decision.
        booked = self._first_to_book(fits + rest[:1], request, actor, refused)
        if booked is None and len(rest) > 1:
            more, freed = self._refusals(account, request, window, rest[1:])
            refused += more
            # Room freed there since the first read: decided for real.
            booked = self._first_to_book(freed, request, actor, refused)
        if booked is not None:
            return booked
        order = list(self._services)
        refused.sort(key=lambda pair: order.index(pair[0]))
        raise pool_refusals.no_server_fits(refused, self.zone_of(account))

    def _first_to_book(self, names: list[str], request: BookingRequest, actor: str | None,
                       refused: list[tuple[str, Refusal]]) -> Booking | None:
        """The booking on the first of `names` that takes it; each refusal for lack of room
        is added to `refused`, any other is raised."""
        for name in names:
            try:
                return self._services[name].book(request, actor=actor)
            except Refusal as refusal:
                if refusal.code not in _ROOM:
                    raise
                refused.append((name, refusal))
        return None

    def _order(self, account: Account, request: BookingRequest, window: Window,
               ) -> tuple[list[str], list[str]]:
        """The servers where the request fits, least room left first, and those where it
        does not, as configured. A server too small for the request even when empty is
        left out, unless all are (the home server's refusal then says why)."""
        want = request.resources
        big_enough = {name: service for name, service in self._services.items()
                      if want.gpus <= service.host.gpus and want.cpus <= service.host.cpus
                      and want.memory <= service.host.memory} or {self.home: self.on(None)}
        with self._uow() as uow:  # one read of every server's bookings and windows
            spans = uow.bookings.pool_spans_between(window.start, window.end)
            windows = pool_windows_between(uow, window.start, window.end)
        left = {name: service.room_left(account, request, window, spans.get(name, []),
                                        windows.get(name, []))
                for name, service in big_enough.items()}
        fits = sorted((room, index, name) for index, (name, room) in enumerate(left.items())
                      if room is not None)
        return ([name for _room, _index, name in fits],
                [name for name, room in left.items() if room is None])

    def _refusals(self, account: Account, request: BookingRequest, window: Window,
                  names: list[str]) -> tuple[list[tuple[str, Refusal]], list[str]]:
        """Why the request fits none of `names`, with each one's earliest start, from one
        read of every server up to the horizon (not a locked decision per server); and the
        servers among them where it fits after all (room freed since the first read)."""
        until = from_micros(self._horizon() + micros(window.end) - micros(window.start))
        with self._uow() as uow:
            spans = uow.bookings.pool_spans_between(window.start, until)
            windows = pool_windows_between(uow, window.start, until)
        found, freed = [], []
        for name in names:
            refusal = self._services[name].refusal_here(
                account, request, window, spans.get(name, []), windows.get(name, []))
            if refusal is None:
                freed.append(name)
            else:
                found.append((name, refusal))
        return found, freed

    # ----- one booking ----------------------------------------------------------------

    def get(self, booking_id: int, *, actor: str | None = None) -> Booking:
        return self._of_booking(booking_id).get(booking_id, actor=actor)

    def cancel(self, booking_id: int, *, actor: str | None, reason: str | None = None) -> Booking:
        return self._of_booking(booking_id).cancel(booking_id, actor=actor, reason=reason)

    def extend(self, booking_id: int, end_text: str, *, actor: str | None,
               reason: str | None = None) -> Booking:
        return self._of_booking(booking_id).extend(booking_id, end_text, actor=actor,
                                                   reason=reason)

    def restart(self, booking_id: int, *, actor: str | None, reason: str | None = None,
                after: int | None = None) -> Booking:
        return self._of_booking(booking_id).restart(booking_id, actor=actor, reason=reason,
                                                    after=after)

    def bookings(self, user: str | None = None, *, history: bool = False) -> list[Booking]:
        found = [b for service in self._services.values()
                 for b in service.bookings(user, history=history)]
        return sorted(found, key=lambda b: (b.start, b.id or 0))

    # ----- maintenance and the waitlist: added on one server (`on`), read from all ------

    def maintenance_windows(self, *, actor: str | None, history: bool = False,
                            ) -> list[MaintenanceWindow]:
        found = [w for service in self._services.values()
                 for w in service.maintenance_windows(actor=actor, history=history)]
        return sorted(found, key=lambda w: (w.start, w.id or 0))

    def remove_maintenance(self, window_id: int, *, actor: str | None) -> MaintenanceWindow:
        last: Refusal | None = None
        for service in self._services.values():
            try:
                return service.remove_maintenance(window_id, actor=actor)
            except Refusal as refusal:
                if refusal.code != ErrorCode.NOT_FOUND:
                    raise
                last = refusal
        assert last is not None
        raise last

    def waitlist(self, user: str) -> list[WaitlistEntry]:
        return [entry for service in self._services.values() for entry in service.waitlist(user)]

    def clear_waitlist(self, user: str) -> int:
        return sum(service.clear_waitlist(user) for service in self._services.values())
