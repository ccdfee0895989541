"""Booking decision latency, next to a bare durable insert+commit (issue 13).

    .venv/bin/python tests/perf/bench_booking.py [--past 100000] [--future 1000] [--runs 300]
                                                 [--postgres URL] [--quick]

Prints, in one run:
- p50/p99 of `BookingService.book` (account read, time parsing, checks, lock, overlap
  read, GPU and port choice, insert, event, commit; refusals include their earliest-fit
  offer) with `--future` upcoming and `--past` finished bookings, and of a bare SQLite
  INSERT+COMMIT (WAL, synchronous=FULL) on the same file; their ratio;
- the same with no past bookings (the decision must not grow with history);
- p50 at 100, 1,000 and 10,000 future bookings, next to the old system's checker on
  the same bookings (see `old_checker`);
- the earliest-fit search over the whole 14-day horizon with 1,000 bookings;
- with `--postgres URL` (or BOOKING_TEST_POSTGRES_URL), the main figures against that
  cluster, in a throwaway database, next to a bare INSERT+COMMIT there.
Numbers on a shared machine are noisy: run it when nothing else runs.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from bot.bootstrap import Environment, build
from core.domain.model import Refusal, Resources
from core.services.capacity import BookingRequest
from storage.engine import make_engine
from storage.tables import AccountRow, BookingRow, ServerRow
from tests.factories import write_config

# The old system's own checker (pandas; GPUs only, no write), median at 100, 1,000 and
# 10,000 future bookings, as issue 13 measured it on this machine. Its code is not here, so
# the run compares with these figures besides the rebuild (`old_checker`).
OLD_SYSTEM_MS = {100: 8.5, 1_000: 53.0, 10_000: 405.0}


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def preload(url: str, *, members: int, past: int, future: int, cpus: float = 1.0) -> None:
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
                "cpus": cpus, "memory": 1, "gpus": 0, "gpu_ids": "", "port": 10001 + n % 40000,
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


def old_checker(booking_csv: str, start: datetime, end: datetime, gpus: int, host_gpus: int) -> bool:
    """The old system's check, rebuilt from seed/developer-api.md (`Checker`): read the
    booking CSV (the old one re-read its CSVs for every check), then for every 30-minute
    block of the window add up the GPUs of every booking that overlaps the block.

    Pure Python (the old one used pandas and numpy, not installed here); GPUs only, no
    write. A stand-in for the comparison the issue asks for, not the old code itself.
    """
    rows = []
    for record in csv.DictReader(io.StringIO(booking_csv)):
        ids = record["gpus"].strip("[]")
        rows.append((datetime.fromisoformat(record["start"]), datetime.fromisoformat(record["end"]),
                     len(ids.split(",")) if ids else 0))
    block = timedelta(minutes=30)
    moment = start
    while moment < end:
        following = moment + block
        used = sum(n for begin, finish, n in rows if begin < following and finish > moment)
        if used + gpus > host_gpus:
            return False
        moment = following
    return True


def old_checker_pandas(booking_csv: str, start: datetime, end: datetime, gpus: int,
                       host_gpus: int) -> bool:
    """`old_checker` the way the old system did it, when pandas and numpy are importable: the
    booking CSV read into a DataFrame (`pd.read_csv`, as the old `Checker` filled
    `booked_df`), then for every 30-minute block a vectorised overlap mask and a sum.
    Still a rebuild from seed/developer-api.md, not the old code itself."""
    import pandas as pd  # not a dependency of this project: used only when present

    frame = pd.read_csv(io.StringIO(booking_csv), parse_dates=["start", "end"])
    counts = frame["gpus"].str.strip("[]").str.split(",").str.len().to_numpy()
    starts, ends = frame["start"].to_numpy(), frame["end"].to_numpy()
    block = pd.Timedelta(minutes=30)
    moment = pd.Timestamp(start)
    finish = pd.Timestamp(end)
    while moment < finish:
        following = moment + block
        mask = (starts < following.to_datetime64()) & (ends > moment.to_datetime64())
        if int(counts[mask].sum()) + gpus > host_gpus:
            return False
        moment = following
    return True


def old_checker_kind() -> str:
    """Which rebuild of the old checker this run compares with."""
    try:
        import numpy  # noqa: F401
        import pandas  # noqa: F401
    except ImportError:
        return "pure-Python"
    return "pandas"


def old_csv(future: int) -> str:
    """`future` bookings in the old booking.csv format (1 GPU each), spread as `preload`'s."""
    rng = random.Random(7)
    now = datetime.now().replace(minute=0, second=0, microsecond=0)
    out = io.StringIO()
    out.write("start,end,user_id,cpus,memory,gpus,forward_port,image,extra_command\n")
    for n in range(future):
        start = now + timedelta(minutes=30 * rng.randrange(1, 600))
        end = start + timedelta(hours=rng.choice([2, 6, 24]))
        out.write(f"{start:%Y-%m-%d %H:%M:%S},{end:%Y-%m-%d %H:%M:%S},s{n},1.0,1,"
                  f"[{n % 8}],{10001 + n % 1000},lab/gpu:latest,\n")
    return out.getvalue()


