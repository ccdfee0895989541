"""Lifecycle rules with a fake clock and a fake container runtime (real SQLite)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from core.chat import lifecycle_messages, notice_words
from core.domain.config import Config
from core.domain.container import ContainerError, ContainerSpec, ManagedContainer, RestoreCopy
from core.domain.gpus import GpuInventory
from core.domain.model import Resources, Status
from core.domain.passwords import PasswordDeriver
from core.domain.quota import GB
from core.runtime.host_files import HostMemberFiles
from core.runtime.scheduler import Scheduler
from core.services.booking import BookingService
from core.services.capacity import BookingRequest
from core.services.lifecycle import Lifecycle
from core.services.notifier import Message
from core.services.outbox import OutboxSender
from core.services.ports import SchedulerUnitOfWork
from storage.engine import make_engine, migrate
from storage.uow import SqlUnitOfWork, ensure_server
from tests.factories import Clock
from tests.integration.scheduler_world import RecordingNotifier

NOW = datetime(2026, 11, 29, 4, 10, tzinfo=UTC)


class FakeRuntime:
    def __init__(self) -> None:
        self.running: dict[str, ContainerSpec] = {}
        self.errors: list[ContainerError] = []
        self.copied: list[str] = []
        self.restarts: list[str] = []
        self.stopped: set[str] = set()

    def start(self, spec: ContainerSpec) -> list[str]:
        if self.errors:
            raise self.errors.pop(0)
        self.running[spec.name] = spec
        return []

    def stop(self, name: str, *, grace_seconds: int) -> None:
        if name in self.running:
            self.stopped.add(name)

    def remove(self, name: str) -> None:
        self.running.pop(name, None)
        self.stopped.discard(name)

    def stop_and_remove(self, name: str, *, grace_seconds: int) -> None:
        self.remove(name)

    def restart(self, name: str) -> None:
        if self.errors:
            raise self.errors.pop(0)
        if name not in self.running:
            raise ContainerError(f"no container named {name!r}", retryable=False)
        self.restarts.append(name)

    def archive(self, name: str, container_path: str) -> Iterator[bytes]:
        """One file named after the path, holding "saved"; only from a stopped container."""
        if name not in self.running:
            raise ContainerError(f"no container named {name!r}", retryable=False)
        assert name in self.stopped, "a backup is copied out of a stopped container"
        self.copied.append(container_path)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(container_path.rsplit("/", 1)[-1])
            info.size = len(b"saved")
            tar.addfile(info, io.BytesIO(b"saved"))
        yield buffer.getvalue()

    def list_managed(self) -> list[ManagedContainer]:
        return [ManagedContainer(n, None, True) for n in self.running]

    def is_running(self, name: str) -> bool:
        return name in self.running


class Rig:
    def __init__(self, tmp_path: Path, database_url: str | None = None, **scheduler: object) -> None:
        self.clock = Clock(NOW)
        self.config = Config.model_validate({
            "server": {"name": "gpu1", "public_host": "gpu1.test", "timezone": "Asia/Taipei"},
            "capacity": {"cpus": 8, "ram": 48, "swap": 16, "gpus": 2},
            "limits": {"default": {"cpus": 8, "memory": 64, "gpus": 2, "work_space": 0.001,
                                   "backup_space": 1}},
            "images": {"default": "lab/gpu:1", "allowed": ["lab/gpu:1"]},
            "volumes": {"work": str(tmp_path / "work"), "dataset": str(tmp_path / "data"),
                        "backup": str(tmp_path / "backup")},
            "scheduler": {"reminder_minutes": 30, "start_deadline_minutes": 10, **scheduler},
            "admins": ["alice"],
        })
        engine = make_engine(database_url or f"sqlite:///{tmp_path / 'db.sqlite'}")
        migrate(engine)
        server_id = ensure_server(engine, "gpu1")
        self.uow = cast(Callable[[], SchedulerUnitOfWork], lambda: SqlUnitOfWork(engine, server_id))
        self.service = BookingService(config=self.config, uow=self.uow, gpus=GpuInventory(2),
                                      clock=self.clock, notices=notice_words)
        for name in ("alice", "bob"):
            self.service.add_account(name)
        self.runtime = FakeRuntime()
        self.passwords = PasswordDeriver(b"unit-test-secret-0123456789")
        self.retries: list[float] = []
        self.lifecycle = Lifecycle(config=self.config, uow=self.uow, runtime=self.runtime,
                                   passwords=self.passwords, clock=self.clock,
                                   words=lifecycle_messages, files=HostMemberFiles(),
                                   ssh_ready=lambda host, port, timeout: True)
        self.lifecycle.retry_later = lambda booking_id, delay: self.retries.append(delay)
        self.notifier = RecordingNotifier()
        self.outbox = OutboxSender(uow=self.uow, passwords=self.passwords,
                                   notifiers=[("chat", self.notifier)],
                                   fallback=("stdout", self.notifier), clock=self.clock)

    def book(self, start: str = "now", end: str = "1-day", memory: int = 16,
             user: str = "bob") -> int:
        booking = self.service.book(BookingRequest(
            user=user, resources=Resources(2, memory, 1), start=start, end=end))
        assert booking.id is not None
        return booking.id

    def step(self, booking_id: int) -> Status:
        self.lifecycle.advance(booking_id, verify=True)
        self.outbox.flush()
        return self.service.get(booking_id).status

    def password(self, booking_id: int) -> str:
        return self.passwords.password_for(self.service.get(booking_id))

    def messages(self, who: str = "bob") -> list[str]:
        return self.notifier.texts(who)

    def events(self, booking_id: int) -> list[str]:
        with self.uow() as uow:
            return [e.kind for e in uow.bookings.events(booking_id)]


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def test_a_booking_waits_for_its_start_then_runs_with_its_resources(rig: Rig) -> None:
    booking_id = rig.book(start="2-day")
    assert rig.step(booking_id) == Status.BOOKED and rig.runtime.running == {}
    rig.clock.advance(days=2)
    assert rig.step(booking_id) == Status.RUNNING
    spec = rig.runtime.running[f"booking-bob-{booking_id}"]
    assert (spec.ram_gb, spec.memory_gb, spec.shm_gb) == (12, 16, 4)  # ceil(16 x 48/64)
    assert spec.environment["PASSWORD"] == rig.password(booking_id)
    [ready] = rig.messages()
    assert f"password: {rig.password(booking_id)}" in ready
    assert "ssh -p 10001 root@gpu1.test" in ready


def test_ready_message_is_sent_once_however_often_the_booking_is_advanced(rig: Rig) -> None:
    booking_id = rig.book()
    for _ in range(3):
        rig.step(booking_id)
    assert len([t for t in rig.messages() if "is ready" in t]) == 1


def test_retryable_start_errors_retry_with_backoff_then_fail_at_the_deadline(rig: Rig) -> None:
    booking_id = rig.book()
    rig.runtime.errors = [ContainerError("engine unreachable", retryable=True)] * 20
    assert rig.step(booking_id) == Status.STARTING
    rig.clock.advance(seconds=30)
    assert rig.step(booking_id) == Status.STARTING
    assert rig.retries == [2.0, 4.0]
    rig.clock.advance(minutes=10)
    assert rig.step(booking_id) == Status.FAILED
    assert "could not start: the server's container engine is not answering" in rig.messages()[-1]
    assert any("failed: engine unreachable" in t for t in rig.messages("alice"))


def test_a_refused_start_fails_at_once(rig: Rig) -> None:
    booking_id = rig.book()
    rig.runtime.errors = [ContainerError("image 'lab/gpu:1' is not on the engine",
                                         retryable=False)]
    assert rig.step(booking_id) == Status.FAILED
    assert rig.events(booking_id)[-1] == "failed"
    assert rig.service.free_slots()[0].gpu_ids == (0, 1)


def test_over_quota_is_not_started_and_says_how_much_to_free(rig: Rig, tmp_path: Path) -> None:
    (tmp_path / "work" / "bob").mkdir(parents=True)
    (tmp_path / "work" / "bob" / "big").write_bytes(b"x" * 3 * 1024**2)
    booking_id = rig.book()
    assert rig.step(booking_id) == Status.FAILED
    assert rig.runtime.running == {}
    assert "of its 1 MB quota, so at least 2 MB must be freed" in rig.messages()[-1]


def test_reminder_comes_once_before_the_end_and_again_after_an_extension(rig: Rig) -> None:
    booking_id = rig.book(end="1-day")
    rig.step(booking_id)
    end = rig.service.get(booking_id).end
    rig.clock.now = end - timedelta(minutes=20)
    rig.step(booking_id)
    rig.step(booking_id)
    assert len([t for t in rig.messages() if "extend" in t and "ends at" in t]) == 1
    rig.service.extend(booking_id, "1-day", actor="bob")
    rig.clock.now = end + timedelta(days=1, minutes=-10)
    rig.step(booking_id)
    assert len([t for t in rig.messages() if "ends at" in t]) == 2


def test_the_end_backs_up_removes_and_finishes(rig: Rig, tmp_path: Path) -> None:
    booking_id = rig.book(end="1-day")
    rig.step(booking_id)
    rig.clock.now = rig.service.get(booking_id).end
    assert rig.step(booking_id) == Status.FINISHED
    assert rig.runtime.running == {}
    assert rig.runtime.copied == ["/root/.ssh", "/root/.bashrc"]
    assert (tmp_path / "backup" / "bob" / "bashrc").read_text() == "saved"
    assert "has ended" in rig.messages()[-1]


def test_an_engine_outage_at_the_end_keeps_the_resources_until_it_is_done(rig: Rig) -> None:
    booking_id = rig.book(end="1-day")
    rig.step(booking_id)
    rig.clock.now = rig.service.get(booking_id).end

    def broken(name: str, *, grace_seconds: int) -> None:
        raise ContainerError("engine unreachable", retryable=True)

    rig.runtime.stop = broken  # type: ignore[method-assign]
    assert rig.step(booking_id) == Status.ENDING
    assert f"booking-bob-{booking_id}" in rig.runtime.running
    del rig.runtime.stop
    assert rig.step(booking_id) == Status.FINISHED
    assert rig.runtime.running == {}


def test_a_window_missed_entirely_is_failed_not_started(rig: Rig) -> None:
    booking_id = rig.book(end="1-day")
    rig.clock.advance(days=2)
    assert rig.step(booking_id) == Status.FAILED
    assert rig.runtime.running == {}


def test_a_vanished_container_of_a_running_booking_is_made_again(rig: Rig) -> None:
    booking_id = rig.book()
    rig.step(booking_id)
    rig.runtime.running.clear()
    assert rig.step(booking_id) == Status.RUNNING
    assert f"booking-bob-{booking_id}" in rig.runtime.running
    assert "was started again" in rig.messages()[-1]


def test_outbox_retries_a_failing_chat_then_falls_back(rig: Rig) -> None:
    class Down:
        def deliver(self, account: object, message: Message) -> bool:
            raise ConnectionError("chat down")

    outbox = OutboxSender(uow=rig.uow, passwords=rig.passwords, notifiers=[("chat", Down())],
                          fallback=("stdout", rig.notifier), clock=rig.clock)
    booking_id = rig.book()
    rig.lifecycle.advance(booking_id)
    assert outbox.flush() == 0
    assert outbox.flush() == 0  # not due again yet
    for _ in range(10):
        rig.clock.advance(minutes=11)
        outbox.flush()
    assert len(rig.messages()) == 1


def test_a_restart_request_restarts_the_container_once_and_tells_the_member(rig: Rig) -> None:
    booking_id = rig.book()
    rig.step(booking_id)
    rig.service.restart(booking_id, actor="bob")
    for _ in range(3):  # the change hook and reconcile passes see the same request
        assert rig.step(booking_id) == Status.RUNNING
    assert rig.runtime.restarts == [f"booking-bob-{booking_id}"]
    [told] = [t for t in rig.messages() if "restarted" in t]
    assert f"booking #{booking_id} was restarted" in told
    assert "same password" in told and "ssh -p 10001 root@gpu1.test" in told
    assert rig.password(booking_id) not in told
    assert rig.events(booking_id)[-2:] == ["restart_requested", "restarted"]
    rig.service.restart(booking_id, actor="bob")  # a later request is a new restart
    rig.step(booking_id)
    assert len(rig.runtime.restarts) == 2


def test_a_failed_restart_is_recorded_and_told_and_the_booking_keeps_running(rig: Rig) -> None:
    booking_id = rig.book()
    rig.step(booking_id)
    rig.service.restart(booking_id, actor="bob")
    rig.runtime.errors = [ContainerError("engine unreachable", retryable=True)]
    assert rig.step(booking_id) == Status.RUNNING  # retried later, not failed yet
    assert rig.retries and "restart_failed" not in rig.events(booking_id)
    rig.runtime.errors = [ContainerError("cannot restart: device busy", retryable=False)]
    assert rig.step(booking_id) == Status.RUNNING
    assert rig.runtime.restarts == []
    assert rig.events(booking_id)[-1] == "restart_failed"
    assert "could not be restarted: the container could not be started" in rig.messages()[-1]
    rig.step(booking_id)  # the failure answered the request: no second try, no second message
    assert len([t for t in rig.messages() if "could not be restarted" in t]) == 1


def test_a_restart_asked_of_an_ended_booking_is_not_acted_on(rig: Rig) -> None:
    booking_id = rig.book(end="1-day")
    rig.step(booking_id)
    rig.service.restart(booking_id, actor="bob")
    rig.clock.now = rig.service.get(booking_id).end
    assert rig.step(booking_id) == Status.FINISHED
    assert rig.runtime.restarts == []


def test_restored_paths_are_copied_in_not_mounted_and_copied_out_again(
    rig: Rig, tmp_path: Path
) -> None:
    first = rig.book(end="1-day")
    rig.step(first)
    rig.clock.now = rig.service.get(first).end
    assert rig.step(first) == Status.FINISHED
    bashrc = tmp_path / "backup" / "bob" / "bashrc"
    assert bashrc.read_text() == "saved"

    second = rig.book(end="1-day")
    rig.step(second)
    spec = rig.runtime.running[f"booking-bob-{second}"]
    assert RestoreCopy(str(bashrc.parent), "bashrc", "/root/.bashrc") in spec.restore
    assert all(m.container_path != "/root/.bashrc" for m in spec.mounts)
    rig.runtime.copied.clear()
    rig.clock.now = rig.service.get(second).end
    assert rig.step(second) == Status.FINISHED
    assert "/root/.bashrc" in rig.runtime.copied  # backed up again
    assert bashrc.read_text() == "saved"


def test_a_container_that_keeps_stopping_is_left_stopped_and_people_are_told_once(
    rig: Rig,
) -> None:
    booking_id = rig.book()
    rig.step(booking_id)
    name = f"booking-bob-{booking_id}"
    for _ in range(3):
        rig.clock.advance(minutes=1)
        rig.runtime.running.clear()
        assert rig.step(booking_id) == Status.RUNNING
        assert name in rig.runtime.running
    rig.clock.advance(minutes=1)
    rig.runtime.running.clear()
    for _ in range(3):  # further reconcile passes neither start it nor tell anyone again
        assert rig.step(booking_id) == Status.RUNNING
        assert name not in rig.runtime.running
    assert rig.events(booking_id).count("container_restored") == 3
    [told] = [t for t in rig.messages() if "keeps stopping" in t]
    assert "left stopped" in told and f"restart {booking_id}" in told
    [admin] = [t for t in rig.messages("alice") if "left stopped" in t]
    assert f"Booking #{booking_id} of bob" in admin
    assert rig.events(booking_id).count("recovery_given_up") == 1


def test_recoveries_spread_over_time_are_not_limited(rig: Rig) -> None:
    booking_id = rig.book()
    rig.step(booking_id)
    for _ in range(5):
        rig.clock.advance(minutes=20)
        rig.runtime.running.clear()
        rig.step(booking_id)
        assert f"booking-bob-{booking_id}" in rig.runtime.running
    assert not [t for t in rig.messages() if "keeps stopping" in t]


def test_an_admin_who_owns_the_failed_booking_gets_one_message(rig: Rig) -> None:
    booking_id = rig.book(user="alice")
    rig.runtime.errors = [ContainerError("image missing", retryable=False)]
    assert rig.step(booking_id) == Status.FAILED
    [told] = rig.messages("alice")  # the member's message, not the admins' one too
    assert "could not start" in told


def test_the_reconcile_pass_honours_the_start_retry_backoff(rig: Rig) -> None:
    scheduler = Scheduler(config=rig.config, uow=rig.uow, runtime=rig.runtime,
                          lifecycle=rig.lifecycle, outbox=rig.outbox, clock=rig.clock)
    kicked: list[int] = []
    scheduler.kick = lambda booking_id, *, verify=False: kicked.append(booking_id)  # type: ignore[method-assign]
    try:
        booking_id = rig.book()
        rig.runtime.errors = [ContainerError("engine unreachable", retryable=True)] * 2
        rig.lifecycle.advance(booking_id)  # fails: retry in 2s
        with rig.uow() as uow:
            [retry] = [e for e in uow.bookings.events(booking_id) if e.kind == "start_retry"]
        assert retry.detail["delay_s"] == 2.0
        scheduler.reconcile()
        assert kicked == []  # still backing off
        rig.clock.advance(seconds=2)
        scheduler.reconcile()
        assert kicked == [booking_id]
        scheduler._advance(booking_id, False)  # the retry: fails again, now 4s
        kicked.clear()
        rig.clock.advance(seconds=3)
        scheduler.reconcile()
        assert kicked == []
        rig.clock.advance(seconds=1)
        scheduler.reconcile()
        assert kicked == [booking_id]
    finally:
        scheduler.stop()


def test_an_end_that_keeps_failing_backs_off_and_tells_the_admins_once(rig: Rig) -> None:
    booking_id = rig.book(end="1-day")
    rig.step(booking_id)
    rig.clock.now = rig.service.get(booking_id).end

    def broken(name: str, *, grace_seconds: int) -> None:
        raise ContainerError("engine unreachable", retryable=True)

    rig.runtime.stop = broken  # type: ignore[method-assign]
    for _ in range(8):
        assert rig.step(booking_id) == Status.ENDING
        rig.clock.advance(minutes=1)
    assert rig.retries == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert not [t for t in rig.messages("alice") if "could not be ended" in t]
    rig.clock.advance(minutes=3)  # failing for 10 minutes (the start deadline)
    for _ in range(3):
        assert rig.step(booking_id) == Status.ENDING
    [admin] = [t for t in rig.messages("alice") if "could not be ended" in t]
    assert f"Booking #{booking_id} of bob" in admin and "engine unreachable" in admin
    del rig.runtime.stop
    assert rig.step(booking_id) == Status.FINISHED
    events = rig.events(booking_id)
    assert events[events.index("ending"):] == ["ending", "end_retry", "end_stuck", "finished"]


def test_a_start_waits_for_the_container_that_still_holds_its_gpus(rig: Rig) -> None:
    """At a slot boundary the next booking's start may run before the previous end: it
    waits (no failure) until that container is gone, then runs on the same GPU."""
    bob = rig.book(end="2-hour")
    assert rig.step(bob) == Status.RUNNING
    alice = rig.service.book(BookingRequest(user="alice", resources=Resources(2, 16, 2),
                                            start="2-hour", end="1-day"))
    assert alice.id is not None
    rig.clock.now = rig.service.get(bob).end

    assert rig.step(alice.id) == Status.STARTING  # bob's container still holds a GPU
    assert list(rig.runtime.running) == [f"booking-bob-{bob}"]
    assert rig.retries == [1.0]
    assert rig.step(bob) == Status.FINISHED
    assert rig.retries[-1] == 0.0  # the waiting start is woken at once
    assert rig.step(alice.id) == Status.RUNNING
    assert rig.runtime.running[f"booking-alice-{alice.id}"].gpu_ids == (0, 1)
    assert "failed" not in rig.events(alice.id)


def test_back_to_back_bookings_of_one_member_restore_what_the_first_saved(
    rig: Rig, tmp_path: Path
) -> None:
    first = rig.book(end="2-hour")
    assert rig.step(first) == Status.RUNNING
    second = rig.book(start="2-hour", end="1-day")
    rig.clock.now = rig.service.get(first).end
    assert rig.step(second) == Status.STARTING  # the backup of the first is not copied yet
    assert rig.step(first) == Status.FINISHED
    assert (tmp_path / "backup" / "bob" / "bashrc").read_text() == "saved"
    assert rig.step(second) == Status.RUNNING
    spec = rig.runtime.running[f"booking-bob-{second}"]
    assert RestoreCopy(str(tmp_path / "backup" / "bob"), "bashrc", "/root/.bashrc") in spec.restore
    assert spec.ssh_port == rig.service.get(first).port


def test_a_start_kept_waiting_past_the_deadline_fails_and_says_why(rig: Rig) -> None:
    first = rig.book(end="2-hour")
    rig.step(first)
    second = rig.book(start="2-hour", end="1-day")
    rig.clock.now = rig.service.get(first).end
    assert rig.step(second) == Status.STARTING
    rig.clock.advance(minutes=11)
    assert rig.step(second) == Status.FAILED
    assert f"booking #{first} before it did not end in time" in rig.messages()[-1]


@pytest.mark.parametrize("plan", [
    b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n",
    b"Dir: [\n", b"Dir: 5\n", b"File:\n  - [ok, /root/ok]\n  - [\xff, /root/x]\n",
])
def test_a_hostile_backup_yaml_never_keeps_the_container_running(
    rig: Rig, tmp_path: Path, plan: bytes
) -> None:
    booking_id = rig.book(end="2-hour")
    assert rig.step(booking_id) == Status.RUNNING
    (tmp_path / "backup" / "bob" / "backup.yaml").write_bytes(plan)  # written in the container
    rig.clock.now = rig.service.get(booking_id).end
    assert rig.step(booking_id) == Status.FINISHED
    assert rig.runtime.running == {}
    ended = rig.messages()[-1]
    assert "Your backup.yaml was not understood (line " in ended
    assert "nothing was backed up" in ended


def test_a_backup_that_breaks_still_removes_the_container(rig: Rig) -> None:
    booking_id = rig.book(end="2-hour")
    rig.step(booking_id)

    def broken(name: str, container_path: str) -> Iterator[bytes]:
        raise RuntimeError("a defect in the copy")

    rig.runtime.archive = broken  # type: ignore[method-assign]
    rig.clock.now = rig.service.get(booking_id).end
    assert rig.step(booking_id) == Status.FINISHED
    assert rig.runtime.running == {}
    assert "The backup could not be made this time" in rig.messages()[-1]


def test_a_backup_stops_at_the_quota_and_names_what_was_not_saved(
    rig: Rig, tmp_path: Path
) -> None:
    rig.service.set_limits("bob", {"backup_space": str(1000 / GB)})
    booking_id = rig.book(end="2-hour")
    rig.step(booking_id)
    (tmp_path / "backup" / "bob" / "big").write_bytes(b"x" * 600)  # made during the booking
    rig.clock.now = rig.service.get(booking_id).end
    assert rig.step(booking_id) == Status.FINISHED
    ended = rig.messages()[-1]
    assert "Could not be backed up" in ended and "(your backup quota is full)" in ended


def test_the_log_of_last_resort_never_gets_the_password(rig: Rig) -> None:
    """No chat reaches the member: the ready message goes to stdout (the journal) with
    where to get the password, not the password."""
    log = RecordingNotifier()
    rig.outbox = OutboxSender(uow=rig.uow, passwords=rig.passwords, notifiers=[],
                              fallback=("stdout", log), clock=rig.clock)
    booking_id = rig.book()
    assert rig.step(booking_id) == Status.RUNNING
    [ready] = log.texts("bob")
    assert rig.password(booking_id) not in ready
    assert (f"password: (not written here: log in with your SSH key, or ask an admin, who can "
            f"show it with `booking login {booking_id}` on the server)") in ready
