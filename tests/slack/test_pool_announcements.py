"""The announcements channel in a pool of servers: each start and end says which server
(one server: tests/slack/test_announcements.py, unchanged)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot import bootstrap
from bot.slack import slack_adapter_from_env
from core.chat import lifecycle_messages as words
from core.domain.model import Resources, Status
from core.domain.passwords import PasswordDeriver
from core.services.capacity import BookingRequest
from core.services.outbox import OutboxSender, enqueue
from storage.uow import SqlUnitOfWork
from tests.slack.blockkit import check_everything_sent
from tests.slack.conftest import BOB
from tests.slack.harness import BOT_TOKEN, SIGNING_SECRET, FakeSlackApi, SlackClient, SlackWorld
from tests.support.pool_config import write_pool_config

CHANNEL = "CLAB"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SlackWorld]:
    api = FakeSlackApi().start()
    environment = bootstrap.Environment(
        booking_config=write_pool_config(tmp_path / "booking.yaml",
                                         slack={"announce_channel": CHANNEL}),
        booking_database_url=f"sqlite:///{tmp_path / 'booking.db'}",
        slack_bot_token=BOT_TOKEN, slack_app_token=None, slack_signing_secret=SIGNING_SECRET,
        slack_api_url=api.base_url, booking_slack_port=0, booking_data_dir=tmp_path)
    booking = bootstrap.build(environment)
    adapter = slack_adapter_from_env(booking, environment, host="127.0.0.1")
    assert adapter is not None
    adapter.start()
    booking.service.add_account("bob", slack_id=BOB)
    try:
        yield SlackWorld(booking, adapter, api,
                         SlackClient(f"http://127.0.0.1:{adapter.port}/slack/events", api),
                         tmp_path / "booking.db")
        check_everything_sent(api.calls)
    finally:
        adapter.stop()
        api.stop()


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
