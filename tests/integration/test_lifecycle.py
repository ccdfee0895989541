"""Bookings run in real containers: start, login, backup, end, failure.

Real SQLite, real dockerd, the tiny SSH image, and the real scheduler; the
member's view is the message text a chat channel receives.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from core.domain.model import Status
from core.runtime.docker_runtime import DockerRuntime
from tests.integration.scheduler_world import (
    World,
    password_in,
    remove_server_containers,
    running_world,
    server_containers,
    world_config,
)
from tests.support.docker_fixtures import free_tcp_port, ssh_run

pytestmark = pytest.mark.docker
GIB = 1024**3


class RecordingRuntime(DockerRuntime):
    """The real runtime, remembering each created container's HostConfig."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url=base_url)
        self.host_configs: dict[str, dict[str, Any]] = {}

    def _create(self, spec):  # type: ignore[no-untyped-def]
        container = super()._create(spec)
        container.reload()
        self.host_configs[spec.name] = container.attrs["HostConfig"]
        return container


@pytest.fixture
def runtime(docker_host: str) -> RecordingRuntime:
    return RecordingRuntime(docker_host)


@pytest.fixture
def world(
    tmp_path: Path, ssh_image: str, runtime: RecordingRuntime, docker_client: docker.DockerClient
) -> Iterator[World]:
    config = world_config(tmp_path, ssh_image)
    (tmp_path / "dataset" / "data.txt").write_text("shared data\n")
    try:
        with running_world(tmp_path, config, runtime) as built:
            yield built
    finally:
        remove_server_containers(docker_client, config.server.name)


