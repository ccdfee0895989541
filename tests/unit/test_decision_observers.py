"""Observers of booking decisions hear of each one, made or refused, and a failing
observer never changes the member's answer."""

from __future__ import annotations

import pytest

from core.domain.model import ErrorCode, Refusal, Resources
from core.services.capacity import BookingRequest
from tests.factories import fake_service


class Seen:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ErrorCode | None]] = []

    def observe(self, action: str, seconds: float, refusal: Refusal | None) -> None:
        assert seconds >= 0
        self.calls.append((action, refusal.code if refusal else None))


class Broken:
    def observe(self, action: str, seconds: float, refusal: Refusal | None) -> None:
        raise RuntimeError("metrics are down")


def test_every_decision_is_observed_and_a_broken_observer_changes_nothing() -> None:
    service, _store = fake_service()
    seen = Seen()
    service.observe_decisions(Broken())
    service.observe_decisions(seen)

    booking = service.book(BookingRequest("bob", Resources(1, 1, 1), "now", "1-day"))
    service.extend(booking.id or 0, "1-day", actor="bob")
    with pytest.raises(Refusal) as refused:
        service.book(BookingRequest("bob", Resources(1, 1, 99), "now", "1-day"))

    assert seen.calls == [("book", None), ("extend", None), ("book", refused.value.code)]
