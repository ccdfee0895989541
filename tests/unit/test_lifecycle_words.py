"""The exact words members and admins get from the scheduler: plain reasons for
the member (the raw engine text only for admins and the event log), the
member's time zone and in-container paths, and what to do when over quota."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.chat import lifecycle_messages as words
from core.domain.container import ContainerError
from core.domain.model import Account, Booking, ErrorCode, Refusal, Resources, Status
from core.domain.quota import GB, QuotaProblem, quota_gb
from core.domain.zones import member_zone
from tests.factories import fake_service, make_config
from tests.unit.test_scheduler_lifecycle import Rig

ENGINE_DOWN = ("Docker engine unreachable: Error while fetching server API version: "
               "('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))")
NO_NVIDIA = ('start booking-bob-1: could not select device driver "nvidia" with capabilities: '
             "[[gpu]]")
TAIL = ". Its resources are free again; book anew once that is fixed (the admins have been told)."


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def _failed_events(rig: Rig, booking_id: int) -> list[str]:
    with rig.uow() as uow:
        return [e.detail["reason"] for e in uow.bookings.events(booking_id) if e.kind == "failed"]


@pytest.mark.parametrize(("error", "retryable", "told"), [
    (ENGINE_DOWN, True, "the server's container engine is not answering"),
    (NO_NVIDIA, False, "the server cannot give containers GPUs right now "
                       "(its NVIDIA container runtime is missing)"),
    ("image 'lab/gpu:1' is not on the Docker engine (pulling is disabled)", False,
     "the image lab/gpu:1 is not on the server"),
    ("a container named 'booking-bob-1' exists and is not managed by the booking system", False,
     "the container could not be started"),
])
def test_a_failed_start_tells_the_member_a_plain_reason_and_the_admins_the_raw_one(
    rig: Rig, error: str, retryable: bool, told: str
) -> None:
    booking_id = rig.book()
    rig.runtime.errors = [ContainerError(error, retryable=retryable)] * 30
    rig.step(booking_id)
    rig.clock.advance(minutes=11)  # past the start deadline: no more retries
    assert rig.step(booking_id) == Status.FAILED
    assert rig.messages() == [f"Booking #{booking_id} could not start: {told}{TAIL}"]
    assert rig.messages("alice") == [f"Booking #{booking_id} of bob failed: {error}"]
    assert _failed_events(rig, booking_id) == [error]


@pytest.mark.parametrize(("error", "told"), [
    ("start booking-bob-1: image not found: No such image: lab/gpu:1",
     "the image lab/gpu:1 is not on the server"),
    ("image 'lab/gpu:1' not found (pull failed: pull access denied)",
     "the image lab/gpu:1 is not on the server"),
    ("start booking-bob-1: Docker engine unreachable: Read timed out.",
     "the server's container engine is not answering"),
    ("start booking-bob-1: 500 Server Error: OCI runtime create failed",
     "the container could not be started"),
])
def test_start_problem_maps_the_known_causes(error: str, told: str) -> None:
    assert words.start_problem(error, "lab/gpu:1") == told


def test_a_failed_restart_tells_the_member_a_plain_reason(rig: Rig) -> None:
    booking_id = rig.book()
    rig.step(booking_id)
    rig.service.restart(booking_id, actor="bob")
    rig.runtime.errors = [ContainerError(ENGINE_DOWN, retryable=False)]
    rig.step(booking_id)
    assert rig.messages()[-1] == (
        f"The container of booking #{booking_id} could not be restarted: the server's container "
        f"engine is not answering. Try `restart {booking_id}` again in a minute; if it keeps "
        "failing, ask an admin.")
    with rig.uow() as uow:
        [event] = [e for e in uow.bookings.events(booking_id) if e.kind == "restart_failed"]
    assert event.detail["error"] == ENGINE_DOWN


def test_a_container_started_again_is_told_in_the_members_zone(rig: Rig) -> None:
    rig.service.set_timezone("bob", "Europe/Berlin")
    booking_id = rig.book()
    rig.step(booking_id)
    rig.runtime.running.clear()
    assert rig.step(booking_id) == Status.RUNNING
    assert rig.messages()[-1] == (  # NOW is 04:10 UTC
        f"The container of booking #{booking_id} had stopped and was started again at "
        "2026-11-29 05:10 CET; log in with the same password.")


def test_the_ended_message_names_the_backup_folder_in_the_container(rig: Rig) -> None:
    booking_id = rig.book()
    rig.step(booking_id)
    rig.clock.now = rig.service.get(booking_id).end
    assert rig.step(booking_id) == Status.FINISHED
    assert rig.messages()[-1] == (
        f"Booking #{booking_id} has ended; its container is removed. "
        "Backed up to /root/Backup: ssh, bashrc.")


def _without_ssh(rig: Rig) -> None:
    archive = rig.runtime.archive

    def copy(name: str, container_path: str) -> Iterator[bytes]:
        if container_path == "/root/.ssh":
            raise ContainerError(f"copy {name}:{container_path}: Could not find the file",
                                 retryable=False)
        return archive(name, container_path)

    rig.runtime.archive = copy  # type: ignore[method-assign]


def test_a_path_that_never_existed_is_not_reported_missing(rig: Rig) -> None:
    _without_ssh(rig)
    booking_id = rig.book()
    rig.step(booking_id)
    rig.clock.now = rig.service.get(booking_id).end
    assert rig.step(booking_id) == Status.FINISHED
    assert rig.messages()[-1] == (
        f"Booking #{booking_id} has ended; its container is removed. "
        "Backed up to /root/Backup: bashrc.")


def test_a_path_backed_up_before_and_now_missing_is_reported(rig: Rig, tmp_path: Path) -> None:
    (tmp_path / "backup" / "bob" / "ssh").mkdir(parents=True)
    _without_ssh(rig)
    booking_id = rig.book()
    rig.step(booking_id)
    rig.clock.now = rig.service.get(booking_id).end
    assert rig.step(booking_id) == Status.FINISHED
    assert rig.messages()[-1] == (
        f"Booking #{booking_id} has ended; its container is removed. "
        "Backed up to /root/Backup: bashrc. Not found in the container, so not backed up "
        "(the earlier copy in /root/Backup is kept): /root/.ssh.")


def test_over_quota_tells_the_member_what_to_ask_and_the_admins_where(
    rig: Rig, tmp_path: Path
) -> None:
    work = tmp_path / "work" / "bob"
    work.mkdir(parents=True)
    (work / "big").write_bytes(b"x" * 3 * 1024**2)  # the rig's work_space is 0.001 GB
    booking_id = rig.book()
    assert rig.step(booking_id) == Status.FAILED
    assert rig.runtime.running == {}
    assert rig.messages() == [
        f"Booking #{booking_id} could not start: your `work` folder (/root/Work in the container) "
        "holds 3 MB of its 1 MB quota, so at least 2 MB must be freed. You cannot reach your "
        "folders without a running booking: ask an admin (alice) to raise your quota or to make "
        "that space, then book anew. Its resources are free again."]
    reason = (f"over quota: their work folder {work} holds 3 MB of 1 MB; free at least 2 MB "
              "or raise it with `booking users limit bob --work-space GB`")
    assert rig.messages("alice") == [f"Booking #{booking_id} of bob failed: {reason}"]
    assert _failed_events(rig, booking_id) == [reason]

    rig.service.set_limits("bob", {"work_space": "0.01"})  # the admin raises it
    again = rig.book()
    assert rig.step(again) == Status.RUNNING


def test_over_quota_in_gb_rounds_what_to_free_up() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    booking = Booking(account="bob", start=now, end=now, resources=Resources(1, 1, 0),
                      gpu_ids=(), port=10001, image="lab/gpu:1", id=7)
    problem = QuotaProblem("backup", Path("/mnt/Backup/bob"), int(1.23 * GB), 1.0)
    assert words.over_quota(make_config(), booking, [problem], ["alice", "bob"]).text == (
        "Booking #7 could not start: your `backup` folder (/root/Backup in the container) "
        "holds 1.2 GB of its 1 GB quota, so at least 0.3 GB must be freed. You cannot reach "
        "your folders without a running booking: ask an admin (alice) to raise your quota or "
        "to make that space, then book anew. Its resources are free again.")


def test_quotas_come_from_the_admin_then_the_config_user_then_the_default() -> None:
    config = make_config(limits={
        "default": {"cpus": 8, "memory": 32, "gpus": 2, "work_space": 200, "backup_space": 50},
        "users": {"carol": {"work_space": 300}}})
    assert quota_gb(Account(name="bob"), "work_space", config) == 200
    assert quota_gb(Account(name="carol"), "work_space", config) == 300
    assert quota_gb(Account(name="carol"), "backup_space", config) == 50
    set_by_admin = Account(name="carol", limits={"work_space": 0.5, "backup_space": "max"})
    assert quota_gb(set_by_admin, "work_space", config) == 0.5
    assert quota_gb(set_by_admin, "backup_space", config) is None


def test_admins_set_quotas_without_changing_the_maxima() -> None:
    service, _ = fake_service()
    before = service.limits_of(service.account("bob"))
    account = service.set_limits("bob", {"work_space": "250.5", "backup_space": "max"})
    assert account.limits == {"work_space": 250.5, "backup_space": "max"}
    assert service.limits_of(account) == before
    with pytest.raises(Refusal) as unknown:
        service.set_limits("bob", {"disk": "1"})
    assert (unknown.value.code, str(unknown.value)) == (
        ErrorCode.BAD_INPUT,
        "Unknown limit `disk`; use cpus, memory, gpus, work_space or backup_space.")
    with pytest.raises(Refusal, match="not a finite number"):
        service.set_limits("bob", {"work_space": "inf"})
    with pytest.raises(Refusal, match="cannot be negative"):
        service.set_limits("bob", {"backup_space": "-1"})


def test_one_zone_rule_for_the_service_and_the_scheduler_messages() -> None:
    service, _ = fake_service()
    config = service.config
    berlin = Account(name="bob", timezone="Europe/Berlin")
    assert str(member_zone(berlin, config)) == str(service.zone_of(berlin)) == "Europe/Berlin"
    assert str(member_zone(None, config)) == str(service.zone_of(None)) == "Asia/Taipei"
    assert not hasattr(words, "zone_of")
