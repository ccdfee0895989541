"""A real scheduler on a real database (SQLite by default, or any URL) and Docker engine,
for lifecycle tests."""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import docker
import docker.errors

from core.chat import lifecycle_messages, notice_words
from core.domain.config import Config
from core.domain.container import SERVER_LABEL
from core.domain.gpus import GpuInventory
from core.domain.model import Account, Booking, Resources, Status
from core.domain.passwords import PasswordDeriver
from core.runtime.docker_runtime import DockerRuntime
from core.runtime.host_files import HostMemberFiles
from core.runtime.scheduler import Scheduler
from core.runtime.ssh_probe import wait_for_ssh
from core.services.accounts import utcnow
from core.services.booking import BookingService
from core.services.capacity import BookingRequest
from core.services.lifecycle import Lifecycle
from core.services.notifier import Message
from core.services.outbox import OutboxSender
from core.services.ports import SchedulerUnitOfWork
from storage.engine import make_engine, migrate
from storage.uow import SqlUnitOfWork, ensure_server

SECRET = b"test-secret-0123456789abcdef"


class RecordingNotifier:
    """A chat channel that keeps what it was asked to deliver."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Message]] = []
        self._lock = threading.Lock()

    def deliver(self, account: Account, message: Message) -> bool:
        with self._lock:
            self.sent.append((account.name, message))
        return True

    def texts(self, recipient: str, booking_id: int | None = None) -> list[str]:
        with self._lock:
            return [m.text for name, m in self.sent
                    if name == recipient and (booking_id is None or m.booking_id == booking_id)]


def world_config(tmp_path: Path, image: str, **scheduler: Any) -> Config:
    for folder in ("work", "dataset", "backup"):
        (tmp_path / folder).mkdir(exist_ok=True)
    return Config.model_validate({
        "server": {"name": f"test-{uuid.uuid4().hex[:8]}", "public_host": "127.0.0.1",
                   "timezone": "UTC"},
        "capacity": {"cpus": 4, "ram": 3, "swap": 1, "gpus": 2},
        "booking": {"ports": [1024, 65535]},
        "limits": {"default": {"cpus": 4, "memory": 4, "gpus": 2, "work_space": 1,
                               "backup_space": 1}},
        "images": {"default": image, "allowed": [image]},
        "volumes": {"work": str(tmp_path / "work"), "dataset": str(tmp_path / "dataset"),
                    "backup": str(tmp_path / "backup")},
        "scheduler": {"reconcile_seconds": 1, "ssh_wait_seconds": 30, "stop_grace_seconds": 1,
                      "start_deadline_minutes": 0.1, **scheduler},
        "admins": ["boss"],
    })


@dataclass
class World:
    config: Config
    service: BookingService
    scheduler: Scheduler
    notifier: RecordingNotifier
    uow: Callable[[], SchedulerUnitOfWork]
    passwords: PasswordDeriver
    listeners: list[Callable[[int], None]] = field(default_factory=list)

    def book(self, user: str, *, port: int, cpus: float = 1, memory: int = 4, gpus: int = 0,
             start: str = "now", end: str = "1-day", command: str | None = None) -> Booking:
        return self.service.book(BookingRequest(
            user=user, resources=Resources(cpus, memory, gpus), start=start, end=end,
            port=port, command=command))

    def status(self, booking_id: int) -> Status:
        booking = self.service.get(booking_id)
        return booking.status

    def wait_for(self, booking_id: int, status: Status, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.status(booking_id) != status:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"booking {booking_id} is {self.status(booking_id)}, not {status}")
            time.sleep(0.1)

    def wait_for_message(self, recipient: str, booking_id: int, needle: str,
                         timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for text in self.notifier.texts(recipient, booking_id):
                if needle in text:
                    return text
            time.sleep(0.1)
        raise AssertionError(f"no message with {needle!r}: {self.notifier.texts(recipient)}")


def password_in(text: str) -> str:
    match = re.search(r"password: (\S+)", text)
    assert match, text
    return match.group(1)


@contextlib.contextmanager
def running_world(
    tmp_path: Path, config: Config, runtime: DockerRuntime, *, database_url: str | None = None
) -> Iterator[World]:
    engine = make_engine(database_url or f"sqlite:///{tmp_path / 'booking.db'}")
    migrate(engine)
    server_id = ensure_server(engine, config.server.name)
    uow = cast(Callable[[], SchedulerUnitOfWork], lambda: SqlUnitOfWork(engine, server_id))
    listeners: list[Callable[[int], None]] = []
    service = BookingService(config=config, uow=uow, gpus=GpuInventory(2), notices=notice_words,
                             on_change=lambda i: [f(i) for f in listeners] and None)
    passwords = PasswordDeriver(SECRET)
    notifier = RecordingNotifier()
    stop = threading.Event()
    lifecycle = Lifecycle(config=config, uow=uow, runtime=runtime, passwords=passwords,
                          clock=utcnow, stop=stop, words=lifecycle_messages,
                          files=HostMemberFiles(), ssh_ready=wait_for_ssh)
    outbox = OutboxSender(uow=uow, passwords=passwords, notifiers=[("chat", notifier)],
                          fallback=("chat", notifier), clock=utcnow)
    scheduler = Scheduler(config=config, uow=uow, runtime=runtime, lifecycle=lifecycle,
                          outbox=outbox, clock=utcnow)
    listeners.append(scheduler.changed)
    for name in ("bob", "carol", "boss"):
        service.add_account(name, admin=name == "boss")
    scheduler.start()
    try:
        yield World(config, service, scheduler, notifier, uow, passwords, listeners)
    finally:
        stop.set()
        scheduler.stop()
        engine.dispose()


@contextlib.contextmanager
def engine_world(tmp_path: Path, config: Config, docker_host: str,
                 client: docker.DockerClient) -> Iterator[World]:
    """A running world on the Docker engine at `docker_host`; its containers are removed
    afterwards."""
    try:
        with running_world(tmp_path, config, DockerRuntime(base_url=docker_host)) as built:
            yield built
    finally:
        remove_server_containers(client, config.server.name)


def remove_server_containers(client: docker.DockerClient, server: str) -> None:
    for container in server_containers(client, server):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)


def server_containers(client: docker.DockerClient, server: str) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": f"{SERVER_LABEL}={server}"}))
