"""Engine set-up: SQLite (default) or PostgreSQL, and migrations on start."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")

_READING: ContextVar[bool] = ContextVar("reading", default=False)


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside only read: on SQLite they do not wait for the write lock
    (for answers that must come at once, such as Discord's autocomplete)."""
    token = _READING.set(True)
    try:
        yield
    finally:
        _READING.reset(token)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # Connections are opened only as threads need them: the chat adapters' handlers, the
    # scheduler's workers (scheduler.workers), the outbox, the idle and pool watches. The
    # default 5 + 10 left members waiting for a connection when dozens booked at once
    # (tests/perf/bench_pool.py); 40 stays well inside PostgreSQL's default 100 for a
    # chat host and a few scheduling hosts, which use far fewer.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30)


# The database holds every member's account and keys: only the service's user reads it.
DATABASE_MODE = 0o600


def _private_file(path: Path) -> None:
    """Create `path` as an empty 0600 file, or make an existing one 0600."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, DATABASE_MODE)
    except OSError:
        return  # not ours to open: SQLite says so in its own words when it connects
    try:
        if os.fstat(fd).st_uid == os.geteuid():  # only its owner may change its mode
            os.fchmod(fd, DATABASE_MODE)
    finally:
        os.close(fd)


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        path.parent.mkdir(parents=True, exist_ok=True)
        _private_file(path)
        # SQLite creates its -wal and -shm files with the database file's mode;
        # ones left from before are tightened too.
        for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            if extra.exists():
                _private_file(extra)
    # The driver's own transaction handling is turned off so that every
    # transaction starts with BEGIN IMMEDIATE: writers queue on the database
    # lock up front instead of failing when a read turns into a write.
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: a committed booking survives a power cut (NORMAL could lose the
        # last commits in WAL mode); it costs one fsync per booking.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Inside `reading()` a transaction reads a WAL snapshot, not queued behind a writer.
        connection.exec_driver_sql("BEGIN" if _READING.get() else "BEGIN IMMEDIATE")

    return engine


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
