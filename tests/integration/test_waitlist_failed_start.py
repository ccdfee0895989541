"""The waitlist after a booking fails to start (README, "Waitlist"): the room it gave back
is offered to those waiting for it, as after a cancel. The lifecycle is wired as `booking
serve` wires it (freed = BookingService.recheck_waitlist), with a stand-in container
runtime that refuses the start, on real SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.chat import lifecycle_messages, waitlist_words
from core.chat.actions import Action
from core.chat.conversation import ConversationEngine
from core.domain.container import ContainerError
from core.domain.model import Resources, Status
from core.runtime.host_files import HostMemberFiles
from core.services.capacity import BookingRequest
from core.services.lifecycle import Lifecycle
from tests.unit.test_scheduler_lifecycle import Rig


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Rig:
    """gpu1 with 2 GPUs; bob and carol may each book both; alice is the admin."""
    url = None if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))
    rig = Rig(tmp_path, url)
    rig.service.waitlist_words = waitlist_words  # as bot/bootstrap.py sets it
    rig.service.add_account("carol")
    rig.lifecycle = Lifecycle(config=rig.config, uow=rig.uow, runtime=rig.runtime,
                              passwords=rig.passwords, clock=rig.clock, words=lifecycle_messages,
                              files=HostMemberFiles(), ssh_ready=lambda host, port, timeout: True,
                              freed=rig.service.recheck_waitlist)  # as bot/serve.py wires it
    return rig


def test_a_failed_start_offers_its_room_to_the_member_waiting_for_it(rig: Rig) -> None:
    bobs = rig.service.book(BookingRequest(user="bob", resources=Resources(2, 16, 2),
                                           start="now", end="1-day"))
    assert bobs.id is not None
    engine = ConversationEngine(rig.service)
    carol = rig.service.account("carol")
    [refused] = engine.handle(carol, "book 2 gpus 2 cpus 4g now 1-day")
    assert refused.text.startswith("Not enough free for that window: GPUs (2 asked, 0 free)")
    notify = next(a for a in refused.actions if a.label == "Notify me")
    pressed = engine.press(carol, notify.command)
    assert pressed.replies[0].text.startswith("OK: I will message you when 2 CPUs, 4 GB, 2 GPUs")

    rig.runtime.errors = [ContainerError("image 'lab/gpu:1' is not on the engine", retryable=False)]
    assert rig.step(bobs.id) == Status.FAILED

    [offer] = [m for name, m in rig.notifier.sent if name == "carol"]
    assert offer.text.startswith(
        "Room freed up for what you wait for: 2 CPUs, 4 GB, 2 GPUs for 1 day fits from "
        "2026-11-29 12:00 CST to 2026-11-30 12:00 CST.")
    [book_it] = [Action.from_dict(a) for a in offer.actions]
    assert book_it.label == "Book it"
    booked = engine.press(carol, book_it.command)
    assert booked.update is not None
    assert booked.update.text.startswith(f"Booked: #{bobs.id + 1} [booked] carol:")
    assert [b.resources.gpus for b in rig.service.bookings("carol")] == [2]
    # bob was told his start failed; nothing else reached him
    assert [t for t in rig.messages("bob") if "could not start" in t]
