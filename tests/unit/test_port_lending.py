"""SSH ports on a small range: a member's first port becomes their own; when no unowned
port is free, another member's own port that is free for the whole window is lent."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.domain.model import Booking, ErrorCode, Refusal, Resources, Status
from core.services.booking import BookingService
from core.services.capacity import BookingRequest
from tests.factories import fake_service

SMALL = Resources(1, 1, 0)


def book(service: BookingService, user: str, start: str = "now", end: str = "1-day") -> Booking:
    return service.book(BookingRequest(user, SMALL, start, end))


def test_the_21st_member_borrows_a_free_own_port_of_someone_else() -> None:
    members = tuple(f"m{n:02d}" for n in range(1, 22))
    service, store = fake_service(members=members, booking={"ports": [10001, 10020]},
                                  capacity={"cpus": 64, "ram": 64, "swap": 0, "gpus": 0})
    for name in members[:20]:  # each got a port once; now all of them are over
        first = book(service, name)
        assert store.accounts[name].preferred_port == first.port
        store.bookings[first.id or 0] = replace(first, status=Status.FINISHED)
    assert {store.accounts[m].preferred_port for m in members[:20]} == set(range(10001, 10021))

    lent = book(service, "m21")
    assert lent.port == 10001  # the lowest free one; m01 is not using it now
    assert store.accounts["m21"].preferred_port is None  # lent, not given

    # The owner still gets it whenever it is free; while it is lent, another one.
    owner_later = book(service, "m01", start="2-day", end="1-day")
    assert owner_later.port == 10001
    owner_now = book(service, "m02")
    assert owner_now.port == 10002


def test_unowned_ports_go_first_and_no_port_only_when_none_is_free() -> None:
    service, store = fake_service(members=("a", "b", "c", "d"), booking={"ports": [10001, 10003]})
    store.accounts["a"].preferred_port = 10001
    store.accounts["b"].preferred_port = 10002
    c = book(service, "c")
    assert c.port == 10003  # unowned, before anyone's own port
    assert store.accounts["c"].preferred_port == 10003  # and now c's own
    d = book(service, "d")
    assert d.port == 10001  # lent: a does not use it now
    assert store.accounts["d"].preferred_port is None
    a = book(service, "a")
    assert a.port == 10002  # a's own port is lent out; b's is free
    with pytest.raises(Refusal) as caught:
        book(service, "b")
    assert caught.value.code == ErrorCode.NO_CAPACITY
    assert "No SSH port in 10001-10003 is free at that time." in caught.value.message
    assert caught.value.earliest_start == c.end  # the first port to come free
    # Later windows where the owner's port is free again give it back to its owner.
    assert book(service, "b", start="2-day", end="1-day").port == 10002
    assert book(service, "a", start="2-day", end="1-day").port == 10001


def test_a_lent_port_is_free_for_the_whole_window() -> None:
    service, store = fake_service(members=("a", "b", "c"), booking={"ports": [10001, 10002]})
    store.accounts["a"].preferred_port = 10001
    store.accounts["b"].preferred_port = 10002
    book(service, "a", start="1-day", end="1-day")  # a's own port, tomorrow
    lent = book(service, "c", start="now", end="3-day")  # overlaps a's booking
    assert lent.port == 10002
