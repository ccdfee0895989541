"""Booking decision latency on SQLite, next to a bare insert+commit.

    .venv/bin/python tests/perf/bench_booking.py [--past 100000] [--future 1000] [--runs 300]

Prints p50/p99 of `BookingService.book` (parse, checks, lock, overlap query,
GPU and port choice, insert, event, commit) with `--future` upcoming and
`--past` finished bookings in the database, and of a bare SQLite
INSERT+COMMIT on the same file with the same settings. Run it with
`--past 0` too: the decision time should not grow with history.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from bot.bootstrap import Environment, build
from core.domain import Refusal, Resources
from core.service import BookingRequest
from storage.engine import make_engine
from storage.tables import AccountRow, BookingRow, ServerRow
from tests.factories import write_config


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def preload(url: str, *, members: int, past: int, future: int) -> None:
    engine = make_engine(url)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rng = random.Random(7)
    with engine.begin() as connection:
        server_id = connection.execute(text("SELECT id FROM server")).scalar_one()
        connection.execute(insert(AccountRow), [
            {"name": f"m{i}", "display_name": f"m{i}", "is_admin": False, "limits": {},
             "ssh_keys": ""} for i in range(members)])
        ids = [r[0] for r in connection.execute(text("SELECT id FROM account"))]
        rows = []
        for n in range(past + future):
            if n < past:
                start = now - timedelta(days=400) + timedelta(minutes=30 * rng.randrange(18000))
                status = rng.choice(["finished", "cancelled", "failed"])
            else:
                start = now + timedelta(minutes=30 * rng.randrange(1, 600))
                status = "booked"
            rows.append({
                "server_id": server_id, "account_id": ids[n % len(ids)], "status": status,
                "start_at": start, "end_at": start + timedelta(hours=rng.choice([2, 6, 24])),
                "cpus": 1.0, "memory": 1, "gpus": 0, "gpu_ids": "", "port": 10001 + n % 40000,
                "image": "lab/gpu:latest", "command": None, "created_at": start,
            })
        for chunk in range(0, len(rows), 10000):
            connection.execute(insert(BookingRow), rows[chunk:chunk + 10000])
    assert ServerRow is not None
    engine.dispose()


def bench_decisions(app, runs: int, members: int) -> list[float]:  # type: ignore[no-untyped-def]
    rng = random.Random(11)
    times = []
    refusals: dict[str, int] = {}
    for n in range(runs):
        start = datetime.now(UTC) + timedelta(days=rng.randrange(1, 13))
        local = start.astimezone(app.service.zone_of(None))
        request = BookingRequest(
            user=f"m{members - 1 - n}", resources=Resources(1, 1, rng.choice([0, 1])),
            start=f"{local:%Y %m %d %H} 00", end="1-day",
        )
        began = time.perf_counter()
        try:
            app.service.book(request)
        except Refusal as refusal:
            refusals[refusal.code.value] = refusals.get(refusal.code.value, 0) + 1
        times.append(time.perf_counter() - began)
    print(f"{runs - sum(refusals.values())} booked, refused: {refusals or 'none'}")
    return times


def bench_bare_insert(path: Path, runs: int) -> list[float]:
    import sqlite3

    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE IF NOT EXISTS bare (id INTEGER PRIMARY KEY, a TEXT, b REAL)")
    times = []
    for n in range(runs):
        began = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO bare (a, b) VALUES (?, ?)", (f"row {n}", n / 3))
        connection.execute("COMMIT")
        times.append(time.perf_counter() - began)
    connection.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--past", type=int, default=100_000)
    parser.add_argument("--future", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    members = args.future + args.runs + 10
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        config = write_config(
            Path(folder) / "booking.yaml",
            capacity={"cpus": 100000, "ram": 100000, "swap": 0, "gpus": 8},
            booking={"ports": [10001, 60000]},
            limits={"default": {"cpus": 8, "memory": 32, "gpus": 1}, "users": {}},
        )
        url = f"sqlite:///{db}"
        app = build(Environment(booking_config=config, booking_database_url=url))
        began = time.perf_counter()
        preload(url, members=members, past=args.past, future=args.future)
        print(f"preloaded {args.past} past and {args.future} future bookings, {members} members "
              f"in {time.perf_counter() - began:.1f} s")
        decisions = bench_decisions(app, args.runs, members)
        bare = bench_bare_insert(db, args.runs)
    p50, p99 = percentile(decisions, 0.5), percentile(decisions, 0.99)
    b50, b99 = percentile(bare, 0.5), percentile(bare, 0.99)
    print(f"booking decision: p50 {p50 * 1000:.2f} ms  p99 {p99 * 1000:.2f} ms  "
          f"(mean {statistics.mean(decisions) * 1000:.2f} ms, {args.runs} runs)")
    print(f"bare insert+commit: p50 {b50 * 1000:.2f} ms  p99 {b99 * 1000:.2f} ms")
    print(f"ratio p50: {p50 / b50:.1f}x (target: within 3x)")


if __name__ == "__main__":
    main()
