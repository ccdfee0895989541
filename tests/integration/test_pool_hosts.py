"""A pool of two servers (issue 14) as CI runs it: one PostgreSQL, two `booking serve
--server NAME` processes on one Docker engine, the first with Slack (a local fake Web
API), the second with no chat at all.

- bookings on both servers start at their slot, each by its own host, each container
  labelled with its server; every login DM, the second server's too, reaches Slack
  through the first host (the second delivers nothing);
- a `/book ... on SECOND` typed in Slack to the first host is started by the second;
- after SIGKILL of the second host the first keeps starting its own bookings, leaves the
  dead host's containers alone (no Docker event touches them), and tells the admin and
  the members with bookings there that the server is down.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
import yaml

from bot import bootstrap
from core.domain.container import SERVER_LABEL
from core.domain.model import Resources
from core.services.capacity import BookingRequest
from tests.integration.scheduler_world import remove_server_containers, server_containers
from tests.slack.harness import BOT_TOKEN, SIGNING_SECRET, Call, FakeSlackApi, SlackClient
from tests.support.docker_fixtures import free_tcp_port, ssh_run

pytestmark = [pytest.mark.docker, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
SECRET = "pool-hosts-secret-0123456789"
BOSS, BOB, CAROL, DAVE, ERIN = "UBOSS", "UBOB", "UCAROL", "UDAVE", "UERIN"
# A host beats every 10 s, is down after 60 s of silence, and each host checks every 15 s.
DOWN_TOLD_WITHIN = 100.0


def _free_block(size: int) -> int:
    """The first of `size` consecutive TCP ports that were all free a moment ago."""
    for _ in range(200):
        base = 30000 + int.from_bytes(os.urandom(2), "big") % 30000
        sockets: list[socket.socket] = []
        try:
            for port in range(base, base + size):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(sock)
                sock.bind(("0.0.0.0", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise AssertionError("no block of free ports")


@dataclass
class Pool:
    first: str
    second: str
    ports: dict[str, int]  # each server's first port (a block of 4)
    app: bootstrap.App  # the test's own view of the pool (books as the CLI would)
    env: dict[str, str]  # what both hosts share


@pytest.fixture
def pool(tmp_path: Path, ssh_image: str, docker_host: str, docker_client: docker.DockerClient,
         postgres_url: str) -> Iterator[Pool]:
    tag = uuid.uuid4().hex[:8]
    first, second = f"pa-{tag}", f"pb-{tag}"
    for folder in ("work", "dataset", "backup"):
        (tmp_path / folder).mkdir()
    ports = {first: _free_block(4), second: _free_block(4)}
    while abs(ports[first] - ports[second]) < 4:
        ports[second] = _free_block(4)
    config = {
        "servers": [{"name": name, "public_host": "127.0.0.1", "timezone": "UTC",
                     "capacity": {"cpus": 4, "ram": 4, "swap": 0, "gpus": 0},
                     "ports": [ports[name], ports[name] + 3]} for name in (first, second)],
        "booking": {"slot_minutes": 1},
        "images": {"default": ssh_image, "allowed": [ssh_image]},
        "volumes": {f: str(tmp_path / f) for f in ("work", "dataset", "backup")},
        "scheduler": {"reconcile_seconds": 1, "ssh_wait_seconds": 20, "stop_grace_seconds": 1},
        "admins": ["boss"],
    }
    (tmp_path / "booking.yaml").write_text(yaml.safe_dump(config))
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SLACK_", "DISCORD_", "BOOKING_"))}
    env.update({"BOOKING_CONFIG": str(tmp_path / "booking.yaml"),
                "BOOKING_DATABASE_URL": postgres_url, "DOCKER_HOST": docker_host,
                "BOOKING_SECRET": SECRET, "PYTHONPATH": str(ROOT)})
    app = bootstrap.build(bootstrap.Environment(
        booking_config=tmp_path / "booking.yaml", booking_database_url=postgres_url,
        docker_host=docker_host, booking_secret=SECRET, booking_data_dir=tmp_path / "data",
        slack_bot_token=None, slack_signing_secret=None, slack_app_token=None,
        discord_token=None))
    for name, slack_id in (("boss", BOSS), ("bob", BOB), ("carol", CAROL), ("dave", DAVE),
                           ("erin", ERIN)):
        app.service.add_account(name, admin=name == "boss", slack_id=slack_id)
    try:
        yield Pool(first, second, ports, app, env)
    finally:
        for name in (first, second):
            remove_server_containers(docker_client, name)
        assert app.engine is not None
        app.engine.dispose()


def _host(pool: Pool, server: str, tmp_path: Path, **extra: str) -> tuple[subprocess.Popen[bytes], Path]:
    data = tmp_path / f"data-{server}"
    out = tmp_path / f"serve-{server}.out"
    env = {**pool.env, "BOOKING_DATA_DIR": str(data), **extra}
    with out.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--server", server], env=env,
            cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT)
    return process, out


def _wait(check: Callable[[], Any], what: str, timeout: float = 40) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


def _running(client: docker.DockerClient, name: str) -> dict[str, Any] | None:
    try:
        found = client.api.inspect_container(name)
    except docker.errors.NotFound:
        return None
    return found if found["State"]["Running"] else None


def _book(pool: Pool, user: str, server: str, port: int, start: str = "now") -> int:
    booking = pool.app.service.book(BookingRequest(
        user, Resources(1, 1, 0), start, "1-day", port=port, server=server))
    assert booking.id is not None and booking.server == server
    return booking.id


def _dm(api: FakeSlackApi, user: str, needle: str, timeout: float = 40) -> Call:
    def match(call: Call) -> bool:
        return call.args.get("channel") == "D" + user and needle in call.args.get("text", "")
    return api.wait_for("chat.postMessage", match, timeout=timeout)[0]


def _says(log: Path, needle: str) -> bool:
    return needle in log.read_text()


def _started(log: Path) -> list[str]:
    return re.findall(r"started container (\S+)", log.read_text())


def test_two_hosts_each_start_their_own_server_and_the_survivor_reports_the_dead_one(
    pool: Pool, tmp_path: Path, docker_client: docker.DockerClient,
) -> None:
    a, b = pool.first, pool.second
    api = FakeSlackApi().start()
    slack_port = free_tcp_port()
    host_a, out_a = _host(pool, a, tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN,
                          SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=api.base_url,
                          BOOKING_SLACK_PORT=str(slack_port))
    host_b, out_b = _host(pool, b, tmp_path)
    began = time.monotonic()
    try:
        for out, name in ((out_a, a), (out_b, b)):
            _wait(partial(_says, out, f"booking serve is running for server {name}"),
                  f"the host of {name} to run")
        _wait(partial(_says, out_a, "Slack adapter serving HTTP"), "Slack on host A")

        # (1) One booking on each server, made outside both hosts: each host starts its own.
        bob_a = _book(pool, "bob", a, pool.ports[a])
        bob_b = _book(pool, "bob", b, pool.ports[b])
        # And one at the next slot on the first server (at least 20 s away: after the kill).
        slot = (datetime.now(UTC) + timedelta(seconds=80)).replace(second=0, microsecond=0)
        carol_a = _book(pool, "carol", a, pool.ports[a] + 1, f"{slot:%Y %m %d %H %M}")

        # (2) Through chat, to the first host: a booking on the second server.
        slack = SlackClient(f"http://127.0.0.1:{slack_port}/slack/events", api)
        posted = slack.command(DAVE, "/book", f"1 cpus 1g 0 gpus now 1-day on {b}")
        assert posted.status == 200, posted.body
        booked = _dm(api, DAVE, "Booked: #").args["text"]
        dave_b = int(re.search(r"Booked: #(\d+)", booked).group(1))  # type: ignore[union-attr]
        assert pool.app.service.get(dave_b).server == b
        assert b in booked  # the member is told which server

        names = {bob_a: f"booking-bob-{bob_a}", bob_b: f"booking-bob-{bob_b}",
                 dave_b: f"booking-dave-{dave_b}", carol_a: f"booking-carol-{carol_a}"}
        for booking_id, server in ((bob_a, a), (bob_b, b), (dave_b, b)):
            container = _wait(partial(_running, docker_client, names[booking_id]),
                              f"{names[booking_id]} to run", timeout=30)
            assert container["Config"]["Labels"][SERVER_LABEL] == server
        # Every login DM arrives in Slack, the second server's through the first host.
        ready = {i: _dm(api, user, f"Your booking #{i} is ready")
                 for i, user in ((bob_a, BOB), (bob_b, BOB), (dave_b, DAVE))}
        blocks = json.dumps(ready[bob_b].args["blocks"]).replace("\\n", "\n")
        assert f"ssh -p {pool.ports[b]} root@127.0.0.1" in blocks
        password = re.search(r"password:\s*`?([^\s`]+)", blocks)
        assert password, blocks
        login = ssh_run(pool.ports[b], password.group(1), "echo in")
        assert (login.returncode, login.stdout) == (0, "in\n"), login.stderr
        # Each host started exactly its own server's containers.
        assert sorted(_started(out_a)) == [names[bob_a]], out_a.read_text()
        assert sorted(_started(out_b)) == sorted([names[bob_b], names[dave_b]]), out_b.read_text()
        assert "[message to" not in out_b.read_text()  # no chat: the second host sends nothing

        # (3) The second host dies.
        before = {i: _running(docker_client, names[i]) for i in (bob_b, dave_b)}
        host_b.send_signal(signal.SIGKILL)
        host_b.wait(10)
        killed = datetime.now(UTC)

        erin_a = _book(pool, "erin", a, pool.ports[a] + 2)
        names[erin_a] = f"booking-erin-{erin_a}"
        _wait(lambda: _running(docker_client, names[erin_a]), "erin's container on A", 30)
        _dm(api, ERIN, f"Your booking #{erin_a} is ready")

        # The admin, and both members with a booking on the dead server, are told.
        left = DOWN_TOLD_WITHIN - (datetime.now(UTC) - killed).total_seconds()
        down = _dm(api, BOSS, f"{b} is down", timeout=left)
        told_after = (datetime.now(UTC) - killed).total_seconds()
        assert a not in down.args["text"]
        for user, booking_id in ((BOB, bob_b), (DAVE, dave_b)):
            note = _dm(api, user, f"The server {b} is down", timeout=10).args["text"]
            assert f"#{booking_id}" in note
        assert not [c for c in api.of("chat.postMessage")
                    if c.args.get("channel") in ("D" + CAROL, "D" + ERIN)
                    and "is down" in c.args.get("text", "")]

        # The slot booking on the first server started at its slot, with the second host dead.
        container = _wait(lambda: _running(docker_client, names[carol_a]), "carol's slot",
                          timeout=max(5.0, (slot - datetime.now(UTC)).total_seconds() + 15))
        started = datetime.fromisoformat(container["State"]["StartedAt"][:26].rstrip("Z") + "+00:00")
        assert slot <= started < slot + timedelta(seconds=5), (slot, started)

        # The dead host's containers were left as they were: running, never restarted,
        # and no Docker event on any container of its server since it died.
        time.sleep(2)
        for booking_id, was in before.items():
            now = _running(docker_client, names[booking_id])
            assert now is not None and was is not None, names[booking_id]
            assert now["Id"] == was["Id"] and now["State"]["StartedAt"] == was["State"]["StartedAt"]
        events = [e for e in docker_client.events(  # `since` counts whole seconds
            since=killed - timedelta(seconds=2), until=datetime.now(UTC), decode=True,
            filters={"type": "container", "label": f"{SERVER_LABEL}={b}"})
            if e["timeNano"] > killed.timestamp() * 1e9]
        assert events == [], [(e["Action"], e["Actor"]["Attributes"].get("name")) for e in events]
        assert sorted(c.name for c in server_containers(docker_client, b)) == sorted(
            [names[bob_b], names[dave_b]])
        assert sorted(_started(out_a)) == sorted([names[bob_a], names[carol_a], names[erin_a]])
        told = [c for c in api.of("chat.postMessage") if c.args.get("channel") == "D" + BOSS
                and f"{b} is down" in c.args.get("text", "")]
        assert len(told) == 1, [c.args["text"] for c in told]
        log_a = out_a.read_text()
        assert not re.search(rf"(remov|stopp)\w* container booking-\w+-({bob_b}|{dave_b})\b",
                             log_a), log_a
        print(f"\n[pool hosts] down told {told_after:.0f} s after the kill; "
              f"whole scenario {time.monotonic() - began:.0f} s")
    finally:
        for process in (host_a, host_b):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (host_a, host_b):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        api.stop()
        for out in (out_a, out_b):  # shown by pytest when the test failed
            print(f"----- {out.name} (last 4000 characters)\n{out.read_text()[-4000:]}")
