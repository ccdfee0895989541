"""Heartbeats of a pool's servers for the chat tests (issue 14): what `booking serve
--server NAME` records every few seconds, recorded here at a chosen age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from storage.engine import make_engine
from storage.heartbeat import record_heartbeat
from storage.uow import ensure_server


def beat(engine: Engine, server: str, ago: timedelta = timedelta(0)) -> datetime:
    """Record that `server`'s serve beat `ago` before now; the moment it beat."""
    at = datetime.now(UTC) - ago
    record_heartbeat(engine, ensure_server(engine, server), gpus=None, host=f"{server}.lab.test",
                     now=at)
    return at


def beat_sqlite(database: Path, server: str, ago: timedelta = timedelta(0)) -> datetime:
    """The same on the SQLite file a `booking` process uses."""
    engine = make_engine(f"sqlite:///{database}")
    try:
        return beat(engine, server, ago)
    finally:
        engine.dispose()
