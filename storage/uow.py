"""The SQL unit of work: repositories over one session, one transaction.

The session never commits on its own; `commit()` is the only way out that
keeps changes, so "check capacity, then insert" is one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, String, bindparam, func, insert, select, text, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from sqlmodel.sql.sqltypes import UTCDateTime

from core.allocation import Span, micros
from core.domain import HOLDING, Account, Booking, Resources, Status, new_password_salt
from core.ports import Event, StorageConflict
from storage.change_signal import announce_change
from storage.outbox import SqlOutbox
from storage.tables import (
    HOLDING_STATUS_SQL,
    AccountRow,
    BookingEventRow,
    BookingRow,
    ConversationRow,
    ServerRow,
)

_HOLDING = [status.value for status in HOLDING]

# Stored time -> microseconds since the epoch; times repeat (the slot grid), so a small
# cache turns most conversions into a dict lookup.
_MICROS: dict[Any, int] = {}


def _stored_micros(value: datetime | str) -> int:
    """A time as the driver returns it (SQLite: text in UTC; PostgreSQL: an aware datetime)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return micros(moment)


def _gpu_text(ids: tuple[int, ...]) -> str:
    return ",".join(str(i) for i in ids)


def _gpu_ids(text_value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text_value.split(",") if part)


class SqlBookings:
    def __init__(self, session: Session, server_id: int) -> None:
        self._session = session
        self._server_id = server_id
        self.changed = False  # a booking was added, saved or had an event recorded

    def lock_server(self) -> None:
        # SQLite already holds the database write lock (BEGIN IMMEDIATE);
        # PostgreSQL takes the server's row lock for the rest of the transaction.
        if self._session.get_bind().dialect.name != "sqlite":
            self._session.execute(
                select(ServerRow.id).where(ServerRow.id == self._server_id).with_for_update()  # type: ignore[call-overload]
            ).all()

    # Plain columns, not ORM entities: the overlap query is on the hot path of
    # every decision and needs no identity map.
    _COLUMNS = (
        BookingRow.id, AccountRow.name, BookingRow.status, BookingRow.start_at,
        BookingRow.end_at, BookingRow.cpus, BookingRow.memory, BookingRow.gpus,
        BookingRow.gpu_ids, BookingRow.port, BookingRow.image, BookingRow.command,
        BookingRow.password_salt,
    )

    def _query(self, *conditions: Any) -> list[Booking]:
        statement = (
            select(*self._COLUMNS)  # type: ignore[call-overload]
            .join(AccountRow, AccountRow.id == BookingRow.account_id)
            .where(BookingRow.server_id == self._server_id, *conditions)
        )
        return [
            Booking(
                id=row_id, account=account, status=Status(status), start=start, end=end,
                resources=Resources(cpus, memory, gpus), gpu_ids=_gpu_ids(gpu_ids), port=port,
                image=image, command=command, password_salt=salt,
            )
            for (row_id, account, status, start, end, cpus, memory, gpus, gpu_ids, port, image,
                 command, salt) in self._session.execute(statement)
        ]

    def holding_between(self, start: datetime, end: datetime) -> list[Booking]:
        return self._query(
            BookingRow.end_at > start,
            BookingRow.start_at < end,
            BookingRow.status.in_(_HOLDING),  # type: ignore[attr-defined]
        )

    # The decision's read: the columns it sweeps, times as the driver returns them (no
    # per-row conversion by SQLAlchemy), holding statuses spelled out so that the partial
    # index ix_booking_holding (migration 0004) covers the query and past bookings stay out.
    _SPANS = (
        select(  # type: ignore[call-overload]
            BookingRow.id, BookingRow.account_id,
            type_coerce(BookingRow.start_at, String), type_coerce(BookingRow.end_at, String),
            BookingRow.cpus, BookingRow.memory, BookingRow.gpu_ids, BookingRow.port,
        )
        .where(
            BookingRow.server_id == bindparam("server"),
            BookingRow.end_at > bindparam("start", type_=UTCDateTime()),
            BookingRow.start_at < bindparam("end", type_=UTCDateTime()),
            # Literal, not bound: SQLite uses a partial index only when the query
            # names the index's own condition.
            text(HOLDING_STATUS_SQL),
        )
        # No ORDER BY: with one, SQLite (without ANALYZE statistics) picks the narrower
        # ix_booking_server_end and visits the table; callers sort what they need.
    )

    def spans_between(self, start: datetime, end: datetime) -> list[Span]:
        rows = self._session.connection().execute(
            self._SPANS, {"server": self._server_id, "start": start, "end": end}
        )
        known = _MICROS
        if len(known) > 100_000:
            known.clear()
        spans: list[Span] = []
        append = spans.append
        for row_id, account_id, begin, finish, cpus, memory, gpu_ids, port in rows:
            begin_us = known.get(begin)
            if begin_us is None:
                begin_us = known[begin] = _stored_micros(begin)
            finish_us = known.get(finish)
            if finish_us is None:
                finish_us = known[finish] = _stored_micros(finish)
            append((row_id, account_id, begin_us, finish_us, cpus, memory, gpu_ids, port))
        return spans

    def get(self, booking_id: int) -> Booking | None:
        found = self._query(BookingRow.id == booking_id)
        return found[0] if found else None

    def add(self, booking: Booking) -> Booking:
        if booking.password_salt is None:  # a new booking always gets a fresh one
            booking.password_salt = new_password_salt()
        account_id = (
            select(AccountRow.id).where(AccountRow.name == booking.account).scalar_subquery()  # type: ignore[call-overload]
        )
        statement = insert(BookingRow).values(  # type: ignore[call-overload]
            server_id=self._server_id, account_id=account_id, status=booking.status.value,
            start_at=booking.start, end_at=booking.end, cpus=booking.resources.cpus,
            memory=booking.resources.memory, gpus=booking.resources.gpus,
            gpu_ids=_gpu_text(booking.gpu_ids), port=booking.port, image=booking.image,
            command=booking.command, created_at=datetime.now(UTC),
            password_salt=booking.password_salt,
        ).returning(BookingRow.id)
        # On the session's connection: a Core statement, no ORM execution around it.
        booking.id = int(self._session.connection().execute(statement).scalar_one())
        self.changed = True
        return booking

    def save(self, booking: Booking) -> None:
        row = self._session.get(BookingRow, booking.id)
        if row is None:
            raise LookupError(f"booking {booking.id} vanished")
        row.status = booking.status.value
        row.start_at = booking.start
        row.end_at = booking.end
        row.gpu_ids = _gpu_text(booking.gpu_ids)
        row.port = booking.port
        self._session.add(row)
        self._session.flush()
        self.changed = True

    def of_account(self, account: str, *, after: datetime | None) -> list[Booking]:
        conditions: list[Any] = [AccountRow.name == account]
        if after is not None:
            conditions.append(BookingRow.end_at > after)
        return self._query(*conditions)

    def all_after(self, after: datetime) -> list[Booking]:
        return self._query(BookingRow.end_at > after)

    def record(self, booking_id: int, kind: str, actor: str | None, **detail: Any) -> None:
        # A Core insert, now (not an ORM object flushed at commit): events keep call order.
        self._session.connection().execute(insert(BookingEventRow).values(
            booking_id=booking_id, at=datetime.now(UTC), kind=kind, actor=actor, detail=detail,
        ))
        self.changed = True

    def events(self, booking_id: int) -> list[Event]:
        rows = self._session.scalars(
            select(BookingEventRow)
            .where(BookingEventRow.booking_id == booking_id)  # type: ignore[arg-type]
            .order_by(BookingEventRow.id)  # type: ignore[arg-type]
        ).all()
        return [Event(r.booking_id, r.at, r.kind, r.actor, dict(r.detail)) for r in rows]


