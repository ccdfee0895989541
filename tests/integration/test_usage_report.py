"""Usage reports and a booking's event log, from bookings made through the service, on real
SQLite and PostgreSQL (README, "Usage reports")."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.bootstrap import App
from core.chat import admin_render, notice_words
from core.chat.report_words import CSV_COLUMNS, history_view, usage_csv, usage_view
from core.domain.gpus import GpuInventory
from core.domain.model import Booking, Refusal, Resources, Status
from core.services.booking import BookingService
from core.services.capacity import BookingRequest
from core.services.usage_report import UsageReport, usage_reports
from tests.factories import Clock


class Plain:
    """Admin views as plain text, times in UTC (the CLI's Terminal, without the bot)."""

    bullet = "- "

    def text(self, text: str) -> str:
        return text

    strong = name = code = text

    def time(self, at: datetime, zone: object) -> str:
        return f"{at.astimezone(UTC):%m-%d %H:%M}"

    def user(self, platform: str, user_id: str) -> str:
        return user_id

    def arrow(self) -> str:
        return " -> "


def at(day: int, hour: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def lifecycle(service: BookingService, booking: Booking, status: Status, kind: str,
              **detail: object) -> None:
    """A status change as the scheduler records it (core/services/lifecycle*.py)."""
    with service.unit() as uow:
        current = uow.bookings.get(booking.id or 0)
        assert current is not None
        uow.bookings.save(replace(current, status=status))
        uow.bookings.record(booking.id or 0, kind, "scheduler", **detail)
        uow.commit()


@pytest.fixture
def lab(make_app: Callable[..., App]) -> tuple[BookingService, Clock, dict[str, int]]:
    """A November on gpu1 (server zone Asia/Taipei, so November is Oct 31 16:00 UTC to
    Nov 30 16:00 UTC): bob ran 6 h of a 1-day booking, carol cancelled, dave's start
    failed, erin is running across the month's end, and October's booking is elsewhere."""
    app = make_app()
    clock = Clock(at(20, month=10))
    service = BookingService(config=app.config, uow=app.service.unit, gpus=GpuInventory(4),
                             notices=notice_words, clock=clock)
    for name in ("alice", "bob", "carol", "dave", "erin"):
        service.add_account(name)
    ids: dict[str, int] = {}

    def book(member: str, when: datetime, resources: Resources, end: str) -> Booking:
        clock.now = when
        made = service.book(BookingRequest(member, resources, "now", end))
        assert made.start == when
        ids[member] = made.id or 0
        return made

    old = book("bob", at(20, month=10), Resources(8, 32, 2), "1-day")  # October only
    lifecycle(service, old, Status.FINISHED, "finished")
    bob = book("bob", at(2), Resources(4, 16, 2), "1-day")
    lifecycle(service, bob, Status.STARTING, "starting", at=at(2).isoformat())
    lifecycle(service, bob, Status.RUNNING, "running", restored=[])
    clock.now = at(2, 6)
    service.cancel(bob.id or 0, actor="bob")  # ends early: held 6 h of 24
    lifecycle(service, bob, Status.FINISHED, "finished", saved=[])
    carol = book("carol", at(5), Resources(2, 8, 1), "2-day")
    service.cancel(carol.id or 0, actor="alice")
    dave = book("dave", at(6), Resources(1, 4, 1), "1-day")
    lifecycle(service, dave, Status.FAILED, "failed", reason="image lab/gpu:latest is missing")
    erin = book("erin", at(30, 4), Resources(2, 8, 1), "1-day")  # 12 h of it in November
    lifecycle(service, erin, Status.RUNNING, "running", restored=[])
    clock.now = at(30, 10)  # erin has held it for 6 h so far
    return service, clock, ids


def rows(report: UsageReport) -> dict[str, tuple[float, ...]]:
    return {m.member: (m.bookings, m.booked.gpu_hours, m.booked.cpu_hours,
                       m.booked.memory_gb_hours, m.held.gpu_hours, m.held.cpu_hours,
                       m.held.memory_gb_hours)
            for m in (*report.members, report.total)}


def test_a_month_counts_booked_and_held_hours_per_member_and_server(lab) -> None:  # type: ignore[no-untyped-def]
    service, _clock, ids = lab
    report = usage_reports(service).month("2026-11")
    assert rows(report) == {
        "bob": (1, 48.0, 96.0, 384.0, 12.0, 24.0, 96.0),  # booked 24 h, held 6 h
        "dave": (1, 24.0, 24.0, 96.0, 0.0, 0.0, 0.0),  # a no-show holds nothing
        "erin": (1, 12.0, 24.0, 96.0, 6.0, 12.0, 48.0),  # until the month's end; until now
        "gpu1": (3, 84.0, 144.0, 576.0, 18.0, 36.0, 144.0),
    }
    assert [(d.booking.id, d.actor) for d in report.cancelled] == [(ids["carol"], "alice")]
    assert [(d.booking.id, d.reason) for d in report.no_shows] == [
        (ids["dave"], "image lab/gpu:latest is missing")]
    text = admin_render.render(usage_view(report), Plain())
    assert text.splitlines()[0] == "gpu1: usage 2026-11 (10-31 16:00 -> 11-30 16:00)"
    assert ("- bob (1 booking): booked 48.0 GPU-h, 96.0 CPU-h, 384.0 GB-h; "
            "held 12.0 GPU-h, 24.0 CPU-h, 96.0 GB-h") in text
    assert "Whole server (3 bookings): booked 84.0 GPU-h" in text
    # (when it was cancelled or failed is the database's own time of the event)
    assert re.search(f"Cancelled:\n- #{ids['carol']} carol cpus=2 memory=8 gpus=1 11-05 00:00 -> "
                     r"11-07 00:00; cancelled \d\d-\d\d \d\d:\d\d by alice\n", text)
    assert re.search(f"No-shows \\(failed starts\\):\n- #{ids['dave']} dave cpus=1 memory=4 "
                     r"gpus=1 11-06 00:00 -> 11-07 00:00; failed \d\d-\d\d \d\d:\d\d: "
                     r"image lab/gpu:latest is missing\n", text)


def test_the_csv_parses_back_to_the_same_hours(lab) -> None:  # type: ignore[no-untyped-def]
    service, _clock, _ids = lab
    report = usage_reports(service).month("2026-11")
    parsed = list(csv.DictReader(io.StringIO(usage_csv(report))))
    assert tuple(parsed[0]) == CSV_COLUMNS
    assert [(r["server"], r["member"], int(r["bookings"])) for r in parsed] == [
        ("gpu1", "bob", 1), ("gpu1", "dave", 1), ("gpu1", "erin", 1), ("gpu1", "*", 3)]
    assert {r["member"]: float(r["held_gpu_hours"]) for r in parsed} == {
        "bob": 12.0, "dave": 0.0, "erin": 6.0, "*": 18.0}
    assert float(parsed[-1]["booked_memory_gb_hours"]) == 576.0


def test_a_range_of_days_and_an_empty_month(lab) -> None:  # type: ignore[no-untyped-def]
    service, _clock, _ids = lab
    reports = usage_reports(service)
    october = reports.days("2026-10-01", "2026-11-02")  # to Nov 2 16:00 UTC
    assert october.label == "2026-10-01 to 2026-11-02"
    # October 24 h of (8, 32, 2), then 16 h booked and 6 h held of (4, 16, 2)
    assert rows(october)["bob"] == (2, 80.0, 256.0, 1024.0, 60.0, 216.0, 864.0)
    empty = reports.month("2025-01")
    assert (empty.members, empty.cancelled, empty.no_shows) == ((), (), ())
    assert "No booked time in this period." in admin_render.render(usage_view(empty), Plain())
    assert reports.month().label == "2026-11"  # none named: this month


@pytest.mark.parametrize(("call", "says"), [
    (lambda r: r.month("November"), "`November` is not a month; use YEAR-MONTH, such as 2026-11."),
    (lambda r: r.month("2026-13"), "`2026-13` is not a month"),
    (lambda r: r.days("2026-02-30", "2026-03-01"), "--start `2026-02-30` is not a date"),
    (lambda r: r.days("2026-03-02", "2026-03-01"), "--end 2026-03-01 is before --start 2026-03-02"),
])
def test_bad_periods_are_refused_with_what_works(lab, call, says: str) -> None:  # type: ignore[no-untyped-def]
    service, _clock, _ids = lab
    with pytest.raises(Refusal) as caught:
        call(usage_reports(service))
    assert caught.value.message.startswith(says)


def test_a_bookings_history_lists_its_events_in_order(lab) -> None:  # type: ignore[no-untyped-def]
    service, _clock, ids = lab
    reports = usage_reports(service)
    history = reports.history(ids["bob"])
    assert [e.kind for e in history.events] == [
        "created", "starting", "running", "ended_early", "finished"]
    text = admin_render.render(history_view(history, reports.zone), Plain())
    lines = text.splitlines()
    assert lines[0] == f"#{ids['bob']} [finished] bob cpus=4 memory=16 gpus=2 11-02 00:00 -> 11-02 06:00"
    assert lines[1] == "Events, oldest first:"
    assert lines[3] == "- 11-02 00:00 starting by scheduler"
    assert lines[5].endswith("ended_early by bob: booked_end=2026-11-03T00:00:00+00:00")
    with pytest.raises(Refusal) as caught:
        reports.history(999)
    assert caught.value.message == "There is no booking #999; `booking ls --all` lists them."


def test_a_year_of_bookings_reads_quickly(make_app: Callable[..., App]) -> None:
    """A lab's year: 1000 finished bookings, reported in well under a few seconds."""
    import time

    app = make_app()
    service = app.service
    service.add_account("bob")
    start = at(1, month=1) - timedelta(days=365)
    with service.unit() as uow:
        for i in range(1000):
            made = uow.bookings.add(Booking("bob", start + timedelta(hours=8 * i),
                                            start + timedelta(hours=8 * i + 4),
                                            Resources(2, 8, 1), (0,), 10001, "lab/gpu:latest",
                                            status=Status.FINISHED))
            uow.bookings.record(made.id or 0, "created", "bob")
            uow.bookings.record(made.id or 0, "finished", "scheduler")
        uow.commit()
    began = time.perf_counter()
    report = usage_reports(service).days("2025-01-01", "2026-12-31")
    assert time.perf_counter() - began < 5
    assert rows(report)["bob"][:2] == (1000, 4000.0)


def test_gpu_use_recorded_by_the_scheduler_is_averaged_over_the_gpu_hours_held(lab) -> None:  # type: ignore[no-untyped-def]
    service, _clock, ids = lab
    with service.unit() as uow:  # as core/services/idle_watch.py records them
        uow.bookings.record(ids["bob"], "gpu_usage", "scheduler", avg_util=40.0, samples=360)
        uow.bookings.record(ids["erin"], "idle_notified", "scheduler", avg_util=10.0, samples=100)
        uow.commit()

    report = usage_reports(service).month("2026-11")

    text = admin_render.render(usage_view(report), Plain())
    assert "held 12.0 GPU-h, 24.0 CPU-h, 96.0 GB-h; GPU use 40%" in text
    assert "- dave (1 booking): booked 24.0 GPU-h, 24.0 CPU-h, 96.0 GB-h; held 0.0 GPU-h" in text
    assert "GPU use" not in next(line for line in text.splitlines() if "- dave" in line)
    parsed = list(csv.DictReader(io.StringIO(usage_csv(report))))
    # the server: (12 GPU-h at 40% + 6 GPU-h at 10%) / 18 GPU-h sampled
    assert {r["member"]: r["avg_gpu_util_percent"] for r in parsed} == {
        "bob": "40.0", "dave": "", "erin": "10.0", "*": "30.0"}
