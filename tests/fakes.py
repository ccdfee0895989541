"""Hand-written fakes of core's ports, for fast unit tests of the service."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from core.domain.allocation import Span, micros
from core.domain.model import Account, Booking, Event, new_password_salt


@dataclass
class Store:
    bookings: dict[int, Booking] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1


class FakeBookings:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.locked = False

    def lock_server(self) -> None:
        self.locked = True

    def holding_between(self, start: datetime, end: datetime) -> list[Booking]:
        return [replace(b) for b in self.store.bookings.values()
                if b.holds_resources and b.start < end and b.end > start]

    def spans_between(self, start: datetime, end: datetime) -> list[Span]:
        ids = {name: account.id for name, account in self.store.accounts.items()}
        return [
            (b.id or 0, ids.get(b.account) or 0, micros(b.start), micros(b.end), b.resources.cpus,
             b.resources.memory, ",".join(map(str, b.gpu_ids)), b.port)
            for b in self.holding_between(start, end)
        ]

    def get(self, booking_id: int) -> Booking | None:
        found = self.store.bookings.get(booking_id)
        return replace(found) if found else None

    def server_of(self, booking_id: int) -> str | None:
        found = self.store.bookings.get(booking_id)
        return None if found is None else found.server or "gpu1"

    def add(self, booking: Booking) -> Booking:
        if booking.password_salt is None:  # as SqlBookings.add: a new booking gets a fresh one
            booking.password_salt = new_password_salt()
        booking.id = self.store.next_id
        self.store.next_id += 1
        self.store.bookings[booking.id] = replace(booking)
        return booking

    def save(self, booking: Booking) -> None:
        assert booking.id in self.store.bookings
        self.store.bookings[booking.id] = replace(booking)

    def of_account(self, account: str, *, after: datetime | None) -> list[Booking]:
        return [replace(b) for b in self.store.bookings.values()
                if b.account == account and (after is None or b.end > after)]

    def all_after(self, after: datetime) -> list[Booking]:
        return [replace(b) for b in self.store.bookings.values() if b.end > after]

    def record(self, booking_id: int, kind: str, actor: str | None, **detail: Any) -> None:
        self.store.events.append(Event(booking_id, datetime.now(UTC), kind, actor, detail))

    def events(self, booking_id: int) -> list[Event]:
        return [e for e in self.store.events if e.booking_id == booking_id]


class FakeAccounts:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, name: str) -> Account | None:
        found = self.store.accounts.get(name)
        return copy.deepcopy(found) if found else None

    def by_chat_id(self, platform: str, chat_id: str) -> Account | None:
        for account in self.store.accounts.values():
            if getattr(account, f"{platform}_id") == chat_id:
                return copy.deepcopy(account)
        return None

    def add(self, account: Account) -> Account:
        account.id = len(self.store.accounts) + 1
        self.store.accounts[account.name] = copy.deepcopy(account)
        return account

    def save(self, account: Account) -> None:
        self.store.accounts[account.name] = copy.deepcopy(account)

    def all(self) -> list[Account]:
        return [copy.deepcopy(a) for a in self.store.accounts.values()]

    def count(self) -> int:
        return len(self.store.accounts)

    def reserved_ports(self, *, except_name: str) -> frozenset[int]:
        return frozenset(a.preferred_port for a in self.store.accounts.values()
                         if a.name != except_name and a.preferred_port is not None)


class FakeConversations:
    def __init__(self, store: Store) -> None:
        self.store = store

    def load(self, key: str) -> dict[str, Any]:
        return copy.deepcopy(self.store.conversations.get(key, {}))

    def save(self, key: str, state: dict[str, Any]) -> None:
        self.store.conversations[key] = copy.deepcopy(state)


class FakeUnitOfWork:
    """Works on a copy of the store; only `commit()` makes the changes real."""

    def __init__(self, store: Store) -> None:
        self._committed = store
        self.commits = 0

    def __enter__(self) -> FakeUnitOfWork:
        self._work = copy.deepcopy(self._committed)
        self.bookings = FakeBookings(self._work)
        self.accounts = FakeAccounts(self._work)
        self.conversations = FakeConversations(self._work)
        return self

    def __exit__(self, *exc: object) -> None:
        del self._work

    def commit(self) -> None:
        self._committed.__dict__.update(copy.deepcopy(self._work).__dict__)
        self.commits += 1
