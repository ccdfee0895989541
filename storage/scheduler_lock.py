"""Only one scheduler acts on a server's bookings at a time.

SQLite: an exclusive `flock` on a file beside the database. PostgreSQL: a
session advisory lock held on a dedicated connection. Either is released by
the operating system or the server when the process dies, even by kill -9.
`release` unlocks explicitly: a closed SQLAlchemy connection goes back to the
pool with its session, and the session's advisory lock, still alive.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

_ADVISORY_CLASS = 0x5B0C  # first key of pg_try_advisory_lock(int, int): "booking"


class SchedulerLock:
    def __init__(self, fd: int | None = None, connection: Connection | None = None,
                 server_id: int = 0) -> None:
        self._fd = fd
        self._connection = connection
        self._server_id = server_id

    def ensure(self, engine: Engine) -> bool:
        """Whether this process still holds the lock.

        A PostgreSQL lock lives as long as its session: when the connection
        was lost (a server restart, a network cut) the lock went with it, and
        another scheduler may have taken it. Take it again if nobody did.
        """
        if self._connection is None:
            return True  # the flock lives as long as this process
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except DBAPIError:
            self._connection.invalidate()
            self._connection.close()
            self._connection = None
        log.warning("the database connection holding the scheduler lock was lost; taking it again")
        again = try_scheduler_lock(engine, self._server_id)
        if again is None:
            return False
        self._connection, again._connection = again._connection, None
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None
        if self._connection is not None:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:kind, :server)"),
                    {"kind": _ADVISORY_CLASS, "server": self._server_id},
                )
                self._connection.commit()
            except DBAPIError:  # the session is gone, and its lock with it
                self._connection.invalidate()
            self._connection.close()
            self._connection = None


def try_scheduler_lock(engine: Engine, server_id: int) -> SchedulerLock | None:
    """The lock, or None while another scheduler holds it."""
    url = make_url(str(engine.url))
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return SchedulerLock()
        path = Path(f"{url.database}.scheduler-{server_id}.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return SchedulerLock(fd=fd)
    connection = engine.connect()
    got = connection.execute(
        text("SELECT pg_try_advisory_lock(:kind, :server)"),
        {"kind": _ADVISORY_CLASS, "server": server_id},
    ).scalar()
    connection.commit()
    if not got:
        connection.close()
        return None
    return SchedulerLock(connection=connection, server_id=server_id)
