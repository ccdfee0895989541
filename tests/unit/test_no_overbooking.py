"""Property: whatever sequence of requests arrives, nothing is ever overbooked."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.domain.model import HOLDING, Booking, Refusal, Resources
from core.services.capacity import BookingRequest
from tests.factories import NOW, fake_service

USERS = ("alice", "bob", "carol", "dave", "erin")

requests = st.lists(
    st.tuples(
        st.sampled_from(USERS),
        st.floats(min_value=1, max_value=16).map(lambda v: round(v, 1)),
        st.integers(min_value=1, max_value=64),
        st.integers(min_value=0, max_value=4),
        st.integers(min_value=0, max_value=48),  # start, in slots from now
        st.integers(min_value=1, max_value=96),  # length, in slots
        st.sampled_from(["book", "book", "book", "cancel", "extend"]),
    ),
    max_size=25,
)


def local(slot: int) -> str:
    moment = (NOW.replace(minute=0) + timedelta(minutes=30 * slot)).astimezone()
    from zoneinfo import ZoneInfo

    moment = moment.astimezone(ZoneInfo("Asia/Taipei"))
    return f"{moment:%Y %m %d %H %M}"


def check(bookings: list[Booking]) -> None:
    held = [b for b in bookings if b.status in HOLDING]
    instants: set[datetime] = {b.start for b in held}
    for instant in instants:
        live = [b for b in held if b.start <= instant < b.end]
        assert sum(b.resources.cpus for b in live) <= 16 + 1e-9
        assert sum(b.resources.memory for b in live) <= 64
        gpu_ids = [g for b in live for g in b.gpu_ids]
        assert len(gpu_ids) == len(set(gpu_ids)) and all(0 <= g < 4 for g in gpu_ids)
        ports = [b.port for b in live]
        assert len(ports) == len(set(ports))
        owners = [b.account for b in live]
        assert len(owners) == len(set(owners))
    for booking in held:
        assert len(booking.gpu_ids) == booking.resources.gpus


@given(requests)
def test_random_requests_never_overbook(steps) -> None:  # type: ignore[no-untyped-def]
    service, store = fake_service(
        members=USERS,
        limits={"default": {"cpus": "max", "memory": "max", "gpus": "max"}, "users": {}},
    )
    for user, cpus, memory, gpus, start, length, verb in steps:
        first_on_empty = verb == "book" and not store.bookings
        try:
            if verb == "book":
                service.book(BookingRequest(
                    user=user, resources=Resources(cpus, memory, gpus),
                    start=local(start), end=local(start + length),
                ))
            elif store.bookings:
                target = sorted(store.bookings)[start % len(store.bookings)]
                if verb == "cancel":
                    service.cancel(target, actor="alice")
                else:
                    service.extend(target, f"{1 + length % 3}-day", actor="alice")
        except Refusal as refusal:
            # Anything within the host fits an empty server: a refusal there is a bug.
            assert not first_on_empty, refusal.message
        check(list(store.bookings.values()))
