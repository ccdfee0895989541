"""The booking rules, against the service with an in-memory unit of work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.model import ErrorCode, Refusal, Resources, Status
from core.services.capacity import BookingRequest
from tests.factories import Clock, fake_service


def request(user: str = "bob", cpus: float = 2, memory: int = 8, gpus: int = 0,
            start: str = "now", end: str = "1-day", **extra: object) -> BookingRequest:
    return BookingRequest(user=user, resources=Resources(cpus, memory, gpus), start=start,
                          end=end, **extra)  # type: ignore[arg-type]


def refused(service, req: BookingRequest) -> Refusal:  # type: ignore[no-untyped-def]
    with pytest.raises(Refusal) as caught:
        service.book(req)
    return caught.value


@pytest.mark.parametrize(
    ("req", "code", "words"),
    [
        (request(cpus=0.5), ErrorCode.BAD_INPUT, "cpus must be at least 1"),
        (request(memory=0), ErrorCode.BAD_INPUT, "memory at least 1 GB"),
        (request(cpus=9), ErrorCode.OVER_LIMIT, "up to cpus=8 memory=32 gpus=2"),
        (request(memory=33), ErrorCode.OVER_LIMIT, "up to cpus=8 memory=32 gpus=2"),
        (request(gpus=3), ErrorCode.OVER_LIMIT, "up to cpus=8 memory=32 gpus=2"),
        (request(image="someone/else:1"), ErrorCode.BAD_IMAGE, "choose one of: lab/gpu:latest"),
        (request(start="2026 11 29 11 30"), ErrorCode.BAD_TIME, "start is in the past"),
        (request(start="15-day"), ErrorCode.BAD_TIME, "days go from 1 to 14"),
        (request(start="2026 12 14 12 30"), ErrorCode.BAD_TIME, "more than 14 days ahead"),
        (request(end="2026 11 29 12 00"), ErrorCode.BAD_TIME, "end must be after the start"),
        (request(start="1-day", end="2-week 1-day"), ErrorCode.BAD_TIME, "at most 14 days"),
        (request(end="now"), ErrorCode.BAD_TIME, "`now` is for a start"),
        (request(user="mallory"), ErrorCode.UNKNOWN_USER, "Ask an admin (alice)"),
        (request(port=20000), ErrorCode.PORT_TAKEN, "outside 10001-10010"),
    ],
)
def test_refusals_say_which_rule(req: BookingRequest, code: ErrorCode, words: str) -> None:
    service, store = fake_service()
    refusal = refused(service, req)
    assert refusal.code == code
    assert words in refusal.message
    assert store.bookings == {}


def test_a_booking_gets_times_on_the_grid_gpus_and_a_port() -> None:
    service, store = fake_service()
    booking = service.book(request(gpus=2, start="now", end="3-day"))
    assert booking.start == datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
    assert booking.end == booking.start + timedelta(days=3)
    assert booking.gpu_ids == (0, 1)
    assert booking.port == 10001
    assert booking.image == "lab/gpu:latest"
    assert store.bookings[booking.id].status == Status.BOOKED  # type: ignore[index]
    assert [e.kind for e in store.events] == ["created"]
    assert store.accounts["bob"].preferred_port == 10001


def test_max_means_the_hosts_capacity() -> None:
    service, _ = fake_service()
    booking = service.book(request(user="alice", cpus=16, memory=64, gpus=4))
    assert booking.resources == Resources(16, 64, 4)


def test_admin_set_limits_override_the_default() -> None:
    service, _ = fake_service()
    service.set_limits("bob", {"gpus": "max", "cpus": "12"})
    assert service.limits_of(service.account("bob")) == Resources(12, 32, 4)


def test_a_member_cannot_hold_two_overlapping_bookings() -> None:
    service, _ = fake_service()
    first = service.book(request(end="2-day"))
    refusal = refused(service, request(start="1-day", end="1-day"))
    assert refusal.code == ErrorCode.OVERLAP
    assert f"#{first.id}" in refusal.message
    # The earliest start offered is when the member's own booking ends.
    assert refusal.earliest_start == first.end


def test_no_capacity_names_what_is_short_and_offers_the_earliest_fit() -> None:
    service, _ = fake_service()
    service.book(request(user="alice", cpus=12, memory=20, gpus=3, end="2-day"))
    refusal = refused(service, request(cpus=6, gpus=2, end="1-day"))
    assert refusal.code == ErrorCode.NO_CAPACITY
    assert "CPUs (6 asked, 4 free)" in refusal.message
    assert "GPUs (2 asked, 1 free)" in refusal.message
    assert refusal.earliest_start == datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    assert "earliest start that fits is 2026 12 01 12 00 (CST)" in refusal.message


def test_no_offer_when_nothing_fits_within_the_horizon() -> None:
    service, _ = fake_service()
    # Busy from tomorrow until after the horizon (now + 14 days).
    service.book(request(user="alice", cpus=16, memory=8, start="1-day", end="2-week"))
    refusal = refused(service, request(cpus=1, end="2-day"))
    assert refusal.earliest_start is None
    assert "Nothing of that size fits within the booking horizon" in refusal.message


def test_gpus_are_never_shared_by_overlapping_bookings() -> None:
    service, _ = fake_service()
    a = service.book(request(user="alice", gpus=3, end="1-day"))
    b = service.book(request(user="bob", gpus=1, end="1-day"))
    assert set(a.gpu_ids).isdisjoint(b.gpu_ids)
    assert refused(service, request(user="carol", gpus=1)).code == ErrorCode.NO_CAPACITY


def test_gpus_free_again_after_a_booking_ends() -> None:
    service, _ = fake_service()
    service.book(request(user="alice", gpus=4, end="1-day"))
    later = service.book(request(user="bob", gpus=2, start="1-day", end="1-day"))
    assert later.gpu_ids == (0, 1)


def test_cancelled_bookings_hold_nothing() -> None:
    service, _ = fake_service()
    big = service.book(request(user="alice", cpus=16, gpus=4))
    service.cancel(big.id or 0, actor="alice")
    assert service.book(request(user="bob", cpus=8, gpus=2)).gpu_ids == (0, 1)


def test_ports_preferred_kept_and_never_handed_to_another_member() -> None:
    service, store = fake_service()
    store.accounts["carol"].preferred_port = 10001
    bob = service.book(request(user="bob"))
    assert bob.port == 10002  # 10001 belongs to carol
    carol = service.book(request(user="carol"))
    assert carol.port == 10001
    assert refused(service, request(user="alice", port=10001)).code == ErrorCode.PORT_TAKEN


def test_only_the_owner_or_an_admin_may_change_a_booking() -> None:
    service, _ = fake_service()
    booking = service.book(request(user="bob", end="1-day"))
    with pytest.raises(Refusal) as caught:
        service.cancel(booking.id or 0, actor="carol")
    # Someone else's booking is answered as one that does not exist.
    assert (caught.value.code, caught.value.message) == (
        ErrorCode.NOT_FOUND, f"There is no booking #{booking.id} of yours; `list` shows yours.")
    with pytest.raises(Refusal):
        service.extend(booking.id or 0, "1-day", actor="carol")
    assert service.extend(booking.id or 0, "1-day", actor="alice").end == booking.end + timedelta(days=1)
    assert service.cancel(booking.id or 0, actor="alice").status == Status.CANCELLED


def test_cancel_of_a_running_booking_ends_it_now() -> None:
    clock = Clock()
    service, store = fake_service(clock=clock)
    booking = service.book(request(end="1-day"))
    store.bookings[booking.id or 0].status = Status.RUNNING
    clock.advance(hours=2)
    ended = service.cancel(booking.id or 0, actor="bob")
    assert ended.status == Status.RUNNING  # the scheduler runs the end sequence
    assert ended.end == clock.now
    assert [e.kind for e in store.events][-1] == "ended_early"


def test_extend_keeps_gpus_and_port_and_refuses_what_does_not_fit() -> None:
    service, _ = fake_service()
    mine = service.book(request(user="bob", gpus=1, end="1-day"))
    service.book(request(user="alice", gpus=4, start="1-day", end="1-day"))
    with pytest.raises(Refusal) as caught:
        service.extend(mine.id or 0, "1-day", actor="bob")
    assert caught.value.code == ErrorCode.NO_CAPACITY
    assert "GPU 0 (booked by someone else)" in caught.value.message
    assert service.get(mine.id or 0).end == mine.end


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2026 11 29 18 00", "new end must be after the current end"),
        ("2-week", "at most 14 days"),
        ("tea time please", "not a time I understand"),
    ],
)
def test_extend_refusals(text: str, words: str) -> None:
    service, _ = fake_service()
    booking = service.book(request(end="1-day"))
    with pytest.raises(Refusal) as caught:
        service.extend(booking.id or 0, text, actor="bob")
    assert words in caught.value.message


def test_extend_with_a_date_sets_the_new_end() -> None:
    service, _ = fake_service()
    booking = service.book(request(end="1-day"))
    extended = service.extend(booking.id or 0, "2026 12 02 12 00", actor="bob")
    assert extended.end == datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


def test_listing_shows_upcoming_and_running_and_history_on_request() -> None:
    clock = Clock()
    service, _ = fake_service(clock=clock)
    old = service.book(request(end="1-day"))
    service.cancel(old.id or 0, actor="bob")
    new = service.book(request(start="2-day", end="1-day"))
    assert [b.id for b in service.bookings("bob")] == [new.id]
    assert [b.id for b in service.bookings("bob", history=True)] == [old.id, new.id]
    assert [b.id for b in service.bookings()] == [new.id]


def test_free_slots_show_cpus_memory_and_gpu_ids() -> None:
    service, _ = fake_service()
    service.book(request(user="alice", cpus=10, memory=40, gpus=2, end="2026 11 29 13 00"))
    slots = service.free_slots("now", "2026 11 29 14 00")
    assert [(s.cpus, s.memory, s.gpu_ids) for s in slots] == [
        (6, 24, (2, 3)), (6, 24, (2, 3)), (16, 64, (0, 1, 2, 3)), (16, 64, (0, 1, 2, 3)),
    ]


def test_open_registration_creates_accounts_closed_registration_names_admins() -> None:
    closed, _ = fake_service()
    with pytest.raises(Refusal, match="Ask an admin \\(alice\\)"):
        closed.chat_account("slack", "U123", "Dora")
    opened, store = fake_service(booking={"registration": "open"})
    account = opened.chat_account("slack", "U123", "Dora")
    assert (account.name, account.slack_id) == ("slack-dora", "U123")
    assert opened.chat_account("slack", "U123", "Dora").name == "slack-dora"
    assert len(store.accounts) == 4


def test_the_first_local_user_of_an_empty_database_becomes_admin() -> None:
    service, _ = fake_service(members=())
    assert service.ensure_local_admin("root").is_admin
    other, _ = fake_service()
    with pytest.raises(Refusal):
        other.ensure_local_admin("root")


def test_refused_booking_leaves_no_trace() -> None:
    service, store = fake_service()
    service.book(request(user="alice", gpus=4))
    before = (dict(store.bookings), list(store.events))
    refused(service, request(user="bob", gpus=1))
    assert (store.bookings, store.events) == before


def test_a_chat_name_never_takes_an_admins_name() -> None:
    service, _store = fake_service(members=(), booking={"registration": "open"})
    account = service.chat_account("discord", "4242", "alice")  # alice is a config admin
    assert account.name == "discord-alice"
    assert not service.is_admin(account)


def test_a_port_that_can_never_be_had_is_refused_without_an_offer() -> None:
    service, store = fake_service()
    store.accounts["carol"].preferred_port = 10003
    for port, words in ((10003, "Port 10003 belongs to another member."),
                        (80, "Port 80 is outside 10001-10010.")):
        refusal = refused(service, request(port=port))
        assert (refusal.code, refusal.message, refusal.earliest_start) == (
            ErrorCode.PORT_TAKEN, words, None)


def test_changing_a_booking_that_ended_says_when_it_ended() -> None:
    clock = Clock()
    service, _store = fake_service(clock=clock)
    booking = service.book(request(end="2026 11 29 14 00"))
    clock.advance(hours=3)
    for change in (lambda: service.cancel(booking.id or 0, actor="bob"),
                   lambda: service.extend(booking.id or 0, "1-day", actor="bob")):
        with pytest.raises(Refusal) as caught:
            change()
        assert caught.value.message.startswith(
            f"Booking #{booking.id} ended at 2026-11-29 14:00 CST; book")


def test_non_finite_cpus_are_refused() -> None:
    service, store = fake_service()
    for cpus in (float("nan"), float("inf")):
        assert refused(service, request(cpus=cpus)).code == ErrorCode.BAD_INPUT
    assert store.bookings == {}


@pytest.mark.parametrize("command", [
    "python train.py --name 'my run", 'echo "half', "a\nb", "x" * 2001])
def test_an_extra_command_a_shell_cannot_run_is_refused_when_given(command: str) -> None:
    service, store = fake_service()
    caught = refused(service, request(command=command))
    assert caught.code == ErrorCode.BAD_INPUT
    assert "extra command" in caught.message
    with pytest.raises(Refusal):
        service.update_member("bob", command=command)
    assert store.bookings == {} and store.accounts["bob"].command is None


def test_an_extra_command_with_shell_syntax_is_kept_whole() -> None:
    service, _ = fake_service()
    command = "cd run && python train.py --name 'my run' > log 2>&1 | tee out"
    assert service.book(request(command=command)).command == command
    assert service.update_member("bob", command=command).command == command
