"""Socket Mode end to end, offline: the real SocketModeHandler against a local WebSocket server.

The fake Web API hands out the server's ws:// URL from `apps.connections.open`; the
server sends envelopes in the format Slack documents for Socket Mode, and the app
acknowledges over the socket and answers through the Web API, as it would in a lab.
(slack_sdk's built-in client speaks plain WebSocket to any port but 443, so no TLS here.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import bootstrap
from bot.slack import SlackAdapter, slack_adapter_from_env
from core.domain.model import Status
from tests.slack.blockkit import check_everything_sent
from tests.slack.harness import BOT_TOKEN, TEAM, FakeSlackApi, write_config
from tests.slack.socket_server import FakeSocketModeServer

APP_TOKEN = "xapp-1-A0001-1-test"
BOB = "UBOB"
SLACK_ACK_LIMIT = 3.0  # seconds Slack waits for an envelope's acknowledgement


@dataclass
class SocketWorld:
    booking: bootstrap.App
    adapter: SlackAdapter
    api: FakeSlackApi
    server: FakeSocketModeServer
    threads_before: set[threading.Thread]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SocketWorld]:
    server = FakeSocketModeServer().start()
    api = FakeSlackApi(timezones={BOB: "Europe/Berlin"}, socket_mode_url=server.url).start()
    threads_before = set(threading.enumerate())
    environment = bootstrap.Environment(
        booking_config=write_config(tmp_path),
        booking_database_url=f"sqlite:///{tmp_path / 'booking.db'}",
        slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN, slack_signing_secret=None,
        slack_api_url=api.base_url,
    )
    booking = bootstrap.build(environment)
    booking.service.add_account("bob", slack_id=BOB)
    adapter = slack_adapter_from_env(booking, environment)
    assert adapter is not None
    try:
        adapter.start()
        assert server.connected.wait(timeout=5), "the app never opened the WebSocket"
        yield SocketWorld(booking, adapter, api, server, threads_before)
        check_everything_sent(api.calls)
    finally:
        adapter.stop()
        stop_lazy_listeners(adapter)
        api.stop()
        server.stop()


def stop_lazy_listeners(adapter: SlackAdapter) -> None:
    # Bolt's pool for lazy listeners comes with the Bolt app, not with start(); at exit
    # Python joins its idle threads, in a test we end them here.
    adapter.app.listener_runner.listener_executor.shutdown(wait=True)


def slash_command(envelope_id: str, user: str, command: str, text: str,
                  response_url: str) -> dict[str, Any]:
    return {
        "envelope_id": envelope_id, "type": "slash_commands", "accepts_response_payload": True,
        "payload": {
            "token": "legacy", "team_id": TEAM, "team_domain": "lab",
            "channel_id": "C0GENERAL", "channel_name": "general",
            "user_id": user, "user_name": user.lower(), "command": command, "text": text,
            "api_app_id": "A0001", "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": f"trigger.{envelope_id}",
        },
    }


def button_click(envelope_id: str, user: str, block: dict[str, Any], button: dict[str, Any],
                 response_url: str) -> dict[str, Any]:
    return {
        "envelope_id": envelope_id, "type": "interactive", "accepts_response_payload": False,
        "payload": {
            "type": "block_actions", "team": {"id": TEAM, "domain": "lab"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "api_app_id": "A0001", "token": "legacy", "trigger_id": f"trigger.{envelope_id}",
            "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0GENERAL",
                          "is_ephemeral": True},
            "channel": {"id": "C0GENERAL", "name": "general"},
            "response_url": response_url,
            "actions": [{"type": "button", "block_id": block.get("block_id", "b1"),
                         "action_id": button["action_id"], "value": button["value"],
                         "text": button["text"], "action_ts": f"{time.time():.6f}"}],
        },
    }


def acknowledged_in_time(world: SocketWorld, envelope: dict[str, Any]) -> dict[str, Any]:
    sent = world.server.send(envelope)
    ack = world.server.wait_for(envelope["envelope_id"], timeout=SLACK_ACK_LIMIT + 2)
    assert ack.at - sent < SLACK_ACK_LIMIT
    return ack.message


def test_a_slash_command_books_and_its_cancel_button_cancels_over_the_socket(world: SocketWorld):
    [opened] = world.api.of("apps.connections.open")
    assert opened.token == APP_TOKEN  # the app-level token, not the bot token
    assert world.server.connections == 1

    command = slash_command("env-book-1", BOB, "/book", "1 gpu 4 cpus 16g now 1-day",
                            world.api.response_url("cmd"))

    assert acknowledged_in_time(world, command) == {"envelope_id": "env-book-1"}
    pointer = world.api.wait_for("response_url")[0].args
    assert pointer["response_type"] == "ephemeral"
    assert pointer["text"].startswith("Booked: #1 [booked] bob:")
    reply = world.api.wait_for("chat.postMessage")[0].args  # kept in the DM, with buttons
    assert reply["channel"] == "D" + BOB
    [booking] = world.booking.service.bookings("bob")
    assert booking.id is not None
    resources = booking.resources
    assert (resources.cpus, resources.memory, resources.gpus) == (4, 16, 1)

    [(block, cancel)] = [(b, e) for b in reply["blocks"] if b["type"] == "actions"
                         for e in b["elements"] if e["text"]["text"] == "Cancel #1"]
    click = button_click("env-click-1", BOB, block, cancel, world.api.response_url("action"))

    assert acknowledged_in_time(world, click) == {"envelope_id": "env-click-1"}
    answer = world.api.wait_for("response_url", count=2)[1].args
    assert answer["text"] == f"Booking #{booking.id} is cancelled."
    assert world.booking.service.get(booking.id).status == Status.CANCELLED


def test_stop_closes_the_connection_and_ends_its_threads(
    world: SocketWorld, caplog: pytest.LogCaptureFixture
):
    acknowledged_in_time(world, slash_command("env-list-1", BOB, "/book", "list",
                                              world.api.response_url("cmd")))
    world.api.wait_for("response_url")
    caplog.set_level(logging.WARNING)

    began = time.monotonic()
    world.adapter.stop()

    assert time.monotonic() - began < 3
    assert world.server.disconnected.wait(timeout=3), "the WebSocket stayed open"
    time.sleep(0.3)  # a reconnect, were there one, would have begun by now
    assert world.server.connections == 1
    assert len(world.api.of("apps.connections.open")) == 1
    assert [r.getMessage() for r in caplog.records] == []
    stop_lazy_listeners(world.adapter)
    assert threads_started_since(world.threads_before) == []


def threads_started_since(before: set[threading.Thread], *, wait: float = 2.0) -> list[str]:
    # The fake Web API's request threads may take a moment to finish their last reply.
    deadline = time.monotonic() + wait
    while True:
        started = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
        if not started or time.monotonic() > deadline:
            return started
        time.sleep(0.05)
