"""The pool's health threads for `booking serve --server NAME` (issue 14): this host's
heartbeat, and the pool watch that tells admins and members when a server goes quiet or
comes back (core/services/pool_watch.py). A database error is logged and tried again at the
next beat or check; it never ends the thread."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from core.domain.server_health import ServerHealth
from core.services.pool_watch import PoolWatch
from storage.heartbeat import record_heartbeat

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def start_heartbeat(engine: Engine, server_id: int, gpus: int | None, stop: threading.Event,
                    every: float = 10.0, clock: Callable[[], datetime] = _utcnow,
                    nvlinks: frozenset[frozenset[int]] = frozenset()) -> threading.Thread:
    """Beat at once, then every `every` seconds until `stop` is set, with this host's GPU
    count and NVLink pairs (the other hosts decide for this server with them)."""
    host = socket.gethostname()[:255] or None

    def beat() -> None:
        failing = False
        while True:
            try:
                record_heartbeat(engine, server_id, gpus=gpus, host=host, now=clock(),
                                 nvlinks=nvlinks)
                if failing:
                    log.info("heartbeat of server %s recorded again", server_id)
                failing = False
            except Exception as exc:  # the database is away: the next beat tries again
                if not failing:
                    log.warning("heartbeat of server %s not recorded (will retry): %s",
                                server_id, exc)
                failing = True
            if stop.wait(every):
                return

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    return thread


def start_pool_watch(watch: PoolWatch, stop: threading.Event, every: float = 15.0,
                     heard: Callable[[list[ServerHealth]], None] | None = None,
                     ) -> threading.Thread:
    """Run `watch.check()` every `every` seconds until `stop` is set (the first after one wait,
    so that this host's own first beat is in); then `heard` gets every server's health."""

    def run() -> None:
        while not stop.wait(every):
            try:
                for told in watch.check():
                    log.info("pool: told admins %s", told)
                if heard is not None:
                    heard(watch.health())
            except Exception as exc:
                log.warning("pool watch check failed (will retry): %s", exc)

    thread = threading.Thread(target=run, name="pool-watch", daemon=True)
    thread.start()
    return thread
