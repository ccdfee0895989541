"""The SQL unit of work: repositories over one session, one transaction.

The session never commits on its own; `commit()` is the only way out that
keeps changes, so "check capacity, then insert" is one transaction.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.domain.allocation import Span, micros
from core.domain.model import HOLDING, Account, Booking, Event, Resources, Status, new_password_salt
from core.services.ports import StorageConflict
from storage.change_signal import announce_change
from storage.heartbeat import SqlHeartbeats
from storage.maintenance import SqlMaintenance
from storage.outbox import SqlOutbox
from storage.tables import (
    HOLDING_LENGTH_SQL,
    HOLDING_STATUS_SQL,
    OWN_PORT_SQL,
    AccountRow,
    BookingEventRow,
    BookingRow,
    ConversationRow,
    ServerRow,
)
from storage.waitlist import SqlWaitlist

_HOLDING = [status.value for status in HOLDING]

def _gpu_text(ids: tuple[int, ...]) -> str:
    return ",".join(str(i) for i in ids)


def _gpu_ids(text_value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text_value.split(",") if part)


# The SQLite text form of SQLAlchemy's DateTime (what UTCDateTime stores there): the
# driver-level statements below bind times in exactly this form, so comparisons in
# SQL and the indexes see what the ORM and Core statements write.
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class _Driver:
    """The unit of work's own DBAPI connection, for the fixed statements on the booking
    decision's path (account, spans, insert, event, port and save): no statement
    compilation, cache-key or result-processing layer around each one. Each statement is
    written once with `:name` parameters; PostgreSQL (psycopg) gets them as `%(name)s`.

    It goes through `session.connection()` each time, so it is always the session's
    connection inside the session's transaction (SQLite: begun with BEGIN IMMEDIATE), and
    commit and rollback stay the session's. Whatever a repository reads or writes this
    way it never reads or writes through the ORM as well (no identity map to go stale).
    """

    _PG_STATEMENTS: ClassVar[dict[str, str]] = {}

    def __init__(self, session: Session) -> None:
        self._session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"

    def execute(self, statement: str, params: dict[str, Any]) -> Any:
        dbapi = self._session.connection().connection.driver_connection
        assert dbapi is not None
        if not self.sqlite:
            converted = self._PG_STATEMENTS.get(statement)
            if converted is None:
                converted = self._PG_STATEMENTS[statement] = re.sub(
                    r"(?<!:):(\w+)", r"%(\1)s", statement
                )
            statement = converted
        cursor = dbapi.cursor()
        cursor.execute(statement, params)
        return cursor

    def time(self, moment: datetime) -> Any:
        """A time as a parameter: SQLite's stored text, or the aware time for psycopg."""
        if moment.utcoffset() is None:
            raise ValueError("times must be aware")
        return moment.astimezone(UTC).strftime(_SQLITE_TIME) if self.sqlite else moment

    def json(self, value: Any) -> str:
        return json.dumps(value)