def _account(row: AccountRow) -> Account:
    return Account(
        id=row.id, name=row.name, display_name=row.display_name, is_admin=row.is_admin,
        slack_id=row.slack_id, discord_id=row.discord_id, limits=dict(row.limits),
        preferred_port=row.preferred_port, image=row.image, command=row.command,
        ssh_keys=row.ssh_keys, timezone=row.timezone,
    )


_ACCOUNT_FIELDS = (
    "name", "display_name", "is_admin", "slack_id", "discord_id", "limits", "preferred_port",
    "image", "command", "ssh_keys", "timezone",
)


class SqlAccounts:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _one(self, *conditions: Any) -> Account | None:
        row = self._session.scalars(select(AccountRow).where(*conditions)).first()
        return _account(row) if row is not None else None

    def get(self, name: str) -> Account | None:
        return self._one(AccountRow.name == name)

    def by_chat_id(self, platform: str, chat_id: str) -> Account | None:
        column = {"slack": AccountRow.slack_id, "discord": AccountRow.discord_id}[platform]
        return self._one(column == chat_id)

    def add(self, account: Account) -> Account:
        row = AccountRow(**{name: getattr(account, name) for name in _ACCOUNT_FIELDS})
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as exc:  # the name or a chat id is taken, perhaps just now
            raise StorageConflict(f"account {account.name}: {exc.orig}") from exc
        account.id = row.id
        return account

    def save(self, account: Account) -> None:
        row = self._session.get(AccountRow, account.id)
        if row is None:
            raise LookupError(f"account {account.name} vanished")
        for name in _ACCOUNT_FIELDS:
            setattr(row, name, getattr(account, name))
        self._session.add(row)
        self._session.flush()

    def all(self) -> list[Account]:
        return [_account(r) for r in self._session.scalars(select(AccountRow)).all()]

    def count(self) -> int:
        return int(self._session.scalars(select(func.count()).select_from(AccountRow)).one())

    def reserved_ports(self, *, except_name: str) -> frozenset[int]:
        ports = self._session.connection().scalars(
            select(AccountRow.preferred_port).where(  # type: ignore[call-overload]
                AccountRow.name != except_name,
                AccountRow.preferred_port.is_not(None),  # type: ignore[union-attr]
            )
        ).all()
        return frozenset(ports)


