"""A hostile member on a real engine: what they plant in their backup folder from inside
their container never makes the service (root on the host) read or write elsewhere.

`host/` stands for the rest of the host: root's ~/.ssh and the server's secret."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from core.domain.model import Status
from tests.integration.scheduler_world import (
    World,
    engine_world,
    password_in,
    server_containers,
    world_config,
)
from tests.support.docker_fixtures import free_tcp_port, ssh_run

pytestmark = pytest.mark.docker


@pytest.fixture
def host(tmp_path: Path) -> Path:
    folder = tmp_path / "host"
    (folder / "ssh").mkdir(parents=True)
    (folder / "secret").write_text("the server secret\n")
    return folder


@pytest.fixture
def world(tmp_path: Path, ssh_image: str, docker_host: str,
          docker_client: docker.DockerClient) -> Iterator[World]:
    config = world_config(tmp_path, ssh_image)
    with engine_world(tmp_path, config, docker_host, docker_client) as built:
        yield built


def _session(world: World, port: int) -> tuple[int, str]:
    booking = world.book("bob", port=port)
    assert booking.id is not None
    return booking.id, password_in(world.wait_for_message("bob", booking.id, "is ready"))


def _end(world: World, booking_id: int) -> str:
    world.service.cancel(booking_id, actor="bob")
    world.wait_for(booking_id, Status.FINISHED)
    return world.wait_for_message("bob", booking_id, "has ended")


def test_links_in_the_backup_folder_reach_nothing_on_the_host(
    world: World, host: Path, tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    port = free_tcp_port()
    first, password = _session(world, port)
    plan = (f"File:\n  - [hostroot{host}/ssh/authorized_keys, /root/keys]\n"
            f"  - [leak/secret, /root/leaked]\n  - [bashrc, /root/.bashrc]\n")
    planted = ssh_run(port, password, (
        f"printf '{plan}' > /root/Backup/backup.yaml && "
        "ln -s / /root/Backup/hostroot && "  # a symlinked parent of a backup path
        f"ln -s {host} /root/Backup/leak && "  # ... and of a restored path
        "echo ssh-ed25519 AAAA-evil > /root/keys && echo mine > /root/.bashrc"))
    assert planted.returncode == 0, planted.stderr

    ended = _end(world, first)
    assert os.listdir(host / "ssh") == []  # nothing written through /root/Backup/hostroot
    assert "Could not be backed up (any earlier copy in /root/Backup is kept): /root/keys " \
        "(hostroot is a symbolic link or not a folder)" in ended
    assert "Backed up to /root/Backup: bashrc." in ended
    assert (tmp_path / "backup" / "bob" / "bashrc").read_text() == "mine\n"
    assert server_containers(docker_client, world.config.server.name) == []

    second, password = _session(world, port)
    leaked = ssh_run(port, password, "cat /root/leaked 2>&1; cat /root/.bashrc")
    assert "server secret" not in leaked.stdout  # not read through /root/Backup/leak
    assert leaked.stdout.endswith("mine\n")

    # A dangling backup.yaml link: the template is not written through it, and the member
    # is told why nothing is restored or saved.
    relinked = ssh_run(port, password, (
        f"rm /root/Backup/backup.yaml && ln -s {host}/ssh/planted /root/Backup/backup.yaml"))
    assert relinked.returncode == 0, relinked.stderr
    ended = _end(world, second)
    assert "Your backup.yaml was not understood (backup.yaml is a symbolic link)" in ended
    third, _ = _session(world, port)
    ready = world.wait_for_message("bob", third, "is ready")
    assert "Your backup.yaml was not understood (backup.yaml is a symbolic link)" in ready
    assert os.listdir(host / "ssh") == []
    assert (host / "secret").read_text() == "the server secret\n"