class SqlBookings:
    def __init__(self, session: Session, server_id: int, driver: _Driver, *,
                 whole_pool: bool = False) -> None:
        self._session = session
        self._server_id = server_id
        self._whole_pool = whole_pool
        self._driver = driver
        self.changed = False  # a booking was added, saved or had an event recorded

    def lock_server(self) -> None:
        # SQLite already holds the database write lock (BEGIN IMMEDIATE);
        # PostgreSQL takes the server's row lock for the rest of the transaction.
        if not self._driver.sqlite:
            self._driver.execute(
                "SELECT id FROM server WHERE id = :server FOR UPDATE", {"server": self._server_id}
            ).fetchall()

    # Plain columns, not ORM entities: the overlap query is on the hot path of
    # every decision and needs no identity map.
    _COLUMNS = (
        BookingRow.id, AccountRow.name, BookingRow.status, BookingRow.start_at,
        BookingRow.end_at, BookingRow.cpus, BookingRow.memory, BookingRow.gpus,
        BookingRow.gpu_ids, BookingRow.port, BookingRow.image, BookingRow.command,
        BookingRow.password_salt, ServerRow.name,
    )

    def _query(self, *conditions: Any) -> list[Booking]:
        statement = (
            select(*self._COLUMNS)  # type: ignore[call-overload]
            .join(AccountRow, AccountRow.id == BookingRow.account_id)
            .join(ServerRow, ServerRow.id == BookingRow.server_id)
            .where(*conditions)
        )
        return [
            Booking(
                id=row_id, account=account, status=Status(status), start=start, end=end,
                resources=Resources(cpus, memory, gpus), gpu_ids=_gpu_ids(gpu_ids), port=port,
                image=image, command=command, password_salt=salt, server=server,
            )
            for (row_id, account, status, start, end, cpus, memory, gpus, gpu_ids, port, image,
                 command, salt, server) in self._session.execute(
                    statement if self._whole_pool
                    else statement.where(BookingRow.server_id == self._server_id))
        ]

    def holding_between(self, start: datetime, end: datetime) -> list[Booking]:
        return self._query(
            BookingRow.end_at > start,
            BookingRow.start_at < end,
            BookingRow.status.in_(_HOLDING),  # type: ignore[attr-defined]
        )

    # The decision's read: exactly the Span tuples it sweeps, times as the integers the
    # database generates (start_us, end_us; migration 0006), holding statuses spelled out
    # (literal, not bound: SQLite uses a partial index only when the query names the index's
    # own condition) so that the partial index ix_booking_holding serves the query and past
    # bookings stay out. On SQLite, a booking that starts before the window's end also ends
    # before the window's end plus the longest holding booking (read from
    # ix_booking_holding_length at once): so the query reads a bounded range of ends, not
    # every later booking (PostgreSQL's planner does better without it). No ORDER BY: with
    # one, SQLite (without ANALYZE statistics) may pick another index; callers sort.
    _SPANS = (
        "SELECT id, account_id, start_us, end_us, cpus, memory, gpu_ids, port FROM booking "
        f"WHERE server_id = :server AND end_us > :start AND start_us < :end AND {HOLDING_STATUS_SQL}"
    )
    _SPANS_SQLITE = (
        f"{_SPANS} AND end_us < :end + (SELECT max{HOLDING_LENGTH_SQL} FROM booking "
        f"WHERE server_id = :server AND {HOLDING_STATUS_SQL})"
    )

    def spans_between(self, start: datetime, end: datetime) -> list[Span]:
        driver = self._driver
        rows = driver.execute(
            self._SPANS_SQLITE if driver.sqlite else self._SPANS,
            {"server": self._server_id, "start": micros(start), "end": micros(end)},
        )
        return rows.fetchall()

    _POOL_SPANS = (
        "SELECT server.name, booking.id, account_id, start_us, end_us, cpus, memory, gpu_ids, "
        "port FROM booking JOIN server ON server.id = booking.server_id "
        f"WHERE end_us > :start AND start_us < :end AND {HOLDING_STATUS_SQL}"
    )

    def pool_spans_between(self, start: datetime, end: datetime) -> dict[str, list[Span]]:
        """`spans_between` for every server of the pool at once, by server name (what a
        request that names no server reads to choose one)."""
        found: dict[str, list[Span]] = {}
        for server, *span in self._driver.execute(
                self._POOL_SPANS, {"start": micros(start), "end": micros(end)}).fetchall():
            found.setdefault(server, []).append(tuple(span))
        return found

    def get(self, booking_id: int) -> Booking | None:
        found = self._query(BookingRow.id == booking_id)
        return found[0] if found else None

    def server_of(self, booking_id: int) -> str | None:
        """The name of the server booking `booking_id` is on, whichever server that is."""
        row = self._driver.execute(
            "SELECT server.name FROM booking JOIN server ON server.id = booking.server_id "
            "WHERE booking.id = :id", {"id": booking_id}).fetchone()
        return None if row is None else str(row[0])

    def add(self, booking: Booking) -> Booking:
        if booking.password_salt is None:  # a new booking always gets a fresh one
            booking.password_salt = new_password_salt()
        driver = self._driver
        cursor = driver.execute(self._INSERT, {
            "server": self._server_id, "account": booking.account, "status": booking.status.value,
            "start": driver.time(booking.start), "end": driver.time(booking.end),
            "cpus": booking.resources.cpus, "memory": booking.resources.memory,
            "gpus": booking.resources.gpus, "gpu_ids": _gpu_text(booking.gpu_ids),
            "port": booking.port, "image": booking.image, "command": booking.command,
            "created": driver.time(datetime.now(UTC)), "salt": booking.password_salt,
        })
        booking.id = int(cursor.fetchone()[0])
        self.changed = True
        return booking

    # Booking rows are written only by these driver-level statements (never through the
    # ORM), so no ORM object of a booking can go stale within a unit of work.
    _INSERT = (
        "INSERT INTO booking (server_id, account_id, status, start_at, end_at, cpus, memory, "
        "gpus, gpu_ids, port, image, command, created_at, password_salt) VALUES (:server, "
        "(SELECT id FROM account WHERE name = :account), :status, :start, :end, :cpus, :memory, "
        ":gpus, :gpu_ids, :port, :image, :command, :created, :salt) RETURNING id"
    )
    _SAVE = (
        "UPDATE booking SET status = :status, start_at = :start, end_at = :end, "
        "gpu_ids = :gpu_ids, port = :port WHERE id = :id"
    )

    def save(self, booking: Booking) -> None:
        driver = self._driver
        cursor = driver.execute(self._SAVE, {
            "status": booking.status.value, "start": driver.time(booking.start),
            "end": driver.time(booking.end), "gpu_ids": _gpu_text(booking.gpu_ids),
            "port": booking.port, "id": booking.id,
        })
        if cursor.rowcount != 1:
            raise LookupError(f"booking {booking.id} vanished")
        self.changed = True

    def of_account(self, account: str, *, after: datetime | None) -> list[Booking]:
        conditions: list[Any] = [AccountRow.name == account]
        if after is not None:
            conditions.append(BookingRow.end_at > after)
        return self._query(*conditions)

    def all_after(self, after: datetime) -> list[Booking]:
        return self._query(BookingRow.end_at > after)

    def record(self, booking_id: int, kind: str, actor: str | None, **detail: Any) -> None:
        # Inserted now (not an ORM object flushed at commit): events keep call order.
        driver = self._driver
        driver.execute(
            "INSERT INTO booking_event (booking_id, at, kind, actor, detail) "
            "VALUES (:booking, :at, :kind, :actor, :detail)",
            {"booking": booking_id, "at": driver.time(datetime.now(UTC)), "kind": kind,
             "actor": actor, "detail": driver.json(detail)},
        )
        self.changed = True

    def events(self, booking_id: int) -> list[Event]:
        rows = self._session.scalars(
            select(BookingEventRow)
            .where(BookingEventRow.booking_id == booking_id)  # type: ignore[arg-type]
            .order_by(BookingEventRow.id)  # type: ignore[arg-type]
        ).all()
        return [Event(r.booking_id, r.at, r.kind, r.actor, dict(r.detail)) for r in rows]


