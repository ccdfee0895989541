"""`booking serve` as a process: kill -9 while one booking runs and another falls due,
start again, and nothing is lost, doubled or left behind; SIGTERM leaves containers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest
import yaml

from tests.integration.scheduler_world import remove_server_containers, server_containers
from tests.support.docker_fixtures import free_tcp_port, ssh_run

pytestmark = pytest.mark.docker


@pytest.fixture
def setup(
    tmp_path: Path, ssh_image: str, docker_host: str, docker_client: docker.DockerClient
) -> Iterator[tuple[dict[str, str], str]]:
    server = f"crash-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    for folder in ("work", "dataset", "backup"):
        (tmp_path / folder).mkdir()
    config = {
        "server": {"name": server, "public_host": "127.0.0.1", "timezone": "UTC"},
        "capacity": {"cpus": 4, "ram": 4, "swap": 0, "gpus": 0},
        "booking": {"ports": [1024, 65535]},
        "images": {"default": ssh_image, "allowed": [ssh_image]},
        "volumes": {f: str(tmp_path / f) for f in ("work", "dataset", "backup")},
        "scheduler": {"reconcile_seconds": 1, "ssh_wait_seconds": 20, "stop_grace_seconds": 1},
    }
    (tmp_path / "booking.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "BOOKING_CONFIG": str(tmp_path / "booking.yaml"),
           "BOOKING_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'booking.db'}",
           "BOOKING_DATA_DIR": str(tmp_path / "data"), "DOCKER_HOST": docker_host,
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("BOOKING_SECRET", None)
    try:
        yield env, server
    finally:
        remove_server_containers(docker_client, server)


def _booking(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _serve(env: dict[str, str], cwd: Path, out: Path) -> subprocess.Popen[bytes]:
    with out.open("wb") as handle:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=cwd,
                                stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT)


def _wait(check: Callable[[], bool], what: str, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _ready_password(text: str, booking_id: int) -> str | None:
    """The password line of a ready message on stdout (never the password itself)."""
    match = re.search(
        rf"\[message to \w+, ready booking #{booking_id}\]\n(?:.*\n)*?  password: (.+)", text)
    return match.group(1) if match else None


def _login_password(env: dict[str, str], cwd: Path, booking_id: int) -> str:
    """The password as an admin on the server reads it (`booking login N`)."""
    match = re.search(r"password: (\S+)", _booking(env, cwd, "login", str(booking_id)))
    assert match
    return match.group(1)


def test_kill_9_then_restart_misses_nothing_and_doubles_nothing(
    setup: tuple[dict[str, str], str], tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    env, server = setup
    _booking(env, tmp_path, "users", "add", "bob")
    _booking(env, tmp_path, "users", "add", "carol")
    first_out, second_out = tmp_path / "serve-1.out", tmp_path / "serve-2.out"
    serve = _serve(env, tmp_path, first_out)
    try:
        port_bob = free_tcp_port()
        _booking(env, tmp_path, "book", "--user", "bob", "--cpus", "1", "--memory", "1",
                 "--gpus", "0", "--start", "now", "--end", "1-day", "--port", str(port_bob))
        _wait(lambda: _ready_password(first_out.read_text(), 1) is not None, "bob's message")
        assert serve.poll() is None  # closed stdin does not stop serve
    finally:
        serve.send_signal(signal.SIGKILL)
        serve.wait(10)

    port_carol = free_tcp_port()  # falls due while no scheduler runs
    _booking(env, tmp_path, "book", "--user", "carol", "--cpus", "1", "--memory", "1",
             "--gpus", "0", "--start", "now", "--end", "1-day", "--port", str(port_carol))
    started = time.monotonic()
    serve = _serve(env, tmp_path, second_out)
    try:
        _wait(lambda: _ready_password(second_out.read_text(), 2) is not None, "carol's message")
        carol_lag = time.monotonic() - started
        time.sleep(2.5)  # a couple of reconcile passes more: nothing may be repeated
        names = sorted(c.name for c in server_containers(docker_client, server))
        assert names == ["booking-bob-1", "booking-carol-2"]
        everything = first_out.read_text() + second_out.read_text()
        assert everything.count("ready booking #1]") == 1, everything
        assert everything.count("ready booking #2]") == 1, everything
        carol_password = _login_password(env, tmp_path, 2)
        assert carol_password not in everything  # stdout ends up in the journal
        assert "booking login 2" in str(_ready_password(second_out.read_text(), 2))
        assert ssh_run(port_carol, carol_password, "echo in").stdout == "in\n"
        bob_password = _login_password(env, tmp_path, 1)
        assert ssh_run(port_bob, bob_password, "echo still").stdout == "still\n"
        assert carol_lag < 20

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(15) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
    # A clean stop leaves the containers to the next start.
    running = sorted(c.name for c in server_containers(docker_client, server)
                     if c.status == "running")
    assert running == ["booking-bob-1", "booking-carol-2"]
    secret = tmp_path / "data" / "booking-secret"
    assert secret.stat().st_mode & 0o777 == 0o600
