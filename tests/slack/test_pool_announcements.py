"""The announcements channel in a pool of servers: each start and end says which server
(one server: tests/slack/test_announcements.py, unchanged)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from core.chat import lifecycle_messages as words
from core.domain.model import Resources, Status
from core.domain.passwords import PasswordDeriver
from core.services.capacity import BookingRequest
from core.services.outbox import OutboxSender, enqueue
from storage.uow import SqlUnitOfWork
from tests.slack.conftest import BOB
from tests.slack.harness import SlackWorld
from tests.slack.pool_world import pool_slack_world

CHANNEL = "CLAB"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SlackWorld]:
    with pool_slack_world(tmp_path, {"bob": BOB}, slack={"announce_channel": CHANNEL}) as built:
        yield built


def test_a_start_and_an_end_on_gpu2_say_so(world: SlackWorld) -> None:
    service = world.booking.service
    booking = service.book(BookingRequest("bob", Resources(2, 8, 1), "now", "1-day",
                                          server="gpu2"))
    booking = replace(booking, status=Status.RUNNING)
    on_gpu2 = service.on("gpu2")
    account = service.account("bob")
    with on_gpu2.unit() as uow:  # as gpu2's host records the start and the end
        uow.bookings.save(booking)
        enqueue(uow.outbox, "bob", words.ready(on_gpu2.config, booking, account, []), service.now())
        enqueue(uow.outbox, "bob", words.ended(on_gpu2.config, booking, [], []), service.now())
        uow.commit()
    # The chat host (gpu1's) delivers every server's outbox, as serve does in a pool.
    engine, home = world.booking.engine, world.booking.server_id
    assert engine is not None
    sender = OutboxSender(uow=lambda: SqlUnitOfWork(engine, home, whole_pool=True),
                          passwords=PasswordDeriver(b"x" * 32),
                          notifiers=[("slack", world.adapter.notifier)],
                          fallback=("slack", world.adapter.notifier), clock=service.now)
    assert sender.flush() == 2

    lines = [c.args["text"] for c in world.api.of("chat.postMessage") if c.args["channel"] == CHANNEL]
    assert len(lines) == 2
    assert lines[0].startswith(f"bob started booking #{booking.id} on gpu2 (2 CPUs, 8 GB, GPU 0) until ")
    assert lines[1] == f"bob's booking #{booking.id} on gpu2 ended; 2 CPUs, 8 GB, GPU 0 free again."