def bench_old_checker(future: int, runs: int) -> list[float]:
    text_csv = old_csv(future)
    check = old_checker_pandas if old_checker_kind() == "pandas" else old_checker
    rng = random.Random(11)
    times = []
    for _ in range(runs):
        start = datetime.now().replace(minute=0, second=0, microsecond=0) + timedelta(
            days=rng.randrange(1, 13))
        began = time.perf_counter()
        check(text_csv, start, start + timedelta(days=1), 1, 8)
        times.append(time.perf_counter() - began)
    return times


def bench_bare_insert_url(url: str, runs: int) -> list[float]:
    """A bare INSERT + COMMIT through the driver (PostgreSQL)."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS bare (id SERIAL PRIMARY KEY, a TEXT, "
                                "b DOUBLE PRECISION)"))
    times = []
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        for n in range(runs):
            began = time.perf_counter()
            cursor.execute("INSERT INTO bare (a, b) VALUES (%s, %s)", (f"row {n}", n / 3))
            raw.commit()
            times.append(time.perf_counter() - began)
    engine.dispose()
    return times


def setting_up(folder: Path, url: str, *, cpus: float = 100000, limits: str | int = 8):  # type: ignore[no-untyped-def]
    config = write_config(
        folder / "booking.yaml",
        capacity={"cpus": cpus, "ram": 100000, "swap": 0, "gpus": 8},
        booking={"ports": [10001, 60000]},
        limits={"default": {"cpus": limits, "memory": 32, "gpus": 1}, "users": {}},
    )
    return build(Environment(booking_config=config, booking_database_url=url))


def run_decisions(url: str, folder: Path, *, past: int, future: int, runs: int) -> list[float]:
    members = future + runs + 10
    app = setting_up(folder, url)
    began = time.perf_counter()
    preload(url, members=members, past=past, future=future)
    print(f"  preloaded {past} past and {future} future bookings, {members} members "
          f"in {time.perf_counter() - began:.1f} s; ", end="")
    return bench_decisions(app, runs, members)


def bench_earliest(url: str, folder: Path, runs: int) -> tuple[list[float], list[float]]:
    """1,000 bookings over the 14-day horizon (starts in its first 12.5 days); a request
    for all CPUs for a day, which fits only once no booking is left: the earliest-fit
    search goes over the whole horizon."""
    app = setting_up(folder, url, cpus=64, limits="max")
    preload(url, members=1010, past=0, future=1000, cpus=1.0)
    service = app.service
    account = service.account("m1009")
    request = BookingRequest(user="m1009", resources=Resources(64, 1, 0), start="now", end="1-day")
    window = service.parse_window(account, request.start, request.end)
    searches, refusals = [], []
    for _ in range(runs):
        with service.unit() as uow:
            began = time.perf_counter()
            found = service._earliest(uow, account, request, window)
            searches.append(time.perf_counter() - began)
        assert found is None or found - window.start > timedelta(days=10), found
        began = time.perf_counter()
        with contextlib.suppress(Refusal):
            service.book(request)
        refusals.append(time.perf_counter() - began)
    return searches, refusals


def fresh_postgres(server: str, part: str) -> tuple[str, Callable[[], None]]:
    """A throwaway database on `server`, and how to drop it."""
    name = f"booking_bench_{part}_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"{server.rsplit('/', 1)[0]}/{name}", drop


def ms(values: list[float], share: float = 0.5) -> str:
    return f"{percentile(values, share) * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--past", type=int, default=100_000)
    parser.add_argument("--future", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--postgres", default=os.environ.get("BOOKING_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL (its database is left alone)")
    parser.add_argument("--quick", action="store_true", help="only the main figures")
    args = parser.parse_args()
    runs = args.runs
    with tempfile.TemporaryDirectory() as top:
        def folder(name: str) -> Path:
            path = Path(top) / name
            path.mkdir()
            return path

        print(f"SQLite, {args.past} past and {args.future} future bookings:")
        main_folder = folder("main")
        db = main_folder / "bench.db"
        decisions = run_decisions(f"sqlite:///{db}", main_folder, past=args.past,
                                  future=args.future, runs=runs)
        bare = bench_bare_insert(db, runs)
        p50, p99, b50 = percentile(decisions, 0.5), percentile(decisions, 0.99), percentile(bare, 0.5)
        print(f"booking decision: p50 {p50 * 1000:.2f} ms  p99 {p99 * 1000:.2f} ms  "
              f"(mean {statistics.mean(decisions) * 1000:.2f} ms, {runs} runs)")
        print(f"bare insert+commit: p50 {b50 * 1000:.2f} ms  p99 {ms(bare, 0.99)}")
        print(f"ratio p50: {p50 / b50:.1f}x (target: within 10x); p99 target: under 5 ms")
        if args.quick:
            return
        lines = []
        no_past_folder = folder("no-past")
        no_past = run_decisions(f"sqlite:///{no_past_folder / 'bench.db'}", no_past_folder, past=0,
                                future=args.future, runs=runs)
        kind = old_checker_kind()
        lines.append(
            "old checker: a pandas/numpy rebuild of the documented Checker (read_csv, a mask per "
            "30-minute block)" if kind == "pandas" else
            "old checker: a PURE-PYTHON rebuild (pandas/numpy are not installed here; the old "
            "one used them, so its real figures differ): the CSV re-read and every booking summed "
            "per 30-minute block, GPUs only, no write"
        )
        lines.append(f"history: p50 {ms(no_past)} with no past bookings, {ms(decisions)} with "
                     f"{args.past} (target: no growth)")
        for future in (100, 1_000, 10_000):
            size_folder = folder(f"size-{future}")
            at_size = run_decisions(f"sqlite:///{size_folder / 'bench.db'}", size_folder,
                                    past=args.past, future=future, runs=runs)
            old = bench_old_checker(future, max(5, min(runs, 3_000_000 // (48 * future + 1))))
            faster = percentile(old, 0.5) / percentile(at_size, 0.5)
            lines.append(f"{future:>6} future: p50 {ms(at_size)}  p99 {ms(at_size, 0.99)}  "
                         f"old checker ({kind}) p50 {ms(old)}  ({faster:.0f}x)"
                         + ("  (targets at 10,000: p50 under 3 ms, 100x)" if future == 10_000 else ""))
            issue = OLD_SYSTEM_MS[future] / (percentile(at_size, 0.5) * 1000)
            lines.append(f"{'':>6} the old system's own checker, as issue 13 measured it: "
                         f"{OLD_SYSTEM_MS[future]:g} ms ({issue:.0f}x)")
        earliest_folder = folder("earliest")
        searches, refusals = bench_earliest(f"sqlite:///{earliest_folder / 'bench.db'}",
                                            earliest_folder, min(runs, 100))
        lines.append(f"earliest fit over the 14-day horizon, 1,000 bookings: p50 {ms(searches)}  "
                     f"p99 {ms(searches, 0.99)} (target: under 2 ms); the refusal with it: "
                     f"p50 {ms(refusals)}")
        print("\n".join(lines))
        if args.postgres:
            print(f"PostgreSQL ({make_url_safe(args.postgres)}), {args.past} past and "
                  f"{args.future} future bookings:")
            url, drop = fresh_postgres(args.postgres, "main")
            try:
                pg = run_decisions(url, folder("pg"), past=args.past, future=args.future, runs=runs)
                pg_bare = bench_bare_insert_url(url, runs)
            finally:
                drop()
            url, drop = fresh_postgres(args.postgres, "earliest")
            try:
                pg_searches, _ = bench_earliest(url, folder("pg-earliest"), min(runs, 100))
            finally:
                drop()
            print(f"postgres booking decision: p50 {ms(pg)}  p99 {ms(pg, 0.99)}")
            print(f"postgres bare insert+commit: p50 {ms(pg_bare)}  p99 {ms(pg_bare, 0.99)}")
            print(f"postgres ratio p50: {percentile(pg, 0.5) / percentile(pg_bare, 0.5):.1f}x; "
                  f"earliest fit over the horizon, 1,000 bookings: p50 {ms(pg_searches)}")


def make_url_safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    main()
