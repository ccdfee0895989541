"""A Restart button states how many restarts were asked when it was drawn (`after`):
the service checks it in the transaction that records the restart, on a real SQLite
database, so an old or doubled press restarts nothing and is told the state."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.chat import notice_words
from core.domain.gpus import GpuInventory
from core.domain.model import ErrorCode, Refusal, Resources, Status
from core.services.booking import BookingService
from core.services.capacity import BookingRequest
from storage.engine import make_engine, migrate
from storage.uow import SqlUnitOfWork, ensure_server
from tests.factories import Clock, make_config


@pytest.fixture
def service(tmp_path: Path) -> BookingService:
    engine = make_engine(f"sqlite:///{tmp_path / 'booking.db'}")
    migrate(engine)
    server_id = ensure_server(engine, "gpu1")
    service = BookingService(config=make_config(), uow=lambda: SqlUnitOfWork(engine, server_id),
                             gpus=GpuInventory(4), clock=Clock(), notices=notice_words)
    service.add_account("bob")
    booking = service.book(BookingRequest("bob", Resources(2, 8, 1), "now", "1-day"))
    with service.unit() as uow:  # the scheduler started its container
        uow.bookings.save(replace(booking, status=Status.RUNNING))
        uow.commit()
    return service


def _scheduler_records(service: BookingService, kind: str) -> None:
    with service.unit() as uow:
        uow.bookings.record(1, kind, "scheduler", at=service.now().isoformat())
        uow.commit()


def _requests(service: BookingService) -> int:
    with service.unit() as uow:
        return [e.kind for e in uow.bookings.events(1)].count("restart_requested")


def _press(service: BookingService, after: int) -> Refusal:
    with pytest.raises(Refusal) as caught:
        service.restart(1, actor="bob", after=after)
    return caught.value


def test_a_second_press_with_the_same_after_restarts_nothing_and_says_the_state(
    service: BookingService,
) -> None:
    service.restart(1, actor="bob", after=0)
    _scheduler_records(service, "restarted")

    again = _press(service, after=0)
    assert again.code == ErrorCode.OVERTAKEN
    assert again.message == ("Booking #1 was restarted already, at 2026-11-29 12:10 CST; it runs "
                             "until 2026-11-30 12:00 CST; say `restart 1` to restart it again.")
    assert _requests(service) == 1
    service.restart(1, actor="bob", after=1)  # the button drawn after that restart
    assert _requests(service) == 2


def test_a_press_while_its_restart_is_on_its_way_is_told_so(service: BookingService) -> None:
    service.restart(1, actor="bob", after=0)
    pending = _press(service, after=0)
    assert pending.code == ErrorCode.PENDING
    assert pending.message == ("A restart of booking #1 is already on its way; I will message you "
                               "when it is done.")
    assert _requests(service) == 1


def test_an_old_press_after_a_failed_restart_says_so_and_a_new_one_tries_again(
    service: BookingService,
) -> None:
    service.restart(1, actor="bob", after=0)
    _scheduler_records(service, "restart_failed")
    failed = _press(service, after=0)
    assert failed.code == ErrorCode.OVERTAKEN
    assert failed.message.startswith("The last restart of booking #1 failed (my message says why); "
                                     "it runs until 2026-11-30 12:00 CST;")
    service.restart(1, actor="bob", after=1)
    assert _requests(service) == 2


def test_a_typed_restart_states_no_count_and_restarts_again_once_done(
    service: BookingService,
) -> None:
    service.restart(1, actor="bob")
    _scheduler_records(service, "restarted")
    service.restart(1, actor="bob")
    assert _requests(service) == 2
