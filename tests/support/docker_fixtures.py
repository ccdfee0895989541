"""pytest fixtures and helpers for tests against a real Docker engine.

Load with `pytest_plugins = ["tests.support.docker_fixtures"]` in tests/conftest.py.

The engine is the private dockerd started by `.ci/start-dockerd`, at
$BOOKING_TEST_DOCKER_HOST (default unix:///tmp/booking-dockerd/docker.sock).
When it does not answer the tests are skipped, except under CI (env CI set),
where that is a failure.

SSH logins use dropbear's `dbclient` (Debian's dropbear-bin) with the password
in DROPBEAR_PASSWORD, so no Python SSH library is needed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator

import docker
import docker.errors
import pytest
import requests.exceptions

from tests.support.ssh_image import build_old_style_image, build_ssh_image

DEFAULT_TEST_DOCKER_HOST = "unix:///tmp/booking-dockerd/docker.sock"


def docker_test_host() -> str:
    return os.environ.get("BOOKING_TEST_DOCKER_HOST") or DEFAULT_TEST_DOCKER_HOST


@pytest.fixture(scope="session")
def docker_host() -> str:
    return docker_test_host()


@pytest.fixture(scope="session")
def docker_client(docker_host: str) -> Iterator[docker.DockerClient]:
    try:
        client = docker.DockerClient(base_url=docker_host, timeout=120)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        message = (
            f"no Docker engine answers at {docker_host} ({exc}); start one with "
            ".ci/start-dockerd or set BOOKING_TEST_DOCKER_HOST"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    yield client
    client.close()


@pytest.fixture(scope="session")
def ssh_image(docker_client: docker.DockerClient) -> str:
    """Tag of the tiny SSH image (built once, reused across runs)."""
    return build_ssh_image(docker_client)


@pytest.fixture(scope="session")
def old_style_image(docker_client: docker.DockerClient) -> str:
    """Tag of an image built like the old system's default one (built once)."""
    return build_old_style_image(docker_client)


@pytest.fixture
def container_names(docker_client: docker.DockerClient) -> Iterator[list[str]]:
    """Unique container names for a test; each is force-removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.containers.get(name).remove(force=True, v=True)


def unique_container_name(prefix: str = "booking-test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def free_tcp_port() -> int:
    """A TCP port that was free a moment ago on all interfaces."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


def ssh_run(
    port: int,
    password: str,
    command: str,
    *,
    host: str = "127.0.0.1",
    user: str = "root",
    timeout: float = 30,
    identity: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `command` over SSH with password login (dropbear's dbclient), or with the
    private key in the file `identity` (made by `ssh_key`).

    Host keys are not checked (-y -y); HOME points at a scratch folder so the
    caller's ~/.ssh is never read or written.
    """
    dbclient = shutil.which("dbclient")
    if dbclient is None:
        pytest.fail("dbclient not found (apt-get install -y dropbear-bin)", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="dbclient-home-") as home:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "DROPBEAR_PASSWORD": password}
        return subprocess.run(
            [dbclient, "-y", "-y", *(["-i", identity] if identity else []), "-p", str(port),
             f"{user}@{host}", command],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def ssh_key(folder: str) -> tuple[str, str]:
    """A new ed25519 key pair (dropbear's dropbearkey): (private key file, public key line)."""
    path = os.path.join(folder, "id_ed25519")
    made = subprocess.run(["dropbearkey", "-t", "ed25519", "-f", path], capture_output=True,
                          text=True, check=True)
    public = next(line for line in made.stdout.splitlines() if line.startswith("ssh-ed25519 "))
    return path, public.strip()