def test_booking_runs_logs_in_backs_up_and_ends(
    world: World, runtime: RecordingRuntime, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    port = free_tcp_port()
    first = world.book("bob", port=port, cpus=1.5, memory=4)
    assert first.id is not None
    ready = world.wait_for_message("bob", first.id, "is ready")
    world.wait_for(first.id, Status.RUNNING)

    name = f"booking-bob-{first.id}"
    host_config = docker_client.containers.get(name).attrs["HostConfig"]
    assert host_config["NanoCpus"] == 1_500_000_000
    assert host_config["Memory"] == 3 * GIB  # ceil(4 x 3/(3+1))
    assert host_config["MemorySwap"] == 4 * GIB
    assert host_config["ShmSize"] == 1 * GIB
    assert f"{tmp_path}/dataset:/root/Dataset:ro" in host_config["Binds"]
    assert f"{tmp_path}/work/bob:/root/Work:rw" in host_config["Binds"]
    assert f"{tmp_path}/backup/bob:/root/Backup:rw" in host_config["Binds"]
    assert host_config["PortBindings"]["22/tcp"][0]["HostPort"] == str(port)

    assert f"ssh -p {port} root@127.0.0.1" in ready
    password = password_in(ready)
    with world.uow() as uow:  # the database never holds the password
        stored = [m.text for m in uow.outbox.sent(first.id)]
    assert stored and all(password not in text for text in stored)

    login = ssh_run(port, password, "cat /root/Dataset/data.txt; echo remembered > /root/.bashrc")
    assert login.returncode == 0, login.stderr
    assert login.stdout == "shared data\n"
    assert ssh_run(port, "not-the-password", "true").returncode != 0

    world.service.cancel(first.id, actor="bob")  # end early: the same end sequence
    ended = world.wait_for_message("bob", first.id, "has ended")
    world.wait_for(first.id, Status.FINISHED)
    assert "Backed up to /root/Backup: bashrc." in ended  # the folder as the member sees it
    assert "/root/.ssh" not in ended  # in the plan, never in a container: nothing to report
    assert server_containers(docker_client, world.config.server.name) == []
    assert (tmp_path / "backup" / "bob" / "bashrc").read_text() == "remembered\n"

    second = world.book("bob", port=port)
    assert second.id is not None
    password_two = password_in(world.wait_for_message("bob", second.id, "is ready"))
    assert password_two != password  # a fresh password per booking
    again = ssh_run(port, password_two, "cat /root/.bashrc")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "remembered\n"

    # The restored file is a real file, not a bind mount: in-place edits work
    # ("Device or resource busy" before), and the edit is backed up again.
    edited = ssh_run(port, password_two, "sed -i s/remembered/edited/ /root/.bashrc && "
                     "git_like=/root/.bashrc.tmp && echo more >> $git_like && "
                     "cat /root/.bashrc $git_like > /root/.new && mv /root/.new /root/.bashrc && "
                     "rm $git_like && cat /root/.bashrc")
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout == "edited\nmore\n"
    world.service.cancel(second.id, actor="bob")
    world.wait_for(second.id, Status.FINISHED)
    assert (tmp_path / "backup" / "bob" / "bashrc").read_text() == "edited\nmore\n"

    third = world.book("bob", port=port)
    assert third.id is not None
    password_three = password_in(world.wait_for_message("bob", third.id, "is ready"))
    kept = ssh_run(port, password_three, "cat /root/.bashrc")
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout == "edited\nmore\n"


def test_gpu_start_without_nvidia_runtime_fails_cleanly(
    world: World, runtime: RecordingRuntime, docker_client: docker.DockerClient
) -> None:
    if "nvidia" in (docker_client.info().get("Runtimes") or {}):
        pytest.skip("this engine has the NVIDIA runtime")
    booking = world.book("carol", port=free_tcp_port(), gpus=1)
    assert booking.id is not None
    failed = world.wait_for_message("carol", booking.id, "could not start")
    world.wait_for(booking.id, Status.FAILED)

    name = f"booking-carol-{booking.id}"
    requests = runtime.host_configs[name]["DeviceRequests"]
    assert [r["DeviceIDs"] for r in requests] == [[str(i) for i in booking.gpu_ids]]
    assert failed == (
        f"Booking #{booking.id} could not start: the server cannot give containers GPUs right "
        "now (its NVIDIA container runtime is missing). Its resources are free again; book "
        "anew once that is fixed (the admins have been told).")
    told_admin = world.wait_for_message("boss", booking.id, "failed")
    assert 'could not select device driver "nvidia"' in told_admin  # the raw text
    assert server_containers(docker_client, world.config.server.name) == []
    with world.uow() as uow:
        reasons = [e.detail["reason"] for e in uow.bookings.events(booking.id)
                   if e.kind == "failed"]
    assert len(reasons) == 1 and "nvidia" in reasons[0]
    assert world.service.free_slots()[0].gpu_ids == (0, 1)  # resources freed


def test_reconcile_removes_stray_and_restores_missing_containers(
    world: World, docker_client: docker.DockerClient, ssh_image: str
) -> None:
    from core.domain.container import BOOKING_LABEL, MANAGED_LABEL, SERVER_LABEL

    stray = docker_client.containers.run(
        ssh_image, name=f"booking-ghost-{world.config.server.name}", detach=True,
        labels={MANAGED_LABEL: "true", BOOKING_LABEL: "9999",
                SERVER_LABEL: world.config.server.name})
    port = free_tcp_port()
    booking = world.book("bob", port=port)
    assert booking.id is not None
    password = password_in(world.wait_for_message("bob", booking.id, "is ready"))
    docker_client.containers.get(f"booking-bob-{booking.id}").remove(force=True)

    world.wait_for_message("bob", booking.id, "was started again", timeout=20)
    names = [c.name for c in server_containers(docker_client, world.config.server.name)]
    assert names == [f"booking-bob-{booking.id}"], names
    assert stray.name not in names
    from core.runtime.ssh_probe import wait_for_ssh

    assert wait_for_ssh("127.0.0.1", port, 20)
    assert ssh_run(port, password, "echo same").stdout == "same\n"


def test_a_stopped_container_is_started_again_with_its_files(
    world: World, docker_client: docker.DockerClient
) -> None:
    """`docker stop` (or an engine restart, a reboot): the next reconcile pass starts the
    same container again, so files outside the mounted folders are still there."""
    from core.runtime.ssh_probe import wait_for_ssh

    port = free_tcp_port()
    booking = world.book("bob", port=port)
    assert booking.id is not None
    password = password_in(world.wait_for_message("bob", booking.id, "is ready"))
    name = f"booking-bob-{booking.id}"
    first_id = docker_client.containers.get(name).id
    wrote = ssh_run(port, password, "echo kept > /root/outside.txt")
    assert wrote.returncode == 0, wrote.stderr

    docker_client.containers.get(name).stop(timeout=0)
    told = world.wait_for_message("bob", booking.id, "started again", timeout=20)
    assert "same password" in told
    container = docker_client.containers.get(name)
    assert container.id == first_id and container.attrs["State"]["Running"]
    assert wait_for_ssh("127.0.0.1", port, 20)
    login = ssh_run(port, password, "cat /root/outside.txt")
    assert login.returncode == 0, login.stderr
    assert login.stdout == "kept\n"

    time.sleep(3)  # a few reconcile passes: told once, not started again
    assert [t for t in world.notifier.texts("bob", booking.id) if "started again" in t] == [told]
    assert world.status(booking.id) == Status.RUNNING


def test_restart_action_restarts_the_container_and_the_login_stays_the_same(
    world: World, docker_client: docker.DockerClient
) -> None:
    from core.chat.conversation import ConversationEngine
    from core.runtime.ssh_probe import wait_for_ssh

    port = free_tcp_port()
    booking = world.book("bob", port=port)
    assert booking.id is not None
    password = password_in(world.wait_for_message("bob", booking.id, "is ready"))
    name = f"booking-bob-{booking.id}"
    before = docker_client.containers.get(name).attrs
    kept = ssh_run(port, password, "echo kept > /root/notes.txt")
    assert kept.returncode == 0, kept.stderr

    chat = ConversationEngine(world.service)
    [reply] = chat.handle(world.service.account("bob"), f"restart {booking.id}")
    assert reply.text.startswith(f"Restarting the container of booking #{booking.id}")
    told = world.wait_for_message("bob", booking.id, "was restarted")
    assert f"ssh -p {port} root@127.0.0.1" in told and "same password" in told

    after = docker_client.containers.get(name).attrs
    assert after["Id"] == before["Id"]  # the same container, restarted
    assert after["State"]["Running"]
    assert after["State"]["StartedAt"] != before["State"]["StartedAt"]
    assert wait_for_ssh("127.0.0.1", port, 20)
    login = ssh_run(port, password, "cat /root/notes.txt")
    assert login.returncode == 0, login.stderr
    assert login.stdout == "kept\n"

    time.sleep(3)  # a few reconcile passes: the request is not acted on twice
    assert docker_client.containers.get(name).attrs["State"]["StartedAt"] == \
        after["State"]["StartedAt"]
    assert [t for t in world.notifier.texts("bob", booking.id) if "restarted" in t] == [told]
    assert world.status(booking.id) == Status.RUNNING
