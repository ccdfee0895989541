"""`booking serve` as a process, with no periodic pass to fall back on (reconcile once an
hour): bookings made by the CLI, another process, start at their slot, on SQLite (the
change marker polled every second) and PostgreSQL (LISTEN/NOTIFY).

Lags are measured inside serve (the `starting` event's time) and by the engine (the
container's StartedAt), against the booking's slot or, for `now`, its commit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docker
import pytest
import yaml

from core.domain.model import Event
from storage.engine import make_engine
from storage.uow import SqlUnitOfWork, ensure_server
from tests.integration.scheduler_world import remove_server_containers
from tests.support.docker_fixtures import free_tcp_port

pytestmark = pytest.mark.docker

LAG = timedelta(seconds=2)


@pytest.fixture
def setup(
    tmp_path: Path, ssh_image: str, docker_host: str, docker_client: docker.DockerClient,
    database_url: str,
) -> Iterator[tuple[dict[str, str], str]]:
    server = f"wake-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    for folder in ("work", "dataset", "backup"):
        (tmp_path / folder).mkdir()
    config = {
        "server": {"name": server, "public_host": "127.0.0.1", "timezone": "UTC"},
        "capacity": {"cpus": 4, "ram": 4, "swap": 0, "gpus": 0},
        "booking": {"ports": [1024, 65535], "slot_minutes": 1},
        "images": {"default": ssh_image, "allowed": [ssh_image]},
        "volumes": {f: str(tmp_path / f) for f in ("work", "dataset", "backup")},
        "scheduler": {"reconcile_seconds": 3600, "ssh_wait_seconds": 20,
                      "stop_grace_seconds": 1},
    }
    (tmp_path / "booking.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "BOOKING_CONFIG": str(tmp_path / "booking.yaml"),
           "BOOKING_DATABASE_URL": database_url,
           "BOOKING_DATA_DIR": str(tmp_path / "data"), "DOCKER_HOST": docker_host,
           "BOOKING_SECRET": "wake-test-secret-0123456789",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    try:
        yield env, server
    finally:
        remove_server_containers(docker_client, server)


def _cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _wait(check: Callable[[], object], what: str, timeout: float = 40) -> object:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def _started_at(client: docker.DockerClient, name: str) -> datetime | None:
    try:
        state = client.api.inspect_container(name)["State"]
    except docker.errors.NotFound:
        return None
    stamp = state.get("StartedAt", "")
    if not state.get("Running") or stamp.startswith("0001"):
        return None
    seconds, _, fraction = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{seconds}.{fraction[:6].ljust(6, '0')}+00:00")


def test_cli_bookings_start_at_their_slot_while_serve_runs(
    setup: tuple[dict[str, str], str], tmp_path: Path, database_url: str,
    docker_client: docker.DockerClient,
) -> None:
    env, server = setup
    _cli(env, tmp_path, "users", "add", "bob")
    _cli(env, tmp_path, "users", "add", "carol")
    engine = make_engine(database_url)
    server_id = ensure_server(engine, server)

    def events(booking_id: int) -> dict[str, Event]:
        with SqlUnitOfWork(engine, server_id) as uow:
            return {e.kind: e for e in uow.bookings.events(booking_id)}

    def starting_at(booking_id: int) -> datetime | None:
        found = events(booking_id).get("starting")
        return datetime.fromisoformat(found.detail["at"]) if found else None

    out = tmp_path / "serve.out"
    with out.open("wb") as handle:
        serve = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                                 cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=handle,
                                 stderr=subprocess.STDOUT)
    try:
        _wait(lambda: "serve is running" in out.read_text(), "serve to run")
        time.sleep(1.5)  # its start-up pass is over: from now on only a wake-up helps

        # `now`: its slot began before it was made; it starts within 2 s of its commit.
        _cli(env, tmp_path, "book", "--user", "bob", "--cpus", "1", "--memory", "1",
             "--gpus", "0", "--start", "now", "--end", "1-day", "--port", str(free_tcp_port()))
        committed = events(1)["created"].at
        now_lag = _wait(lambda: starting_at(1), "bob's start", timeout=10)
        assert isinstance(now_lag, datetime)
        now_container = _wait(lambda: _started_at(docker_client, "booking-bob-1"),
                              "bob's container", timeout=20)
        assert isinstance(now_container, datetime)

        # The next slot, at least 8 s away: made by the CLI before it, started at it.
        slot = (datetime.now(UTC) + timedelta(seconds=68)).replace(second=0, microsecond=0)
        _cli(env, tmp_path, "book", "--user", "carol", "--cpus", "1", "--memory", "1",
             "--gpus", "0", "--start", f"{slot:%Y %m %d %H %M}", "--end", "1-day",
             "--port", str(free_tcp_port()))
        assert events(2)["created"].at < slot
        wait_s = (slot - datetime.now(UTC)).total_seconds() + 10
        slot_lag = _wait(lambda: starting_at(2), "carol's start", timeout=wait_s)
        assert isinstance(slot_lag, datetime)
        slot_container = _wait(lambda: _started_at(docker_client, "booking-carol-2"),
                               "carol's container", timeout=20)
        assert isinstance(slot_container, datetime)
    finally:
        serve.terminate()
        serve.wait(20)
        engine.dispose()

    print(f"\n[{engine.dialect.name}] `now` booking: advance {now_lag - committed} and container "
          f"{now_container - committed} after its commit; next slot: advance "
          f"{slot_lag - slot} and container {slot_container - slot} after the slot")
    assert timedelta(0) <= now_lag - committed < LAG
    assert timedelta(0) <= slot_lag - slot < LAG
    # The container itself is up within 2 s of its slot (creation included); a `now`
    # booking's may take up to the 1 s SQLite poll more.
    assert slot_container - slot < LAG
    assert now_container - committed < LAG + timedelta(seconds=1)
