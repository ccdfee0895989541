"""The restart action: who may ask, when, and what the member reads (fakes, no engine)."""

from __future__ import annotations

import pytest

from core.chat import notice_words
from core.chat.conversation import ConversationEngine, booking_actions
from core.chat.messages import HELP
from core.domain.gpus import GpuInventory
from core.domain.model import Booking, ErrorCode, Refusal, Resources, Status
from core.services.booking import BookingService
from core.services.capacity import BookingRequest
from tests.factories import Clock, fake_service, make_config
from tests.fakes import FakeUnitOfWork, Store


def booked(service: BookingService, store: Store, status: Status = Status.RUNNING,
           start: str = "now") -> Booking:
    booking = service.book(BookingRequest(
        user="bob", resources=Resources(2, 8, 1), start=start, end="1-day"))
    assert booking.id is not None
    store.bookings[booking.id].status = status
    return booking


def refusal(service: BookingService, booking_id: int, actor: str = "bob") -> Refusal:
    with pytest.raises(Refusal) as caught:
        service.restart(booking_id, actor=actor)
    return caught.value


def test_the_owner_may_restart_a_running_booking_and_the_scheduler_hears_of_it() -> None:
    changed: list[int] = []
    store = fake_service()[1]
    service = BookingService(config=make_config(), uow=lambda: FakeUnitOfWork(store), gpus=GpuInventory(4),
                             clock=Clock(), on_change=changed.append,  # the scheduler's hook
                             notices=notice_words)
    booking = booked(service, store)
    service.restart(booking.id or 0, actor="bob")
    assert [(e.kind, e.actor) for e in store.events][-1] == ("restart_requested", "bob")
    assert changed[-1] == booking.id


def test_an_admin_may_restart_someone_elses_booking_another_member_may_not() -> None:
    service, store = fake_service()
    booking = booked(service, store)
    refused = refusal(service, booking.id or 0, actor="carol")
    assert refused.code == ErrorCode.NOT_FOUND
    assert refused.message == f"There is no booking #{booking.id} of yours; `list` shows yours."
    service.restart(booking.id or 0, actor="alice")
    assert store.events[-1].kind == "restart_requested"


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (Status.STARTING, "Booking #1 is starting; I will message you when it is ready"),
        (Status.ENDING, "Booking #1 is ending"),
        (Status.FINISHED, "Booking #1 is finished; it has no container to restart"),
        (Status.CANCELLED, "Booking #1 is cancelled"),
        (Status.FAILED, "Booking #1 is failed"),
    ],
)
def test_only_a_running_booking_can_be_restarted(status: Status, words: str) -> None:
    service, store = fake_service()
    booked(service, store, status)
    refused = refusal(service, 1)
    assert refused.code == ErrorCode.NOT_RUNNING
    assert words in refused.message
    assert [e.kind for e in store.events] == ["created"]


def test_a_booked_booking_says_when_it_starts() -> None:
    service, store = fake_service()
    booked(service, store, Status.BOOKED, start="tomorrow 9am")
    refused = refusal(service, 1)
    assert refused.message == ("Booking #1 is booked; it starts at 2026-11-30 09:00 CST. "
                               "Its container can be restarted once it runs.")


def test_an_unknown_booking_is_refused_with_where_to_look() -> None:
    service, _ = fake_service()
    refused = refusal(service, 42)
    assert refused.code == ErrorCode.NOT_FOUND and "`list` shows yours" in refused.message


def test_a_second_request_while_one_is_pending_is_refused_not_doubled() -> None:
    service, store = fake_service()
    booked(service, store)
    service.restart(1, actor="bob")
    refused = refusal(service, 1)
    assert refused.code == ErrorCode.PENDING and "already on its way" in refused.message
    assert [e.kind for e in store.events].count("restart_requested") == 1


def test_restart_in_the_conversation_and_its_button() -> None:
    service, store = fake_service()
    engine = ConversationEngine(service)
    booked(service, store)
    bob = service.account("bob")
    [listed] = engine.handle(bob, "list")
    [card] = listed.cards
    assert [(a.label, a.command, bool(a.confirm)) for a in card.actions] == [
        ("Login #1", "login 1", False),
        ("Extend #1 to Tue 01 Dec 12:00", "extend 1 to 2026 12 01 04 00 UTC", False),
        ("Restart #1", "restart 1 after 0", True), ("End #1 now", "end 1", True)]
    [reply] = engine.handle(bob, "restart 1")
    assert reply.text.startswith("Restarting the container of booking #1")
    [again] = engine.handle(bob, "restart #1")
    assert "already on its way" in again.text
    [which] = engine.handle(bob, "restart")
    assert "Which booking? Say `restart N`" in which.text
    assert "restart N" in HELP


def test_bookings_not_running_offer_no_restart_button() -> None:
    assert "Restart" not in [a.label for a in booking_actions(3)]
    running = booking_actions(3, running=True)
    assert len({a.command for a in running}) == len(running)


def _restart_done(service: BookingService, booking_id: int) -> None:
    """What the scheduler records once it restarted the container."""
    with service.unit() as uow:
        uow.bookings.record(booking_id, "restarted", "scheduler", at=service.now().isoformat())
        uow.commit()


def test_an_old_restart_press_after_the_restart_answers_with_the_state() -> None:
    service, store = fake_service()
    engine = ConversationEngine(service)
    booked(service, store)
    bob = service.account("bob")
    [card] = engine.handle(bob, "list")[0].cards
    restart = next(a for a in card.actions if a.verb == "restart")

    first = engine.press(bob, restart.command)
    assert first.update is not None
    assert first.update.text.startswith("Restarting the container of booking #1")
    _restart_done(service, 1)

    again = engine.press(bob, restart.command)  # the same, old button, once it is done
    assert again.update is not None
    assert again.update.text.startswith("Already restarted at 2026-11-29 ")
    assert "#1 [running] bob:" in again.update.text
    assert [e.kind for e in store.events].count("restart_requested") == 1
    # the redrawn message's Restart asks for the next restart, and a press of it restarts
    fresh = next(a for a in again.update.actions if a.verb == "restart")
    assert fresh.label == "Restart #1" and fresh.command == "restart 1 after 1"
    third = engine.press(bob, fresh.command)
    assert third.update is not None and third.update.text.startswith("Restarting the container")
    assert [e.kind for e in store.events].count("restart_requested") == 2


def test_an_old_restart_press_while_one_is_on_its_way_restarts_nothing_more() -> None:
    service, store = fake_service()
    engine = ConversationEngine(service)
    booked(service, store)
    bob = service.account("bob")
    engine.press(bob, "restart 1 after 0")
    pending = engine.press(bob, "restart 1 after 0")
    assert pending.update is not None
    assert pending.update.text.startswith("A restart of booking #1 is already on its way")
    assert [e.kind for e in store.events].count("restart_requested") == 1


def test_a_restart_button_from_before_buttons_stated_their_target_restarts_only_once() -> None:
    service, store = fake_service()
    engine = ConversationEngine(service)
    booked(service, store)
    bob = service.account("bob")
    engine.press(bob, "restart 1")  # an old message's button: the first restart
    _restart_done(service, 1)
    again = engine.press(bob, "restart 1")
    assert again.update is not None and again.update.text.startswith("Already restarted at")
    assert [e.kind for e in store.events].count("restart_requested") == 1
    [typed] = engine.handle(bob, "restart 1")  # typed, it restarts again
    assert typed.text.startswith("Restarting the container of booking #1")
