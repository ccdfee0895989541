"""A lab moving over keeps its image and habits: the old `docker run -dit` behaviour, the
old mount points, the extra command through bash, and SSH keys with any image running
sshd. Real dockerd, an image built like the old default one, the real scheduler."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from core.domain.model import Status
from tests.integration.scheduler_world import (
    World,
    engine_world,
    password_in,
    world_config,
)
from tests.support.docker_fixtures import free_tcp_port, ssh_key, ssh_run

pytestmark = pytest.mark.docker


@pytest.fixture
def world(tmp_path: Path, old_style_image: str, docker_host: str,
          docker_client: docker.DockerClient) -> Iterator[World]:
    config = world_config(tmp_path, old_style_image)
    (tmp_path / "dataset" / "data.txt").write_text("shared data\n")
    with engine_world(tmp_path, config, docker_host, docker_client) as built:
        yield built


def test_the_old_default_image_stays_up_and_takes_password_and_keys(
    world: World, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    key_file, public_key = ssh_key(str(tmp_path))
    world.service.update_member("bob", ssh_keys=public_key)
    port = free_tcp_port()
    booking = world.book("bob", port=port)
    assert booking.id is not None
    password = password_in(world.wait_for_message("bob", booking.id, "is ready"))
    assert "Work folder /root/Work, backup folder /root/Backup, datasets (read-only) " \
        "/root/Dataset." in world.wait_for_message("bob", booking.id, "is ready")

    time.sleep(2)  # the old image's interactive shell exits at once without a TTY
    container = docker_client.containers.get(f"booking-bob-{booking.id}")
    assert container.attrs["State"]["Running"], container.logs()
    assert container.attrs["Config"]["Tty"] and container.attrs["Config"]["OpenStdin"]

    login = ssh_run(port, password, "cat /root/Dataset/data.txt; ls -d /root/Work /root/Backup; "
                    "stat -c '%a %u' /root/.ssh /root/.ssh/authorized_keys")
    assert login.returncode == 0, login.stderr
    assert login.stdout.split("\n") == [
        "shared data", "/root/Backup", "/root/Work", "700 0", "600 0", ""]

    with_key = ssh_run(port, "", "echo in with a key", identity=key_file)
    assert with_key.returncode == 0, with_key.stderr
    assert with_key.stdout == "in with a key\n"
    assert world.status(booking.id) == Status.RUNNING


def test_the_extra_command_runs_through_bash_in_the_container(
    world: World, tmp_path: Path
) -> None:
    command = ('cd /root/Work && echo "$((6 * 7))" > answer.txt && '
               'echo "$BASH_VERSION" | cut -c1 > shell.txt; exec bash')
    port = free_tcp_port()
    booking = world.book("carol", port=port, command=command)
    assert booking.id is not None
    password = password_in(world.wait_for_message("carol", booking.id, "is ready"))
    work = tmp_path / "work" / "carol"
    deadline = time.monotonic() + 20
    while not (work / "shell.txt").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (work / "answer.txt").read_text() == "42\n"
    assert (work / "shell.txt").read_text() == "5\n"  # bash ran it, not sh
    time.sleep(2)
    assert ssh_run(port, password, "echo still up").stdout == "still up\n"
    assert world.status(booking.id) == Status.RUNNING
