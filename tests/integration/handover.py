"""Two back-to-back bookings of one member at a slot boundary, on the real scheduler and
engine: shared by tests/integration/test_handover.py and tests/perf/bench_handover.py."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import docker

from core.domain.config import Config
from core.domain.model import Status
from tests.integration.scheduler_world import World, password_in
from tests.support.docker_fixtures import ssh_run


def one_minute_slots(config: Config, **scheduler: object) -> Config:
    data = config.model_dump()
    data["booking"]["slot_minutes"] = 1
    data["scheduler"].update(scheduler)
    return Config.model_validate(data)


@dataclass(frozen=True)
class Handover:
    first: int
    second: int
    boundary: datetime
    container_lag_s: float  # first's end -> second's container started
    login_lag_s: float  # first's end -> second's login message delivered
    restored: str  # /root/.bashrc in the second container


def _docker_time(text: str) -> datetime:
    head, _, rest = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{rest[:6]}+00:00" if rest else f"{head}+00:00")


def back_to_back(world: World, client: docker.DockerClient, user: str, port: int,
                 *, lead_s: float = 20) -> Handover:
    """`user` books now until the next minute boundary at least `lead_s` away, and again
    from that boundary, on the same port; the first session edits ~/.bashrc (in the
    backup plan). Waits for the second login and measures the handover."""
    now = datetime.now(UTC)
    boundary = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if (boundary - now).total_seconds() < lead_s:
        boundary += timedelta(minutes=1)
    stamp = boundary.strftime("%Y %m %d %H %M")
    first = world.book(user, port=port, start="now", end=stamp)
    second = world.book(user, port=port, start=stamp, end="1-day")
    assert first.id is not None and second.id is not None
    password = password_in(world.wait_for_message(user, first.id, "is ready", timeout=60))
    edited = ssh_run(port, password, "echo edited in the first > /root/.bashrc")
    assert edited.returncode == 0, edited.stderr

    wait = (boundary - datetime.now(UTC)).total_seconds() + 120
    ready = world.wait_for_message(user, second.id, "is ready", timeout=wait)
    told_at = time.time()
    world.wait_for(first.id, Status.FINISHED, timeout=10)
    container = client.containers.get(f"booking-{user}-{second.id}")
    started = _docker_time(container.attrs["State"]["StartedAt"])
    login = ssh_run(port, password_in(ready), "cat /root/.bashrc")
    assert login.returncode == 0, login.stderr
    return Handover(first.id, second.id, boundary,
                    (started - boundary).total_seconds(), told_at - boundary.timestamp(),
                    login.stdout)
