"""Health of a pool of servers (issue 14): every host's `serve` beats (storage/heartbeat.py);
each host also runs `PoolWatch.check`. A server not heard from for a minute
(core/domain/server_health.py) is down: the admins are told once, and so is every member
whose booking on it runs now or starts within SOON. Its bookings are not started elsewhere
(their files live on that host). When it beats again the admins are told it is back, once;
its own scheduler then reconciles its bookings as after any restart.

Each check is one transaction that first locks every heartbeat row, so two hosts watching
at once tell once. Messages go into the watching host's own outbox: the down host cannot
send them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, tzinfo
from typing import Protocol

from core.domain.model import Account
from core.domain.server_health import SOON, HeldBooking, ServerHealth
from core.services.notifier import Message
from core.services.outbox import enqueue
from core.services.ports import AccountRepository, OutboxRepository


class HeartbeatRepository(Protocol):
    def lock_all(self) -> None:
        """No other transaction changes a heartbeat until commit or rollback."""

    def all(self) -> list[ServerHealth]:
        """Every server of the pool, by name; one never heard from has seen_at None."""

    def mark_down_told(self, server_id: int, at: datetime | None) -> None:
        """When its being down was told; None once its coming back was told."""

    def holding_on(self, server_id: int, *, starts_before: datetime,
                   ends_after: datetime) -> list[HeldBooking]:
        """The bookings on that server (any server of the pool) holding resources in the span."""


class PoolUnitOfWork(Protocol):
    heartbeats: HeartbeatRepository
    outbox: OutboxRepository

    @property
    def accounts(self) -> AccountRepository: ...

    def __enter__(self) -> PoolUnitOfWork: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None: ...


class PoolWords(Protocol):
    """core/chat/pool_words.py."""

    def server_down_admin(self, health: ServerHealth, zone: tzinfo) -> Message: ...

    def server_down_member(self, health: ServerHealth, booking: HeldBooking, now: datetime,
                           zone: tzinfo) -> Message: ...

    def server_back_admin(self, health: ServerHealth, zone: tzinfo) -> Message: ...


class PoolWatch:
    def __init__(
        self, *, uow: Callable[[], PoolUnitOfWork], words: PoolWords,
        clock: Callable[[], datetime], admins: Callable[[list[Account]], Sequence[str]],
        zone: Callable[[Account | None], tzinfo], servers: Collection[str] | None = None,
    ) -> None:
        """`admins(accounts)`: the admins' names (core.services.accounts.admin_names with the
        config); `zone(account)`: where a reader's times are shown (core.domain.zones.member_zone);
        `servers`: the names of the pool's servers (None: every server in the database), so a
        server taken out of the config, or another installation's, is never reported."""
        self._servers = None if servers is None else frozenset(servers)
        self._uow = uow
        self._words = words
        self._clock = clock
        self._admins = admins
        self._zone = zone
        self._lock = threading.Lock()  # one check at a time in this process

    def health(self) -> list[ServerHealth]:
        """Every server now, for /capacity (core/chat/pool_words.py, server_line)."""
        with self._uow() as uow:
            return self._ours(uow.heartbeats.all())

    def _ours(self, health: list[ServerHealth]) -> list[ServerHealth]:
        return [h for h in health if self._servers is None or h.name in self._servers]

    def check(self) -> list[str]:
        """Tell what changed since the last check (by any host); returns the servers told
        about, as `gpu2 down` / `gpu2 back`."""
        with self._lock, self._uow() as uow:
            uow.heartbeats.lock_all()
            now = self._clock()
            changed = [h for h in self._ours(uow.heartbeats.all())
                       if h.newly_down(now) or h.back(now)]
            if not changed:
                return []
            accounts = {a.name: a for a in uow.accounts.all()}
            admins = list(self._admins(list(accounts.values())))
            told = []
            for health in changed:
                assert health.server_id is not None
                if health.back(now):
                    self._tell_admins(uow, admins, accounts, now,
                                      self._words.server_back_admin, health)
                    uow.heartbeats.mark_down_told(health.server_id, None)
                    told.append(f"{health.name} back")
                    continue
                self._tell_admins(uow, admins, accounts, now,
                                  self._words.server_down_admin, health)
                for booking in uow.heartbeats.holding_on(
                        health.server_id, starts_before=now + SOON, ends_after=now):
                    zone = self._zone(accounts.get(booking.account))
                    message = self._words.server_down_member(health, booking, now, zone)
                    enqueue(uow.outbox, booking.account, message, now)
                uow.heartbeats.mark_down_told(health.server_id, now)
                told.append(f"{health.name} down")
            uow.commit()
            return told

    def _tell_admins(self, uow: PoolUnitOfWork, admins: Sequence[str],
                     accounts: dict[str, Account], now: datetime,
                     say: Callable[[ServerHealth, tzinfo], Message],
                     health: ServerHealth) -> None:
        for admin in admins:
            enqueue(uow.outbox, admin, say(health, self._zone(accounts.get(admin))), now)