class SqlConversations:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _row(self, key: str) -> ConversationRow | None:
        return self._session.scalars(
            select(ConversationRow).where(ConversationRow.key == key)  # type: ignore[arg-type]
        ).first()

    def load(self, key: str) -> dict[str, Any]:
        row = self._row(key)
        return dict(row.state) if row is not None else {}

    def save(self, key: str, state: dict[str, Any]) -> None:
        row = self._row(key) or ConversationRow(key=key, state={}, updated_at=datetime.now(UTC))
        row.state = dict(state)
        row.updated_at = datetime.now(UTC)
        self._session.add(row)
        self._session.flush()


class SqlUnitOfWork:
    def __init__(self, engine: Engine, server_id: int) -> None:
        self._engine = engine
        self._server_id = server_id

    def __enter__(self) -> SqlUnitOfWork:
        self._session = Session(self._engine, expire_on_commit=False)
        self.bookings = SqlBookings(self._session, self._server_id)
        self.accounts = SqlAccounts(self._session)
        self.conversations = SqlConversations(self._session)
        self.outbox = SqlOutbox(self._session, self._server_id)
        return self

    def __exit__(self, *exc: object) -> None:
        self._session.rollback()
        self._session.close()

    def commit(self) -> None:
        if self.bookings.changed:  # in this transaction: wakes the scheduler at commit
            announce_change(self._session, self._server_id)
        self._session.commit()
        self.bookings.changed = False


def ensure_server(engine: Engine, name: str) -> int:
    """The id of the configured server's row, created on first start."""
    with Session(engine) as session:
        row = session.scalars(select(ServerRow).where(ServerRow.name == name)).first()  # type: ignore[arg-type]
        if row is not None and row.id is not None:
            return row.id
        server = ServerRow(name=name)
        session.add(server)
        session.commit()
        assert server.id is not None
        return server.id

