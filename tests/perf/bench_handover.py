"""Handover lag at a slot boundary on the real engine: previous end -> next container
running and login sent, for one member's back-to-back bookings on the same port.

    .venv/bin/python -m tests.perf.bench_handover

Runs the real scheduler in this process against the private dockerd
($BOOKING_TEST_DOCKER_HOST or unix:///tmp/booking-dockerd/docker.sock) with the
default 30 s stop grace, twice:
- the tiny SSH image, whose dropbear stops on SIGTERM (target: under 5 s);
- an image built like the old default one, whose interactive bash ignores SIGTERM,
  so the stop takes the whole grace (target: under the grace plus a few seconds).
Each run waits for the next minute boundary at least 20 s away.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import docker

from core.domain.config import SchedulerSection
from core.runtime.docker_runtime import DockerRuntime
from tests.integration.handover import back_to_back, one_minute_slots
from tests.integration.scheduler_world import remove_server_containers, running_world, world_config
from tests.support.docker_fixtures import docker_test_host, free_tcp_port
from tests.support.ssh_image import build_old_style_image, build_ssh_image

GRACE_S = SchedulerSection().stop_grace_seconds


def measure(client: docker.DockerClient, image: str, label: str) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-handover-") as folder:
        tmp = Path(folder)
        config = one_minute_slots(world_config(tmp, image), stop_grace_seconds=GRACE_S,
                                  start_deadline_minutes=2, reconcile_seconds=30)
        try:
            with running_world(tmp, config, DockerRuntime(base_url=docker_test_host())) as world:
                result = back_to_back(world, client, "bob", free_tcp_port())
        finally:
            remove_server_containers(client, config.server.name)
    print(f"{label}: end {result.boundary:%H:%M:%S} -> next container started "
          f"{result.container_lag_s:.2f}s, login sent {result.login_lag_s:.2f}s "
          f"(stop grace {GRACE_S}s; backup restored: {result.restored.strip()!r})")


def main() -> None:
    client = docker.DockerClient(base_url=docker_test_host(), timeout=120)
    measure(client, build_ssh_image(client), "stops on SIGTERM (tiny SSH image)")
    measure(client, build_old_style_image(client), "ignores SIGTERM (old-style image)")


if __name__ == "__main__":
    main()
