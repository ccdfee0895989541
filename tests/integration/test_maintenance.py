"""Maintenance windows through the service and the chat engine, on real SQLite and PostgreSQL
(README, "Maintenance windows")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.bootstrap import App
from core.chat import notice_words
from core.chat.actions import Action
from core.chat.conversation import ConversationEngine
from core.chat.maintenance_words import added_text
from core.domain.gpus import GpuInventory
from core.domain.model import Refusal, Resources
from core.services.booking import BookingService
from core.services.capacity import BookingRequest
from tests.factories import Clock

NOW = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # 08:00 in Asia/Taipei, the server's zone


def taipei(moment: datetime) -> str:
    """A time as a member types it (the old form, in the server's zone, UTC+8)."""
    return f"{moment + timedelta(hours=8):%Y %m %d %H %M}"


@pytest.fixture
def lab(make_app: Callable[..., App]) -> tuple[BookingService, Clock]:
    """gpu1: 16 CPUs, 64 GB, 4 GPUs; alice is an admin, bob and carol members."""
    app = make_app()
    clock = Clock(NOW)
    service = BookingService(config=app.config, uow=app.service.unit, gpus=GpuInventory(4),
                             notices=notice_words, clock=clock)
    for name in ("alice", "bob", "carol"):
        service.add_account(name)
    return service, clock


def request(member: str, start: datetime, hours: int, *, cpus: float = 2, memory: int = 4,
            gpus: int = 0) -> BookingRequest:
    return BookingRequest(member, Resources(cpus, memory, gpus), taipei(start),
                          taipei(start + timedelta(hours=hours)))


def test_a_request_overlapping_a_whole_server_window_is_refused_with_the_reason_and_the_end(
    lab: tuple[BookingService, Clock],
) -> None:
    service, _ = lab
    start, end = NOW + timedelta(days=1), NOW + timedelta(days=1, hours=6)
    plan = service.add_maintenance(taipei(start), taipei(end), None, "new power supply",
                                   actor="alice")
    assert (plan.window.start, plan.window.end, plan.window.gpu_ids) == (start, end, ())
    assert plan.affected == ()

    with pytest.raises(Refusal) as refused:
        service.book(request("bob", start + timedelta(hours=2), 2, cpus=1, memory=1))
    assert refused.value.message == (
        "That window overlaps maintenance of the whole server from 2026-11-03 08:00 CST to "
        "2026-11-03 14:00 CST: new power supply. The earliest start that fits is "
        "2026 11 03 14 00 (CST).")
    assert refused.value.earliest_start == end
    # Up to its start and from its end the server is bookable as ever.
    assert service.book(request("bob", start - timedelta(hours=2), 2)).end == start
    assert service.book(request("carol", end, 2, gpus=2)).gpu_ids == (0, 1)


def test_a_window_on_gpus_0_and_1_leaves_gpus_2_and_3_bookable(
    lab: tuple[BookingService, Clock],
) -> None:
    service, _ = lab
    start, end = NOW + timedelta(hours=2), NOW + timedelta(hours=10)
    service.add_maintenance(taipei(start), taipei(end), "0,1", "fan swap", actor="alice")

    bob = service.book(request("bob", start, 4, gpus=2))
    assert bob.gpu_ids == (2, 3)
    assert service.book(request("alice", start, 4, cpus=4, memory=8)).gpu_ids == ()
    # With bob on GPUs 2 and 3, a GPU is free again when bob's booking ends, not later.
    with pytest.raises(Refusal) as refused:
        service.book(request("carol", start + timedelta(hours=1), 2, gpus=1))
    assert refused.value.message == (
        "That window overlaps maintenance of GPU 0, 1 from 2026-11-02 10:00 CST to "
        "2026-11-02 18:00 CST: fan swap. The earliest start that fits is 2026 11 02 14 00 (CST).")
    assert refused.value.earliest_start == bob.end
    assert [w.reason for w in service.maintenance_windows(actor="alice")] == ["fan swap"]
    # What is free per slot leaves the window's GPUs out while it lasts.
    free = {slot.start: slot.gpu_ids for slot in service.free_slots(taipei(NOW), "1-day")}
    assert (free[NOW], free[start], free[bob.end], free[end]) == ((0, 1, 2, 3), (), (2, 3),
                                                                  (0, 1, 2, 3))


def test_a_member_whose_booking_a_new_window_meets_is_told_with_the_earliest_alternative(
    lab: tuple[BookingService, Clock],
) -> None:
    service, _ = lab
    booked = service.book(request("bob", NOW + timedelta(hours=4), 3, cpus=4, memory=16, gpus=1))
    other = service.book(request("carol", NOW + timedelta(hours=4), 3, gpus=1))
    assert (booked.gpu_ids, other.gpu_ids) == ((0,), (1,))
    start, end = NOW + timedelta(hours=2), NOW + timedelta(hours=6)

    plan = service.plan_maintenance(taipei(start), taipei(end), "0", "driver update",
                                    actor="alice")
    assert [a.booking.id for a in plan.affected] == [booked.id]  # carol's GPU 1 is not in it
    with service.unit() as uow:
        assert uow.maintenance.between(NOW, NOW + timedelta(days=1)) == []  # nothing stored yet

    added = service.add_maintenance(taipei(start), taipei(end), "0", "driver update",
                                    actor="alice")
    # GPU 0 is taken, GPU 1 is carol's; the same time on GPU 2 is the earliest alternative.
    assert [(a.booking.id, a.alternative) for a in added.affected] == [(booked.id, booked.start)]
    assert "1 GPU (ids 0), SSH port 10001; offered the same time on other GPUs\n" in added_text(
        added, service.zone_of(None))  # what the admin reads
    with service.unit() as uow:
        due = uow.outbox.due(NOW, 10)
    assert [(m.recipient, m.booking_id) for m in due] == [("bob", booked.id)]
    assert due[0].text == (
        "alice (an admin) scheduled maintenance of GPU 0 from 2026-11-02 10:00 CST to "
        f"2026-11-02 14:00 CST: driver update. Your booking #{booked.id} (2026-11-02 12:00 CST "
        "-> 2026-11-02 15:00 CST) overlaps it. The same booking fits at the same time on other "
        f"GPUs: cancel #{booked.id}, then book it again (buttons below).")
    cancel, offer = (Action.from_dict(a) for a in due[0].actions)
    assert (cancel.verb, cancel.booking_id, cancel.label) == ("cancel", booked.id,
                                                              f"Cancel #{booked.id}")
    assert offer.label == "Book from Mon 02 Nov 12:00"
    assert offer.command == (
        "book 4 cpus 16g 1 gpus 2026 11 02 12 00 to 2026 11 02 15 00 image lab/gpu:latest")

    # Pressed in chat, in that order, the two buttons move the booking off GPU 0.
    chat = ConversationEngine(service)
    bob = service.account("bob")
    cancelled = chat.press(bob, cancel.command)
    assert cancelled.update is not None
    assert cancelled.update.text == f"Booking #{booked.id} is cancelled."
    moved = chat.press(bob, offer.command)
    assert moved.update is not None and moved.update.text.startswith(
        "Booked: #3 [booked] bob: 2026-11-02 12:00 CST -> 2026-11-02 15:00 CST, 4 CPUs, 16 GB, "
        "1 GPU (ids 2)")
    (now_held,) = service.bookings("bob")
    assert (now_held.start, now_held.end, now_held.gpu_ids) == (booked.start, booked.end, (2,))


def test_an_extension_into_a_window_on_its_gpu_is_refused(
    lab: tuple[BookingService, Clock],
) -> None:
    service, _ = lab
    booked = service.book(request("bob", NOW, 2, gpus=1))
    start = NOW + timedelta(hours=3)
    service.add_maintenance(taipei(start), taipei(start + timedelta(hours=1)), "0", "cabling",
                            actor="alice")
    with pytest.raises(Refusal) as refused:
        service.extend(booked.id or 0, "2-day", actor="bob")
    assert refused.value.message.startswith("That window overlaps maintenance of GPU 0 from")
    assert service.extend(booked.id or 0, taipei(start), actor="bob").end == start


def test_only_admins_add_and_bad_input_says_what_works(lab: tuple[BookingService, Clock]) -> None:
    service, _ = lab
    later = taipei(NOW + timedelta(hours=2))
    cases = [
        (dict(gpus=None, reason="x", actor="bob"), "Only an admin (alice) adds or removes"),
        (dict(gpus="7", reason="x", actor="alice"), "GPU 7 is not on this server (it has GPUs 0-3)."),
        (dict(gpus="a,b", reason="x", actor="alice"), "`a,b` is not a list of GPU ids"),
        (dict(gpus=None, reason="  ", actor="alice"), "Say why"),
    ]
    for kwargs, words in cases:
        with pytest.raises(Refusal) as refused:
            service.add_maintenance("now", later, **kwargs)  # type: ignore[arg-type]
        assert refused.value.message.startswith(words)
    with pytest.raises(Refusal) as refused:
        service.remove_maintenance(99, actor="alice")
    assert refused.value.message.startswith("There is no maintenance window #99")
    window = service.add_maintenance("now", later, None, "x", actor="alice").window
    assert service.remove_maintenance(window.id or 0, actor="alice") == window
    assert service.maintenance_windows(actor="alice") == []


def test_a_whole_server_window_offers_the_first_start_after_it(
    lab: tuple[BookingService, Clock],
) -> None:
    service, _ = lab
    booked = service.book(request("bob", NOW + timedelta(hours=4), 3, gpus=1))
    added = service.add_maintenance(taipei(NOW + timedelta(hours=2)),
                                    taipei(NOW + timedelta(hours=6)), None, "power work",
                                    actor="alice")
    assert "; offered from 2026-11-02 14:00 CST\n" in added_text(added, service.zone_of(None))
    with service.unit() as uow:
        [told] = uow.outbox.due(NOW, 10)
    assert told.text.endswith(
        f"overlaps it. The same booking fits from 2026-11-02 14:00 CST to 2026-11-02 17:00 CST: "
        f"cancel #{booked.id}, then book that (buttons below).")
    offer = Action.from_dict(told.actions[1])
    assert offer.label == "Book from Mon 02 Nov 14:00"
