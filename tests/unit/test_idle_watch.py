"""Idle GPUs (issue 15, part 4): the idle watch on real SQLite and PostgreSQL with a fake clock,
a stand-in for the GPUs' utilisation (our own port) and the real outbox, words and
conversation engine. What members and admins see: the question with Keep / End now, the
end after release_hours, nothing for busy GPUs, and the average kept for the report."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.chat import admin_render, idle_words
from core.chat.actions import Action, restored
from core.chat.conversation import ConversationEngine
from core.chat.report_words import usage_view
from core.domain.config import IdleSection
from core.domain.model import Resources, Status
from core.runtime import scheduler as scheduler_module
from core.runtime.scheduler import Scheduler
from core.services.capacity import BookingRequest
from core.services.idle_watch import IdleWatch
from core.services.notifier import Message
from core.services.usage_report import usage_reports
from tests.integration.test_usage_report import Plain
from tests.unit.test_scheduler_lifecycle import Rig


class FakeGpus:
    """The GPUs' utilisation as the test sets it (percent per GPU id)."""

    def __init__(self) -> None:
        self.now: dict[int, float] = {0: 0.0, 1: 0.0}

    def utilisation(self) -> dict[int, float]:
        return dict(self.now)


class World:
    def __init__(self, tmp_path: Path, database_url: str | None = None, **idle: float | None) -> None:
        self.rig = Rig(tmp_path, database_url)
        self.gpus = FakeGpus()
        config = self.rig.config.model_copy(update={"idle": IdleSection(**idle)})  # type: ignore[arg-type]
        self.watch = IdleWatch(config=config, uow=self.rig.uow, gpus=self.gpus, words=idle_words,
                               end=lambda b: self.rig.service.cancel(b, actor=None),
                               clock=self.rig.clock)
        self.engine = ConversationEngine(self.rig.service)

    def running(self, gpus: int = 1) -> int:
        booking = self.rig.service.book(BookingRequest(
            user="bob", resources=Resources(2, 16, gpus), start="now", end="3-day"))
        assert booking.id is not None
        assert self.rig.step(booking.id) == Status.RUNNING
        self.rig.notifier.sent.clear()
        return booking.id

    def sample_for(self, minutes: int, every: int = 10) -> None:
        for _ in range(minutes // every):
            self.rig.clock.advance(minutes=every)
            self.watch.sample()
        self.rig.outbox.flush()

    def sent(self, who: str = "bob") -> list[Message]:
        return [m for name, m in self.rig.notifier.sent if name == who]

    def events(self, booking_id: int) -> list[tuple[str, dict[str, object]]]:
        with self.rig.uow() as uow:
            return [(e.kind, e.detail) for e in uow.bookings.events(booking_id)]


def _buttons(message: Message) -> list[Action]:
    return list(restored(message.actions))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None: SQLite in the test's folder; else a fresh PostgreSQL database."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def world(tmp_path: Path, database_url: str | None) -> World:
    return World(tmp_path, database_url, notify_hours=4, threshold_percent=5)


def test_idle_for_notify_hours_asks_once_with_keep_and_end_now(world: World) -> None:
    booking_id = world.running()
    world.gpus.now[0] = 3.0  # below 5%
    world.sample_for(230)
    assert world.sent() == []
    world.sample_for(20)
    [asked] = world.sent()
    assert f"GPU 0 of booking #{booking_id} have been idle (below 5% use) since" in asked.text
    keep, end = _buttons(asked)
    assert (keep.label, keep.command, keep.confirm) == (
        f"Keep #{booking_id}", f"keep {booking_id} nudge 1", "")
    assert (end.label, end.command) == (f"End #{booking_id} now", f"end {booking_id}")
    assert end.confirm.startswith(f"End booking #{booking_id} now?")
    assert "With no answer it ends" not in asked.text  # release is off by default
    world.sample_for(600)
    assert len(world.sent()) == 1  # asked once per idle stretch; never ended
    assert world.rig.service.get(booking_id).status == Status.RUNNING

    pressed = world.engine.press(world.rig.service.account("bob"), end.command)
    assert pressed.update is not None and "ends now" in pressed.update.text
    assert world.rig.step(booking_id) == Status.FINISHED


def test_keep_starts_the_idle_clock_again_and_pressed_twice_acts_once(world: World) -> None:
    booking_id = world.running()
    world.sample_for(250)
    keep, _end = _buttons(world.sent()[-1])
    bob = world.rig.service.account("bob")

    first = world.engine.press(bob, keep.command)
    second = world.engine.press(bob, keep.command)
    assert first.update is not None and first.update.text.startswith(
        f"Kept: booking #{booking_id} runs on until")
    assert "I ask again only after another 4 hours idle" in first.update.text
    assert keep.command not in [a.command for a in first.update.actions]  # Keep is gone
    assert second.update is not None
    assert second.update.text.startswith(f"Already kept: booking #{booking_id}")
    assert [k for k, _ in world.events(booking_id)].count("idle_kept") == 1

    world.sample_for(230)  # still idle, but the clock started again at the press
    assert len(world.sent()) == 1
    world.sample_for(20)
    assert len(world.sent()) == 2
    assert _buttons(world.sent()[-1])[0].command == f"keep {booking_id} nudge 2"
    old = world.engine.press(bob, keep.command)  # the first message's button again
    assert old.update is not None and old.update.text.startswith("Already kept:")


def test_a_typed_keep_without_a_question_keeps_nothing(world: World) -> None:
    booking_id = world.running()
    [reply] = world.engine.handle(world.rig.service.account("bob"), f"keep {booking_id}")
    assert reply.text == (f"Nothing to keep: I have not asked about booking #{booking_id} "
                          "(I ask when its GPUs sit idle for 4 hours).")
    [reply] = world.engine.handle(world.rig.service.account("bob"), f"keep {booking_id} now")
    assert reply.text.startswith("Which booking? Say `keep N`")


def test_with_release_hours_an_unanswered_booking_is_ended_and_both_are_told(
    tmp_path: Path, database_url: str | None,
) -> None:
    world = World(tmp_path, database_url, notify_hours=2, release_hours=3, threshold_percent=5)
    booking_id = world.running()
    world.sample_for(130)
    [asked] = world.sent()
    assert "With no answer it ends at" in asked.text and "after 3 hours idle" in asked.text
    world.sample_for(50)
    assert world.rig.service.get(booking_id).status == Status.RUNNING
    world.sample_for(10)
    booking = world.rig.service.get(booking_id)
    assert booking.end == world.rig.clock.now  # ended now, through the member's end
    kinds = [k for k, _ in world.events(booking_id)]
    assert kinds[-2:] == ["idle_released", "ended_early"]
    assert "sat idle since" in world.sent()[-1].text
    assert "my question got no answer" in world.sent()[-1].text
    [admin] = world.sent("alice")
    assert admin.text.startswith(f"Booking #{booking_id} of bob was ended: its GPU 0 sat idle")

    assert world.rig.step(booking_id) == Status.FINISHED  # backed up as usual
    assert world.sent()[-1].text.startswith(f"Booking #{booking_id} has ended")
    late = world.engine.press(world.rig.service.account("bob"), f"keep {booking_id} nudge 1")
    assert late.update is not None and late.update.actions == ()
    assert late.update.text.startswith(f"Nothing to do: Booking #{booking_id} is finished")
    assert world.rig.service.get(booking_id).status == Status.FINISHED


def test_a_keep_before_the_release_saves_the_booking(tmp_path: Path, database_url: str | None) -> None:
    world = World(tmp_path, database_url, notify_hours=2, release_hours=3, threshold_percent=5)
    booking_id = world.running()
    world.sample_for(130)
    world.engine.press(world.rig.service.account("bob"), f"keep {booking_id} nudge 1")
    world.sample_for(100)
    assert world.rig.service.get(booking_id).status == Status.RUNNING
    assert "idle_released" not in [k for k, _ in world.events(booking_id)]


def test_busy_gpus_are_never_asked_about_even_with_one_of_two_idle(
    tmp_path: Path, database_url: str | None,
) -> None:
    world = World(tmp_path, database_url, notify_hours=1, release_hours=2, threshold_percent=5)
    booking_id = world.running(gpus=2)
    world.gpus.now = {0: 0.0, 1: 60.0}
    world.sample_for(600)
    world.gpus.now = {0: 90.0, 1: 95.0}
    world.sample_for(600)
    assert world.sent() == [] and world.sent("alice") == []
    assert world.rig.service.get(booking_id).status == Status.RUNNING


def test_a_gpu_that_is_not_read_is_neither_busy_nor_idle(tmp_path: Path, database_url: str | None) -> None:
    world = World(tmp_path, database_url, notify_hours=1)
    booking_id = world.running()
    world.gpus.now = {}  # no driver, or the GPU did not answer
    world.sample_for(300)
    assert world.sent() == []
    world.rig.service.cancel(booking_id, actor="bob")
    world.sample_for(10)
    assert "gpu_usage" not in [k for k, _ in world.events(booking_id)]  # nothing sampled


def test_the_average_utilisation_is_recorded_at_the_end(world: World) -> None:
    booking_id = world.running(gpus=2)
    world.gpus.now = {0: 20.0, 1: 40.0}  # 30% for the booking
    world.sample_for(60)
    world.gpus.now = {0: 80.0, 1: 100.0}  # 90%
    world.sample_for(30)
    world.rig.service.cancel(booking_id, actor="bob")
    world.sample_for(10)
    world.sample_for(10)
    usage = [d for k, d in world.events(booking_id) if k == "gpu_usage"]
    assert usage == [{"avg_util": 50.0, "samples": 9, "at": usage[0]["at"]}]
    # and the month's usage report says so, for bob and for the server
    report = usage_reports(world.rig.service).month()
    assert [(m.member, round(m.gpu_util or 0)) for m in (*report.members, report.total)] == [
        ("bob", 50), ("gpu1", 50)]
    text = admin_render.render(usage_view(report), Plain())
    assert "- bob (1 booking): booked " in text and "; GPU use 50%" in text


def test_sampling_goes_on_from_the_last_milestone_after_a_restart(world: World) -> None:
    booking_id = world.running()
    world.gpus.now[0] = 2.0
    world.sample_for(250)  # asked: the question's event keeps the summary so far
    restarted = World.__new__(World)
    restarted.__dict__.update(world.__dict__)
    restarted.watch = IdleWatch(config=world.rig.config, uow=world.rig.uow, gpus=world.gpus,
                                words=idle_words, end=lambda b: None, clock=world.rig.clock)
    world.gpus.now[0] = 52.0
    restarted.sample_for(10)
    world.rig.service.cancel(booking_id, actor="bob")
    restarted.sample_for(10)
    usage = [d for k, d in world.events(booking_id) if k == "gpu_usage"]
    assert (usage[0]["avg_util"], usage[0]["samples"]) == (3.9, 26)  # (25 x 2 + 52) / 26


def test_the_scheduler_samples_in_its_own_job_again_after_a_failed_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World(tmp_path)  # no storage of its own to test: SQLite alone
    monkeypatch.setattr(scheduler_module, "IDLE_SECONDS", 0.05)
    calls: list[int] = []
    done = threading.Event()

    def sample() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("database away")
        if len(calls) == 3:
            done.set()

    rig = world.rig
    scheduler = Scheduler(config=rig.config, uow=rig.uow, runtime=rig.runtime,
                          lifecycle=rig.lifecycle, outbox=rig.outbox, clock=rig.clock,
                          idle=sample)
    scheduler.start()
    try:
        assert done.wait(10), "the idle job stopped after a failed sample"
    finally:
        scheduler.stop()
