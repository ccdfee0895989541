"""Wakes `booking serve`'s scheduler when any process changed a booking.

PostgreSQL: the transaction that changes a booking also sends `NOTIFY` on its
server's channel (`announce_change`, called by the unit of work before it
commits), so the notification goes out at commit and never for a rollback; the
scheduler's feed `LISTEN`s on a dedicated connection and wakes at once.

SQLite: `PRAGMA data_version`, read on a dedicated connection, changes whenever
another connection, in any process, committed a change to the database file. The
feed polls it every second; it needs no write in the booking's transaction. It
fires for any commit (an outbox delivery, a conversation step) as well, which
only costs the scheduler a look at its bookings.

Either feed may report a change that did not happen (after a reconnect, for
example); it never misses one it could see. The scheduler's periodic reconcile
pass stays the safety net.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from typing import Any

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
CLOSE_CHECK_SECONDS = 0.2


def channel(server_id: int) -> str:
    return f"booking_changes_{int(server_id)}"


def announce_change(session: Session, server_id: int) -> None:
    """In the transaction that changed a booking of `server_id`: tell the scheduler.

    PostgreSQL delivers the notification when the transaction commits (once,
    however often it was sent in it). SQLite needs nothing: the commit itself
    changes what `PRAGMA data_version` reads elsewhere.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel(server_id)})


class DatabaseChangeFeed:
    """Base of the feeds. `close()` may come from any thread: it stops a waiting SQLite poll at once, and
    lets go of the connection as soon as no `wait` is using it."""

    def __init__(self) -> None:
        self._closed = threading.Event()
        self._using = threading.Lock()  # held while a `wait` talks to the database
        self._connection: Any = None

    def wait(self, timeout: float) -> bool:
        raise NotImplementedError

    def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def close(self) -> None:
        self._closed.set()
        with self._using:
            self._disconnect()


class SqliteChangeFeed(DatabaseChangeFeed):
    """Polls `PRAGMA data_version` of an SQLite database file."""

    def __init__(self, database: str, *, poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__()
        self._database = database
        self._poll = poll_seconds
        self._version: int | None = None

    def wait(self, timeout: float) -> bool:
        """True when the database changed since the last call (and on the first call)."""
        if self._closed.wait(min(timeout, self._poll)):
            return False
        with self._using:
            if self._closed.is_set():
                return False
            try:
                if self._connection is None:
                    # Autocommit: no transaction is ever left open, so each read is fresh.
                    self._connection = sqlite3.connect(
                        self._database, timeout=30, isolation_level=None,
                        check_same_thread=False)
                version = int(self._connection.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error as exc:
                log.warning("cannot read the database's change marker (%s); will retry", exc)
                self._disconnect()
                self._version = None
                return False
        # A new connection starts its own count: the first read after one reports a change.
        changed, self._version = version != self._version, version
        return changed


class PostgresChangeFeed(DatabaseChangeFeed):
    """LISTENs on the server's channel, on a connection of its own."""

    def __init__(self, engine: Engine, server_id: int) -> None:
        super().__init__()
        self._engine = engine
        self._channel = channel(server_id)

    def _connect(self) -> None:
        raw = self._engine.raw_connection()
        connection = raw.driver_connection
        raw.detach()  # ours alone: it never goes back to the pool
        if not isinstance(connection, psycopg.Connection):
            raise TypeError(f"not a psycopg connection: {connection!r}")
        self._connection = connection
        connection.autocommit = True
        connection.execute(f'LISTEN "{self._channel}"')

    def wait(self, timeout: float) -> bool:
        """True when a booking changed, and after (re)connecting: changes may have been
        missed while not listening."""
        with self._using:
            if self._closed.is_set():
                return False
            if self._connection is not None:
                return self._listen(timeout)
            try:
                self._connect()
                return True
            except Exception as exc:  # the database is away; try again next time
                log.warning("cannot listen for booking changes (%s); will retry", exc)
                self._disconnect()
        self._closed.wait(timeout)
        return False

    def _listen(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        try:
            while not self._closed.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                # In slices, so that `close()` need not wait out the whole timeout.
                slice_ = min(remaining, CLOSE_CHECK_SECONDS)
                if any(True for _ in self._connection.notifies(timeout=slice_, stop_after=1)):
                    # One look at the bookings covers every change sent meanwhile.
                    for _ in self._connection.notifies(timeout=0):
                        pass
                    return True
            return False
        except psycopg.Error as exc:
            log.warning("lost the connection listening for booking changes (%s)", exc)
            self._disconnect()
            return False


class _NoChanges(DatabaseChangeFeed):
    """A private in-memory database: no other process can change it."""

    def wait(self, timeout: float) -> bool:
        self._closed.wait(timeout)
        return False


def change_feed(engine: Engine, server_id: int) -> DatabaseChangeFeed:
    """The feed for the engine's database (see the module's docstring)."""
    url = make_url(str(engine.url))
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return _NoChanges()
        return SqliteChangeFeed(url.database)
    return PostgresChangeFeed(engine, server_id)
