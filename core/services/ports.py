"""What the core needs from storage. storage/ implements these; tests may fake them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from core.domain.allocation import Span
from core.domain.model import Account, Booking, Event


class StorageConflict(Exception):
    """A write lost a race: another transaction stored the same unique value first
    (for example two first messages of one chat user). Retry after reading it."""


class BookingRepository(Protocol):
    def lock_server(self) -> None:
        """Serialise every booking decision on this server until commit or rollback."""

    def holding_between(self, start: datetime, end: datetime) -> list[Booking]:
        """Bookings that hold resources and overlap [start, end)."""

    def spans_between(self, start: datetime, end: datetime) -> list[Span]:
        """`holding_between` as plain tuples (core.domain.allocation.Span), in no particular order:
        what a booking decision reads, with no object per booking."""

    def get(self, booking_id: int) -> Booking | None: ...

    def pool_spans_between(self, start: datetime, end: datetime) -> dict[str, list[Span]]:
        """`spans_between` for every server of a pool at once, by server name."""

    def server_of(self, booking_id: int) -> str | None:
        """The name of the server a booking is on, any server of the pool (None: no such
        booking)."""

    def add(self, booking: Booking) -> Booking:
        """Store a new booking: sets its id, and stores its password salt (a fresh one
        when it has none); the salt never changes afterwards (`save` leaves it)."""

    def save(self, booking: Booking) -> None: ...

    def of_account(self, account: str, *, after: datetime | None) -> list[Booking]:
        """The member's bookings; only those ending after `after` when given."""

    def all_after(self, after: datetime) -> list[Booking]:
        """Every booking on this server that holds resources and ends after `after`."""

    def record(self, booking_id: int, kind: str, actor: str | None, **detail: Any) -> None: ...

    def events(self, booking_id: int) -> list[Event]: ...


class AccountRepository(Protocol):
    def get(self, name: str) -> Account | None: ...

    def by_chat_id(self, platform: str, chat_id: str) -> Account | None: ...

    def add(self, account: Account) -> Account:
        """Store a new account; raises StorageConflict when its name or a chat id is
        already stored (perhaps by a concurrent transaction)."""

    def save(self, account: Account) -> None: ...

    def all(self) -> list[Account]: ...

    def count(self) -> int: ...

    def reserved_ports(self, *, except_name: str) -> frozenset[int]:
        """Preferred ports of every other member."""


class ConversationStore(Protocol):
    def load(self, key: str) -> dict[str, Any]: ...

    def save(self, key: str, state: dict[str, Any]) -> None: ...


class UnitOfWork(Protocol):
    """One transaction. Rolls back on exit unless `commit()` was called."""

    @property
    def bookings(self) -> BookingRepository: ...

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def conversations(self) -> ConversationStore: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None: ...


@dataclass(frozen=True)
class OutboxItem:
    """A message to a member, recorded before it is sent (see core/services/outbox.py)."""

    id: int
    recipient: str  # account name
    kind: str
    text: str  # may hold core.domain.passwords.PASSWORD_PLACEHOLDER, rendered at send time
    booking_id: int | None
    actions: list[dict[str, str]]
    attempts: int
    created_at: datetime


class OutboxRepository(Protocol):
    def add(
        self, *, recipient: str, kind: str, text: str, booking_id: int | None,
        actions: list[dict[str, str]], now: datetime,
    ) -> int: ...

    def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Unsent messages whose next attempt is due, oldest first."""

    def mark_sent(self, item_id: int, at: datetime, channel: str) -> None: ...

    def mark_attempt(self, item_id: int, error: str, retry_at: datetime) -> None: ...

    def sent(self, booking_id: int) -> list[OutboxItem]:
        """Messages already sent about a booking, oldest first."""


class SchedulerUnitOfWork(UnitOfWork, Protocol):
    """The unit of work the scheduler needs: the service's, plus the outbox."""

    outbox: OutboxRepository

    def __enter__(self) -> SchedulerUnitOfWork: ...