_ACCOUNT_FIELDS = (
    "name", "display_name", "is_admin", "slack_id", "discord_id", "limits", "preferred_port",
    "image", "command", "ssh_keys", "timezone",
)
_ACCOUNT_SELECT = "SELECT id, " + ", ".join(_ACCOUNT_FIELDS) + " FROM account"
_ACCOUNT_SAVE = (
    "UPDATE account SET " + ", ".join(f"{name} = :{name}" for name in _ACCOUNT_FIELDS)
    + " WHERE id = :id"
)


def _account(row: tuple[Any, ...]) -> Account:
    (row_id, name, display_name, is_admin, slack_id, discord_id, limits, preferred_port, image,
     command, ssh_keys, timezone) = row
    return Account(
        id=row_id, name=name, display_name=display_name, is_admin=bool(is_admin),
        slack_id=slack_id, discord_id=discord_id, limits=dict(_json_value(limits)),
        preferred_port=preferred_port, image=image, command=command, ssh_keys=ssh_keys,
        timezone=timezone,
    )


class SqlAccounts:
    """Accounts, read and written only with driver-level statements (see _Driver): every
    read sees every write of the unit of work, with no ORM identity map in between."""

    def __init__(self, session: Session, driver: _Driver) -> None:
        self._session = session
        self._driver = driver

    def _one(self, condition: str, value: Any) -> Account | None:
        row = self._driver.execute(f"{_ACCOUNT_SELECT} WHERE {condition} = :value",
                                   {"value": value}).fetchone()
        return _account(row) if row is not None else None

    def get(self, name: str) -> Account | None:
        return self._one("name", name)

    def by_chat_id(self, platform: str, chat_id: str) -> Account | None:
        column = {"slack": "slack_id", "discord": "discord_id"}[platform]
        return self._one(column, chat_id)

    def _values(self, account: Account) -> dict[str, Any]:
        values = {name: getattr(account, name) for name in _ACCOUNT_FIELDS}
        values["limits"] = self._driver.json(account.limits)
        return values

    def add(self, account: Account) -> Account:
        # A Core statement, so that a taken name or chat id arrives as SQLAlchemy's
        # IntegrityError whatever the driver.
        statement = insert(AccountRow).values(  # type: ignore[call-overload]
            **{name: getattr(account, name) for name in _ACCOUNT_FIELDS}
        ).returning(AccountRow.id)
        try:
            account.id = int(self._session.connection().execute(statement).scalar_one())
        except IntegrityError as exc:  # the name or a chat id is taken, perhaps just now
            raise StorageConflict(f"account {account.name}: {exc.orig}") from exc
        return account

    def save(self, account: Account) -> None:
        cursor = self._driver.execute(_ACCOUNT_SAVE, {**self._values(account), "id": account.id})
        if cursor.rowcount != 1:
            raise LookupError(f"account {account.name} vanished")

    def all(self) -> list[Account]:
        return [_account(row) for row in self._driver.execute(_ACCOUNT_SELECT, {}).fetchall()]

    def count(self) -> int:
        return int(self._driver.execute("SELECT count(*) FROM account", {}).fetchone()[0])

    def reserved_ports(self, *, except_name: str) -> frozenset[int]:
        rows = self._driver.execute(
            f"SELECT preferred_port FROM account WHERE {OWN_PORT_SQL} AND name != :name",
            {"name": except_name},
        ).fetchall()
        return frozenset(port for (port,) in rows)


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
    """One transaction on the bookings of server `server_id`. `whole_pool`: the outbox and
    the bookings read are every server's, for delivering a pool's messages from the host
    that runs the chat adapters; never for decisions (which read one server's bookings)."""

    def __init__(self, engine: Engine, server_id: int, *, whole_pool: bool = False) -> None:
        self._engine = engine
        self._server_id = server_id
        self._whole_pool = whole_pool

    def __enter__(self) -> SqlUnitOfWork:
        self._session = Session(self._engine, expire_on_commit=False)
        driver = _Driver(self._session)
        self.bookings = SqlBookings(self._session, self._server_id, driver,
                                    whole_pool=self._whole_pool)
        self.accounts = SqlAccounts(self._session, driver)
        self.conversations = SqlConversations(self._session)
        self.outbox = SqlOutbox(self._session, self._server_id, whole_pool=self._whole_pool)
        self.waitlist = SqlWaitlist(self._session, self._server_id)
        self.maintenance = SqlMaintenance(self._server_id, driver)
        self.heartbeats = SqlHeartbeats(self._session)
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

