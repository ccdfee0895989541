"""Scheduler lag on the real engine: slot start -> container started -> message sent.

    .venv/bin/python -m tests.perf.bench_scheduler [N]

Books N bookings (default 8) that all start at the next minute boundary
(slot_minutes: 1), runs the real scheduler in this process against the private
dockerd ($BOOKING_TEST_DOCKER_HOST or unix:///tmp/booking-dockerd/docker.sock)
with the tiny SSH image, and prints the lags.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docker

from core.domain.model import Resources, Status
from core.runtime.docker_runtime import DockerRuntime
from core.services.capacity import BookingRequest
from tests.integration.scheduler_world import (
    remove_server_containers,
    running_world,
    world_config,
)
from tests.support.docker_fixtures import docker_test_host, free_tcp_port
from tests.support.ssh_image import build_ssh_image


def _docker_time(text: str) -> datetime:
    head, _, rest = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{rest[:6]}+00:00" if rest else f"{head}+00:00")


def _stats(name: str, values: list[float]) -> str:
    return (f"{name}: min {min(values):.2f}s  median {statistics.median(values):.2f}s  "
            f"max {max(values):.2f}s")


def main(count: int) -> None:
    client = docker.DockerClient(base_url=docker_test_host(), timeout=120)
    image = build_ssh_image(client)
    with tempfile.TemporaryDirectory(prefix="bench-scheduler-") as folder:
        tmp = Path(folder)
        config = world_config(tmp, image, workers=min(count, 32), reconcile_seconds=30)
        data = config.model_dump()
        data["booking"]["slot_minutes"] = 1
        data["capacity"] = {"cpus": count, "ram": count, "swap": 0, "gpus": 0}
        data["limits"]["default"] = {"cpus": 1, "memory": 1, "gpus": 0}
        config = type(config).model_validate(data)
        try:
            with running_world(tmp, config, DockerRuntime(base_url=docker_test_host())) as world:
                now = datetime.now(UTC)
                slot = (now + timedelta(seconds=70)).replace(second=0, microsecond=0)
                ids = []
                for n in range(count):
                    world.service.add_account(f"u{n}")
                    booking = world.service.book(BookingRequest(
                        user=f"u{n}", resources=Resources(1, 1, 0),
                        start=slot.strftime("%Y %m %d %H %M"), end="1-day",
                        port=free_tcp_port()))
                    assert booking.id is not None
                    ids.append(booking.id)
                print(f"{count} bookings start at {slot:%H:%M:%S} UTC; waiting...")
                deadline = time.monotonic() + 180 + (slot - now).total_seconds()
                while any(world.status(i) != Status.RUNNING for i in ids) or len(
                        world.notifier.sent) < count:
                    if time.monotonic() > deadline:
                        raise SystemExit("not every booking started in time")
                    time.sleep(0.05)
                container_lag, message_lag = [], []
                for booking_id in ids:
                    name = f"booking-{world.service.get(booking_id).account}-{booking_id}"
                    started = _docker_time(client.containers.get(name).attrs["State"]["StartedAt"])
                    container_lag.append((started - slot).total_seconds())
                    with world.uow() as uow:
                        [sent] = [m for m in uow.outbox.sent(booking_id) if m.kind == "ready"]
                    message_lag.append(sent_at(world, sent.id) - slot.timestamp())
                print(_stats("slot start -> container started", container_lag))
                print(_stats("slot start -> login message sent", message_lag))
                print(f"all {count} running and told within {max(message_lag):.2f}s "
                      f"({count / max(message_lag):.1f} bookings/s)")
        finally:
            remove_server_containers(client, config.server.name)


def sent_at(world: object, item_id: int) -> float:
    from sqlalchemy import select

    from storage.tables import OutboxRow

    with world.uow() as uow:  # type: ignore[attr-defined]
        row = uow._session.scalars(select(OutboxRow).where(OutboxRow.id == item_id)).one()
        return float(row.sent_at.timestamp())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
