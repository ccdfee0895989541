"""Offers of an earliest start are always on the slot grid, even after `end now`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.chat.conversation import ConversationEngine
from core.domain.model import Refusal, Resources, Status
from core.domain.time_tokens import slot_floor
from core.services.capacity import BookingRequest
from tests.factories import Clock, fake_service


def test_after_end_now_the_offer_is_on_the_grid_and_yes_books_it() -> None:
    clock = Clock(datetime(2026, 11, 29, 4, 10, tzinfo=UTC))
    service, store = fake_service(clock=clock)
    engine = ConversationEngine(service)
    engine.handle(service.account("alice"), "book 4 gpus 2 cpus 8g now 1-day")
    [alice] = store.bookings.values()
    store.bookings[alice.id or 0] = replace(alice, status=Status.RUNNING)
    clock.advance(minutes=7)  # 04:17 UTC, 12:17 in Taipei
    engine.handle(service.account("alice"), f"end {alice.id}")
    assert store.bookings[alice.id or 0].end == datetime(2026, 11, 29, 4, 17, tzinfo=UTC)

    [offer] = engine.handle(service.account("bob"), "book 1 gpu now 2-day")
    assert "earliest start that fits is 2026 11 29 12 30 (CST)" in offer.text
    [done] = engine.handle(service.account("bob"), "yes")
    assert "bob: 2026-11-29 12:30 CST -> 2026-12-01 12:30 CST" in done.text


@pytest.mark.parametrize("slot_minutes", [1, 15, 30, 60])
def test_offered_starts_are_on_the_grid_and_can_be_booked(slot_minutes: int) -> None:
    clock = Clock(datetime(2026, 11, 29, 4, 10, 20, tzinfo=UTC))
    service, store = fake_service(clock=clock, booking={"slot_minutes": slot_minutes})
    whole = Resources(2, 8, 4)
    first = service.book(BookingRequest("alice", whole, "now", "1-day"))
    store.bookings[first.id or 0] = replace(first, status=Status.RUNNING)
    clock.advance(minutes=7, seconds=13)
    ended = service.cancel(first.id or 0, actor="alice")
    assert ended.end == clock.now  # off the grid

    with pytest.raises(Refusal) as caught:
        service.book(BookingRequest("bob", Resources(1, 4, 1), "now", "1-day"))
    offered = caught.value.earliest_start
    assert offered is not None
    assert offered >= ended.end
    assert slot_floor(offered, slot_minutes) == offered
    assert offered - ended.end < timedelta(minutes=slot_minutes)
    local = offered.astimezone(service.zone_of(service.account("bob")))
    booked = service.book(BookingRequest("bob", Resources(1, 4, 1), f"{local:%Y %m %d %H %M}",
                                         "1-day"))
    assert booked.start == offered
