"""A booking's life on PostgreSQL: start -> running -> end in a real container.

The same scheduler as tests/integration/test_lifecycle.py (which runs on SQLite),
on a fresh PostgreSQL database and the private Docker engine with the SSH image.
"""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from core.domain.model import Status
from core.runtime.docker_runtime import DockerRuntime
from core.services.notifier import MessageKind
from tests.integration.scheduler_world import (
    password_in,
    remove_server_containers,
    running_world,
    server_containers,
    world_config,
)
from tests.support.docker_fixtures import free_tcp_port, ssh_run

pytestmark = [pytest.mark.docker, pytest.mark.postgres]


def test_booking_starts_runs_and_ends_on_postgres(
    tmp_path: Path, postgres_url: str, ssh_image: str, docker_host: str,
    docker_client: docker.DockerClient,
) -> None:
    config = world_config(tmp_path, ssh_image)
    try:
        with running_world(tmp_path, config, DockerRuntime(base_url=docker_host),
                           database_url=postgres_url) as world:
            port = free_tcp_port()
            booking = world.book("bob", port=port)
            assert booking.id is not None
            ready = world.wait_for_message("bob", booking.id, "is ready")
            world.wait_for(booking.id, Status.RUNNING)
            assert f"ssh -p {port} root@127.0.0.1" in ready
            login = ssh_run(port, password_in(ready), "echo on-postgres")
            assert login.returncode == 0, login.stderr
            assert login.stdout == "on-postgres\n"

            world.service.cancel(booking.id, actor="bob")
            world.wait_for_message("bob", booking.id, "has ended")
            world.wait_for(booking.id, Status.FINISHED)
            assert server_containers(docker_client, config.server.name) == []
            with world.uow() as uow:
                kinds = [e.kind for e in uow.bookings.events(booking.id)]
                sent = uow.outbox.sent(booking.id)
            assert kinds.count("running") == 1 and kinds.count("finished") == 1
            assert [item.kind for item in sent].count("ready") == 1
            assert all(item.created_at.tzinfo is not None for item in sent)
            assert [m.text for _, m in world.notifier.sent
                    if m.booking_id == booking.id and m.kind == MessageKind.READY] == [ready]
    finally:
        remove_server_containers(docker_client, config.server.name)
