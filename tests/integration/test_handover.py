"""At a slot boundary a member's next booking takes over from the previous one: the same
port, the backup of the first restored into the second, no failure. Real scheduler,
real engine, a one-minute slot grid (the test waits for the next boundary)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from core.domain.model import Status
from tests.integration.handover import back_to_back, one_minute_slots
from tests.integration.scheduler_world import (
    World,
    engine_world,
    server_containers,
    world_config,
)
from tests.support.docker_fixtures import free_tcp_port

pytestmark = pytest.mark.docker


@pytest.fixture
def world(tmp_path: Path, ssh_image: str, docker_host: str,
          docker_client: docker.DockerClient) -> Iterator[World]:
    config = one_minute_slots(world_config(tmp_path, ssh_image), stop_grace_seconds=30,
                              start_deadline_minutes=2)
    with engine_world(tmp_path, config, docker_host, docker_client) as built:
        yield built


def test_back_to_back_bookings_hand_over_port_and_files(
    world: World, docker_client: docker.DockerClient
) -> None:
    port = free_tcp_port()
    result = back_to_back(world, docker_client, "bob", port)
    assert result.restored == "edited in the first\n"  # copied out before it was restored
    assert world.status(result.second) == Status.RUNNING
    assert world.status(result.first) == Status.FINISHED
    with world.uow() as uow:
        kinds = [e.kind for e in uow.bookings.events(result.second)]
    assert "failed" not in kinds and "start_retry" not in kinds
    names = [c.name for c in server_containers(docker_client, world.config.server.name)]
    assert names == [f"booking-bob-{result.second}"]
