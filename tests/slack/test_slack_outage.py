"""Slack away at start, and rate limits: the service keeps running and catches up.

The real Bolt app, SocketModeHandler and WebClient against the local Web API and
WebSocket server, which answer 503 or 429 first when told to."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import bootstrap
from bot.log_notifier import LogNotifier
from bot.slack import slack_adapter_from_env
from bot.slack.app import web_client
from bot.slack.members import Members
from bot.slack.notifier import SlackNotifier
from core.domain.model import Account
from core.domain.passwords import PasswordDeriver
from core.services.notifier import Message, MessageKind
from core.services.outbox import OutboxSender, enqueue
from tests.factories import Clock
from tests.slack.harness import BOT_TOKEN, FakeSlackApi, write_config
from tests.slack.socket_server import FakeSocketModeServer

APP_TOKEN = "xapp-1-A0001-1-test"


def test_slack_unreachable_at_start_stops_nothing_and_connects_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = FakeSocketModeServer().start()
    outage = [(503, {})] * 2
    api = FakeSlackApi(socket_mode_url=server.url,
                       failures={"auth.test": list(outage), "apps.connections.open": list(outage)}
                       ).start()
    environment = bootstrap.Environment(
        booking_config=write_config(tmp_path),
        booking_database_url=f"sqlite:///{tmp_path / 'booking.db'}",
        slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN, slack_signing_secret=None,
        slack_api_url=api.base_url,
    )
    booking = bootstrap.build(environment)
    caplog.set_level(logging.INFO, logger="bot.slack.adapter")
    adapter = slack_adapter_from_env(booking, environment)  # no auth.test at construction
    assert adapter is not None
    try:
        started = time.monotonic()
        adapter.start()
        assert time.monotonic() - started < 1  # returns at once: serve goes on
        assert server.connected.wait(timeout=15), "never connected after the outage"
        tries = [r.getMessage() for r in caplog.records if "Slack is not reachable" in r.getMessage()]
        assert [t.rsplit(" ", 1)[-1] for t in tries] == ["1s", "2s"]  # growing pauses
        assert len(api.of("apps.connections.open")) == 3
    finally:
        adapter.stop()
        api.stop()
        server.stop()


def test_a_rate_limited_message_is_sent_after_retry_after(tmp_path: Path) -> None:
    api = FakeSlackApi(failures={"chat.postMessage": [(429, {"Retry-After": "1"})]}).start()
    try:
        environment = bootstrap.Environment(
            booking_config=write_config(tmp_path),
            booking_database_url=f"sqlite:///{tmp_path / 'booking.db'}",
        )
        booking = bootstrap.build(environment)
        client = web_client(BOT_TOKEN, api.base_url)
        notifier = SlackNotifier(client, Members(booking.service, client), booking.service)
        bob = Account(name="bob", slack_id="UBOB")
        started = time.monotonic()
        assert notifier.deliver(bob, Message(MessageKind.INFO, "Your booking #1 has ended.", 1))
        posts = api.of("chat.postMessage")
        assert len(posts) == 2 and time.monotonic() - started >= 1  # waited as told
        assert posts[-1].args["text"] == "Your booking #1 has ended."
    finally:
        api.stop()


def test_a_message_kept_while_slack_was_down_goes_out_once_it_answers(tmp_path: Path) -> None:
    """The outbox keeps the scheduler's message while Slack answers 503, and the next
    flush after the pause delivers it to the member's DM, once."""
    api = FakeSlackApi(failures={"chat.postMessage": [(503, {})] * 2}).start()
    try:
        environment = bootstrap.Environment(
            booking_config=write_config(tmp_path),
            booking_database_url=f"sqlite:///{tmp_path / 'booking.db'}",
        )
        booking = bootstrap.build(environment)
        booking.service.add_account("bob", slack_id="UBOB")
        client = web_client(BOT_TOKEN, api.base_url)
        notifier = SlackNotifier(client, Members(booking.service, client), booking.service)
        clock = Clock(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
        sender = OutboxSender(uow=booking.service.unit, passwords=PasswordDeriver(b"s" * 32),
                              notifiers=[("slack", notifier)], fallback=("log", LogNotifier()),
                              clock=clock)
        with booking.service.unit() as uow:
            enqueue(uow.outbox, "bob", Message(MessageKind.INFO, "Your booking #1 has ended."),
                    clock.now)
            uow.commit()

        assert sender.flush() == 0  # Slack is down: kept, tried again after a pause
        clock.now += timedelta(seconds=5)
        assert sender.flush() == 0  # still down: a longer pause
        clock.now += timedelta(seconds=10)
        assert sender.flush() == 1
        clock.now += timedelta(hours=1)
        assert sender.flush() == 0  # delivered once

        posts = api.of("chat.postMessage")
        assert [p.args["text"] for p in posts] == ["Your booking #1 has ended."] * 3
        assert posts[-1].args["channel"] == "DUBOB"
    finally:
        api.stop()
