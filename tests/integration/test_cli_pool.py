"""The `booking` command line in a pool of two servers (issue 14): real processes, SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.heartbeats import beat_sqlite
from tests.support.pool_config import write_pool_config


@pytest.fixture
def booking(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = write_pool_config(tmp_path / "booking.yaml")
    env = {**os.environ, "BOOKING_CONFIG": str(config),
           "BOOKING_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'booking.db'}"}
    env.pop("BOOKING_SERVER", None)

    def run(*args: str):  # type: ignore[no-untyped-def]
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=120)
    return run


def test_book_on_a_named_server_and_json_names_it(booking) -> None:  # type: ignore[no-untyped-def]
    assert booking("users", "add", "bob").returncode == 0
    made = booking("book", "--user", "bob", "--cpus", "4", "--memory", "16", "--gpus", "1",
                   "--start", "now", "--end", "1-day", "--server", "gpu2", "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["server"] == "gpu2"
    listing = booking("ls")
    assert listing.stdout.startswith("#1 on gpu2 [booked] bob:"), listing.stdout
    unnamed = booking("book", "--user", "bob", "--cpus", "4", "--memory", "16", "--gpus", "1",
                      "--start", "2-day", "--end", "1-day")
    assert unnamed.returncode == 0, unnamed.stderr
    assert unnamed.stdout.startswith("Booked: #2 on gpu"), unnamed.stdout


def test_an_unknown_server_is_refused_with_the_names(booking) -> None:  # type: ignore[no-untyped-def]
    booking("users", "add", "bob")
    refused = booking("book", "--user", "bob", "--cpus", "4", "--memory", "16", "--gpus", "1",
                      "--start", "now", "--end", "1-day", "--server", "gpu9")
    assert refused.returncode == 1
    assert "There is no server `gpu9`; the servers are gpu1, gpu2." in refused.stdout + refused.stderr


def test_maintenance_on_one_server(booking) -> None:  # type: ignore[no-untyped-def]
    added = booking("maintenance", "add", "--start", "2-day", "--end", "1-day", "--reason",
                    "new fans", "--yes", "--server", "gpu2")
    assert added.returncode == 0, added.stderr
    listed = booking("maintenance", "ls")
    assert "new fans" in listed.stdout, listed.stdout
    assert listed.stdout.startswith("#1 on gpu2: Maintenance of the whole server from "), listed.stdout


def test_capacity_says_which_server_is_down_and_json_has_up_and_seen_at(booking, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert booking("users", "add", "bob").returncode == 0  # the database exists from here
    database = tmp_path / "db" / "booking.db"
    beat_sqlite(database, "gpu1")
    silent = beat_sqlite(database, "gpu2", timedelta(minutes=2))
    shown = booking("capacity")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[:2] == ["2 servers: gpu1, gpu2", "gpu1: up"], lines[:3]
    assert lines[2].startswith("gpu2: down, not heard from since "), lines[2]
    assert "gpu1: 62 CPUs, 40 GB, 4 GPUs" in lines, lines
    [down] = [line for line in lines if line.startswith("gpu2 — down")]
    assert down.startswith("gpu2 — down, not heard from since ") and down.endswith(
        " (62 CPUs, 40 GB, 2 GPUs)"), down
    records = json.loads(booking("capacity", "--json").stdout)
    assert {r["server"]: r["up"] for r in records} == {"gpu1": True, "gpu2": False}
    assert {r["seen_at"] for r in records if r["server"] == "gpu2"} == {silent.isoformat()}


def test_waitlist_on_a_named_server_and_listed_with_it(booking) -> None:  # type: ignore[no-untyped-def]
    for name in ("alice", "bob"):
        assert booking("users", "add", name).returncode == 0
    # gpu2 (2 GPUs) is full for the next day; gpu1 is empty.
    held = booking("book", "--user", "alice", "--cpus", "1", "--memory", "1", "--gpus", "2",
                   "--start", "now", "--end", "1-day", "--server", "gpu2")
    assert held.returncode == 0, held.stderr
    waiting = booking("waitlist", "add", "--user", "bob", "--cpus", "1", "--memory", "1",
                      "--gpus", "2", "--start", "now", "--end", "1-day", "--server", "gpu2")
    assert waiting.returncode == 0, waiting.stderr
    assert waiting.stdout.startswith("Waiting: #1 bob: 1 CPU, 1 GB, 2 GPUs for 1 day on gpu2, ")
    assert booking("waitlist", "ls", "--user", "bob").stdout == waiting.stdout.removeprefix(
        "Waiting: ")
    unknown = booking("waitlist", "add", "--user", "bob", "--cpus", "1", "--memory", "1",
                      "--gpus", "1", "--start", "now", "--end", "1-day", "--server", "gpu9")
    assert unknown.returncode == 1
    assert "There is no server `gpu9`; the servers are gpu1, gpu2." in unknown.stderr
