"""A pool of servers under concurrent booking (issue 14).

    .venv/bin/python tests/perf/bench_pool.py --postgres URL [--servers 20] [--gpus 8]
        [--members 50] [--seconds 60] [--unnamed-share 0.2]
        [--scaling 1,5,20] [--scaling-seconds 10] [--seed 1] [--connections N]

`--members` threads book through one `BookingPool` built as `bot.bootstrap.build` builds
it (a temporary `servers:` config, the members added with `add_account`, limits `max`).
Each thread loops until the round's time is up: a random server by name, or none for a
share of the requests (`--unnamed-share`: the pool places them where they fit, which
reads every server first); 1 or 2 GPUs with 4-12 CPUs and 16-96 GB each; a start on the
slot grid between 1 hour and 12 days ahead; 2 hours to 1 day long; then `pool.book` and
the time it took, booked or refused (`Refusal`, with its earliest-fit offer). Other
exceptions are counted and the first few printed.

Prints for the main round (`--servers` servers, `--seconds`): decisions per second,
booked/refused counts, p50/p99 of named and of unnamed requests, then the overbooking
check: every holding booking of every server read back with plain SQL and swept (no GPU
id or port held by two overlapping bookings, CPUs and memory never above capacity, GPU
ids as many as booked and on the server) - "overbooked: 0" or the violations. Then one
shorter round (`--scaling-seconds`) per server count of `--scaling` with the same
members, named requests only unless `--scaling-unnamed-share` says otherwise: p50/p99
of named requests for each, which must not grow with the number of servers (a named
request takes only its server's lock and reads only its bookings). The members book
with no pause, so a round's latency is mostly the members' wait for the CPU (about
members / decisions per second); a server count that makes decisions dearer shows
there. An unnamed request reads every server before it books (they do grow).

Every round runs on a fresh database: on PostgreSQL a throwaway database made with
CREATE DATABASE on the `--postgres` server and dropped at the end; without
`--postgres`, a temporary SQLite file (said so: all servers then share one database
write lock, so this is not the figure the issue asks for). The PostgreSQL URL is never
guessed: pass it. The threads share one process and its GIL, as in `booking serve`; on
a small shared machine the figures are mostly CPU time: run it when nothing else runs.

The PostgreSQL engine gets one pooled connection per member, so the figures are the
decisions', not a queue for connections. `--connections 0` uses the engine `booking
serve` makes (storage/engine.py: 10 + 30 overflow): 50 members booking with no pause
then wait for connections, and SQLAlchemy's queue is not fair (a thread that gives a
connection back takes it again at once), so some wait past the pool's 30 s timeout.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

# Run as a script, this folder is on the import path: the single-server benchmark's helpers.
from bench_booking import fresh_postgres, percentile
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

import bot.bootstrap
from bot.bootstrap import App, Environment, build
from core.domain.model import HOLDING, Refusal, Resources
from core.services.capacity import BookingRequest
from storage.engine import make_engine

# `--connections`: the size of the PostgreSQL engine's connection pool that `build` makes
# (0: `make_engine`'s own, as `booking serve` has it).
_CONNECTIONS = [0]


def _engine(url: str) -> Engine:
    engine = make_engine(url)
    if _CONNECTIONS[0] and engine.dialect.name == "postgresql":
        engine.dispose()
        engine = create_engine(engine.url, pool_pre_ping=True, pool_size=_CONNECTIONS[0],
                               max_overflow=0)
    return engine


bot.bootstrap.make_engine = _engine

SLOT_MINUTES = 30
LENGTHS = ("2-hour", "4-hour", "6-hour", "12-hour", "1-day")
CAPACITY = {"cpus": 64, "ram": 512, "swap": 0}


def ms(values: list[float], share: float) -> str:
    if not values:
        return "-"
    return f"{percentile(values, share) * 1000:.1f} ms"


def write_pool_config(path: Path, servers: int, gpus: int) -> Path:
    data = {
        "servers": [{"name": f"gpu{n + 1}", "public_host": f"gpu{n + 1}.test",
                     "timezone": "UTC", "capacity": {**CAPACITY, "gpus": gpus}}
                    for n in range(servers)],
        "booking": {"slot_minutes": SLOT_MINUTES, "max_days": 14, "ports": [10001, 60000],
                    "registration": "closed"},
        "limits": {"default": {"cpus": "max", "memory": "max", "gpus": "max"}, "users": {}},
        "images": {"default": "lab/gpu:latest", "allowed": ["lab/gpu:latest"]},
        "admins": [],
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def fresh_database(postgres: str | None, folder: Path, part: str) -> tuple[str, Callable[[], None]]:
    """A database nothing has used yet, and how to drop it."""
    if postgres is None:
        return f"sqlite:///{folder / f'{part}.db'}", lambda: None
    server = make_url(postgres).set(drivername="postgresql+psycopg")
    return fresh_postgres(server.render_as_string(hide_password=False), f"pool_{part}")


@dataclass
class Tally:
    named: list[float] = field(default_factory=list)
    unnamed: list[float] = field(default_factory=list)
    named_booked: int = 0
    named_refused: int = 0
    unnamed_booked: int = 0
    unnamed_refused: int = 0
    refusals: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.named += other.named
        self.unnamed += other.unnamed
        self.named_booked += other.named_booked
        self.named_refused += other.named_refused
        self.unnamed_booked += other.unnamed_booked
        self.unnamed_refused += other.unnamed_refused
        for code, count in other.refusals.items():
            self.refusals[code] = self.refusals.get(code, 0) + count
        self.errors += other.errors

    @property
    def decisions(self) -> int:
        return len(self.named) + len(self.unnamed)


def member_loop(app: App, user: str, servers: list[str], unnamed_share: float,
                deadline: list[float], rng: random.Random, tally: Tally,
                start_gate: threading.Barrier) -> None:
    zone = app.service.zone_of(None)
    start_gate.wait()  # every member starts at once; the deadline is set by then
    while time.perf_counter() < deadline[0]:
        now = datetime.now(UTC)
        grid = now.replace(minute=0, second=0, microsecond=0)
        start = grid + timedelta(minutes=SLOT_MINUTES * rng.randrange(2, 12 * 24 * 60 // SLOT_MINUTES))
        gpus = rng.choice((1, 2))
        named = rng.random() >= unnamed_share
        request = BookingRequest(
            user=user,
            resources=Resources(rng.randrange(4, 13) * gpus, rng.randrange(16, 97) * gpus, gpus),
            start=f"{start.astimezone(zone):%Y %m %d %H %M}", end=rng.choice(LENGTHS),
            server=rng.choice(servers) if named else None,
        )
        began = time.perf_counter()
        try:
            app.service.book(request)
            booked = True
        except Refusal as refusal:
            booked = False
            tally.refusals[refusal.code.value] = tally.refusals.get(refusal.code.value, 0) + 1
        except Exception:  # counted and shown: the benchmark goes on
            if len(tally.errors) < 3:
                tally.errors.append(traceback.format_exc(limit=6))
            else:
                tally.errors.append("")
            continue
        took = time.perf_counter() - began
        if named:
            tally.named.append(took)
            tally.named_booked += booked
            tally.named_refused += not booked
        else:
            tally.unnamed.append(took)
            tally.unnamed_booked += booked
            tally.unnamed_refused += not booked


def run_round(url: str, folder: Path, *, servers: int, gpus: int, members: int, seconds: float,
              unnamed_share: float, seed: int) -> tuple[Tally, float, App]:
    config = write_pool_config(folder / f"pool-{servers}.yaml", servers, gpus)
    app = build(Environment(booking_config=config, booking_database_url=url))
    names = list(app.config.server_names)
    users = [f"m{n}" for n in range(members)]
    for user in users:
        app.service.add_account(user)
    tallies = [Tally() for _ in users]
    gate = threading.Barrier(members + 1)
    deadline = [0.0]

    def worker(n: int) -> None:
        member_loop(app, users[n], names, unnamed_share, deadline, random.Random(seed * 1000 + n),
                    tallies[n], gate)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(members)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    total = Tally()
    for tally in tallies:
        total.add(tally)
    return total, elapsed, app


def overbooking(url: str, gpus: int) -> tuple[int, list[str]]:
    """Every holding booking per server, read back with plain SQL and swept: (bookings
    read, violations)."""
    engine = make_engine(url)
    holding = tuple(sorted(status.value for status in HOLDING))
    marks = ", ".join(f":s{n}" for n in range(len(holding)))
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT s.name, b.id, b.start_at, b.end_at, b.cpus, b.memory, b.gpus, b.gpu_ids, "
            f"b.port FROM booking b JOIN server s ON s.id = b.server_id WHERE b.status IN ({marks}) "
            "ORDER BY s.name, b.start_at, b.id"), {f"s{n}": value for n, value in enumerate(holding)},
        ).fetchall()
    engine.dispose()
    by_server: dict[str, list[tuple[int, datetime, datetime, float, int, int, frozenset[int], int]]] = {}
    problems: list[str] = []
    for server, booking_id, start, end, cpus, memory, count, gpu_ids, port in rows:
        ids = frozenset(int(g) for g in gpu_ids.split(",") if g != "")
        if len(ids) != count or any(g < 0 or g >= gpus for g in ids):
            problems.append(f"{server} #{booking_id}: {count} GPUs booked, ids {gpu_ids!r}")
        by_server.setdefault(server, []).append(
            (booking_id, start, end, cpus, memory, count, ids, port))
    memory_cap = CAPACITY["ram"] + CAPACITY["swap"]
    for server, bookings in by_server.items():
        active: list[tuple[int, datetime, datetime, float, int, int, frozenset[int], int]] = []
        for booking in bookings:  # sorted by start: the peak of any moment is at some start
            booking_id, start, _end, cpus, memory, _count, ids, port = booking
            active = [held for held in active if held[2] > start]
            for held in active:
                if held[6] & ids:
                    problems.append(f"{server}: #{held[0]} and #{booking_id} overlap on GPUs "
                                    f"{sorted(held[6] & ids)}")
                if held[7] == port:
                    problems.append(f"{server}: #{held[0]} and #{booking_id} overlap on port {port}")
            active.append(booking)
            used_cpus = sum(held[3] for held in active)
            used_memory = sum(held[4] for held in active)
            if used_cpus > CAPACITY["cpus"] + 1e-9 or used_memory > memory_cap:
                problems.append(f"{server} at {start:%Y-%m-%d %H:%M}: {used_cpus:g} CPUs, "
                                f"{used_memory} GB held (capacity {CAPACITY['cpus']}, {memory_cap})")
    return len(rows), problems


def describe(tally: Tally, elapsed: float) -> list[str]:
    lines = [
        f"  decisions: {tally.decisions} in {elapsed:.1f} s = {tally.decisions / elapsed:.0f}/s; "
        f"booked {tally.named_booked + tally.unnamed_booked}, refused "
        f"{tally.named_refused + tally.unnamed_refused} ({tally.refusals or 'none'})",
        f"  named   ({len(tally.named)}: {tally.named_booked} booked, {tally.named_refused} "
        f"refused): p50 {ms(tally.named, 0.5)}  p99 {ms(tally.named, 0.99)}",
        f"  unnamed ({len(tally.unnamed)}: {tally.unnamed_booked} booked, {tally.unnamed_refused} "
        f"refused): p50 {ms(tally.unnamed, 0.5)}  p99 {ms(tally.unnamed, 0.99)}",
    ]
    if tally.errors:
        lines.append(f"  ERRORS (not Refusal): {len(tally.errors)}; the first:")
        lines += ["    " + line for error in tally.errors[:3] if error for line in error.splitlines()]
    return lines


def server_counts(text_value: str) -> list[int]:
    try:
        counts = [int(part) for part in text_value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text_value!r}: give server counts such as 1,5,20") from None
    if not counts or any(n < 1 or n > 200 for n in counts):
        raise argparse.ArgumentTypeError("server counts go from 1 to 200, such as 1,5,20")
    return counts


def share(text_value: str) -> float:
    try:
        value = float(text_value)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text_value!r}: give a share from 0 to 1, such as 0.2")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--postgres", help="a PostgreSQL server URL; a throwaway database is made "
                        "there per round (its own database is left alone). Without it: SQLite")
    parser.add_argument("--servers", type=int, default=20)
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--unnamed-share", type=share, default=0.2)
    parser.add_argument("--scaling", type=server_counts, default=[1, 5, 20],
                        help="server counts for the scaling rounds, e.g. 1,5,20")
    parser.add_argument("--scaling-seconds", type=float, default=10)
    parser.add_argument("--scaling-unnamed-share", type=share, default=0.0,
                        help="the unnamed share in the scaling rounds (default 0: an unnamed "
                        "request reads every server, and its CPU time would slow the named "
                        "ones beside it)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--connections", type=int, default=None,
                        help="PostgreSQL connections in the engine's pool (default: one per "
                        "member; 0: the engine `booking serve` makes, 10 + 30 overflow)")
    args = parser.parse_args()
    _CONNECTIONS[0] = args.members if args.connections is None else max(0, args.connections)
    if args.servers < 1 or args.gpus < 2 or args.members < 1 or args.seconds <= 0 \
            or args.scaling_seconds <= 0:
        parser.error("--servers and --members at least 1, --gpus at least 2 (requests ask for "
                     "up to 2), --seconds and --scaling-seconds above 0")
    where = (make_url(args.postgres).render_as_string(hide_password=True) if args.postgres
             else "a temporary SQLite file (no --postgres: one write lock for all servers; "
                  "not the figure issue 14 asks for)")
    print(f"database: {where}")
    if args.postgres:
        print(f"connection pool: {_CONNECTIONS[0] or '10 + 30 overflow (as booking serve)'}")
    with tempfile.TemporaryDirectory() as top:
        rounds = [("main", args.servers, args.seconds, args.unnamed_share)] + [
            (f"s{n}", n, args.scaling_seconds, args.scaling_unnamed_share) for n in args.scaling]
        scaling: list[tuple[int, Tally, float]] = []
        for part, servers, seconds, unnamed_share in rounds:
            folder = Path(top) / part
            folder.mkdir()
            url, drop = fresh_database(args.postgres, folder, part)
            try:
                tally, elapsed, app = run_round(
                    url, folder, servers=servers, gpus=args.gpus, members=args.members,
                    seconds=seconds, unnamed_share=unnamed_share, seed=args.seed)
                assert app.engine is not None
                app.engine.dispose()
                read, problems = overbooking(url, args.gpus)
            finally:
                drop()
            title = "main round" if part == "main" else "scaling round"
            print(f"{title}: {servers} servers x {args.gpus} GPUs, {args.members} members, "
                  f"{seconds:g} s, unnamed share {unnamed_share:g}")
            lines = describe(tally, elapsed)
            print("\n".join(line for line in lines if not line.startswith("  unnamed (0:")))
            print(f"  overbooked: {len(problems)} ({read} holding bookings swept)")
            for problem in problems[:20]:
                print(f"    {problem}")
            if part != "main":
                scaling.append((servers, tally, elapsed))
            sys.stdout.flush()
        if scaling:
            print("named requests by number of servers (must not grow):")
            for servers, tally, elapsed in scaling:
                unnamed = (f"   (unnamed: p50 {ms(tally.unnamed, 0.5)}  p99 "
                           f"{ms(tally.unnamed, 0.99)})" if tally.unnamed else "")
                print(f"  {servers:>3} servers: p50 {ms(tally.named, 0.5)}  p99 "
                      f"{ms(tally.named, 0.99)}  ({tally.decisions / elapsed:.0f} decisions/s)"
                      + unnamed)


if __name__ == "__main__":
    main()
