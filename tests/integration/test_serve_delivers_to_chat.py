"""`booking serve` as composed by bot.serve.serve, run in a thread with a standard
input that is no terminal and never closes, and stopped through its `stop` event:

- the scheduler's ready message reaches the member as a Slack DM (local fake Web
  API) and as a Discord DM (local fake HTTP API), once, with a password that logs
  in over SSH to the real container;
- only one serve runs the scheduler of a database; a second one waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import discord
import docker
import pytest
import yaml
import yarl
from aiohttp import web
from sqlalchemy import text

from bot import bootstrap
from bot.serve import serve
from core.domain.model import Resources
from core.services.capacity import BookingRequest
from storage.scheduler_lock import try_scheduler_lock
from tests.discord.fake_discord import APP_ID, BOT_USER, FakeDiscord, dm_channel_id
from tests.integration.scheduler_world import remove_server_containers
from tests.slack.blockkit import check_everything_sent
from tests.slack.harness import BOT_TOKEN, SIGNING_SECRET, Call, FakeSlackApi
from tests.support.docker_fixtures import free_tcp_port, ssh_run

BOB_SLACK, BOB_DISCORD = "UBOB", 1002
SECRET = "serve-test-secret-0123456789"


def _environment(tmp_path: Path, database_url: str, image: str, docker_host: str,
                 **chat: Any) -> bootstrap.Environment:
    for folder in ("work", "dataset", "backup"):
        (tmp_path / folder).mkdir(exist_ok=True)
    config = {
        "server": {"name": f"serve-{uuid.uuid4().hex[:8]}", "public_host": "127.0.0.1",
                   "timezone": "UTC"},
        "capacity": {"cpus": 4, "ram": 4, "swap": 0, "gpus": 0},
        "booking": {"ports": [1024, 65535]},
        "images": {"default": image, "allowed": [image]},
        "volumes": {f: str(tmp_path / f) for f in ("work", "dataset", "backup")},
        "scheduler": {"reconcile_seconds": 1, "ssh_wait_seconds": 20, "stop_grace_seconds": 1},
    }
    (tmp_path / "booking.yaml").write_text(yaml.safe_dump(config))
    settings: dict[str, Any] = {
        "slack_bot_token": None, "slack_app_token": None, "slack_signing_secret": None,
        "discord_token": None, "discord_guild_id": None, **chat,
    }
    return bootstrap.Environment(
        booking_config=tmp_path / "booking.yaml", booking_database_url=database_url,
        docker_host=docker_host, booking_secret=SECRET, booking_data_dir=tmp_path / "data",
        booking_slack_port=0, **settings,
    )


@contextlib.contextmanager
def serving(app: bootstrap.App) -> Iterator[threading.Event]:
    """bot.serve.serve in a thread; the event it yields stops it (as SIGTERM would)."""
    stop = threading.Event()
    reading, writing = os.pipe()  # a standard input that is not a terminal and stays open
    stdin = os.fdopen(reading)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            serve(app, stdin=stdin, stop=stop)
        except BaseException as exc:  # reported in the test's thread
            failures.append(exc)

    thread = threading.Thread(target=run, name="serve", daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(30)
        stdin.close()
        os.close(writing)
        assert not thread.is_alive(), "serve did not stop"
        assert not failures, failures


def _wait(check: Callable[[], Any], what: str, timeout: float = 40) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def _book_now(app: bootstrap.App, user: str, port: int) -> int:
    booking = app.service.book(BookingRequest(user, Resources(1, 1, 0), "now", "1-day",
                                              port=port))
    assert booking.id is not None
    return booking.id


def _password(text: str) -> str:
    match = re.search(r"password:\s*`?([^\s`]+)", text)
    assert match, text
    return match.group(1)


def _ready_sent_via(app: bootstrap.App, booking_id: int) -> list[str | None]:
    """The channel each of the booking's ready messages went out on, from the outbox."""
    assert app.engine is not None
    with app.engine.connect() as connection:
        return list(connection.execute(
            text("SELECT channel FROM outbox WHERE booking_id = :id AND kind = 'ready'"),
            {"id": booking_id}).scalars())


@pytest.fixture
def docker_ready(docker_client: docker.DockerClient, ssh_image: str, docker_host: str) -> str:
    return docker_host


# ----- Slack ---------------------------------------------------------------------


@pytest.mark.docker
def test_serve_sends_the_ready_message_as_one_slack_dm_whose_password_logs_in(
    tmp_path: Path, ssh_image: str, docker_ready: str, docker_client: docker.DockerClient,
) -> None:
    api = FakeSlackApi().start()
    environment = _environment(
        tmp_path, f"sqlite:///{tmp_path / 'data' / 'booking.db'}", ssh_image, docker_ready,
        slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
        slack_api_url=api.base_url)
    app = bootstrap.build(environment)
    app.service.add_account("bob", slack_id=BOB_SLACK)
    port = free_tcp_port()
    command = f"ssh -p {port} root@127.0.0.1"

    def ready(call: Call) -> bool:
        return (call.args.get("channel") == "D" + BOB_SLACK
                and command in json.dumps(call.args["blocks"]))

    try:
        with serving(app):
            booking_id = _book_now(app, "bob", port)
            [message] = api.wait_for("chat.postMessage", ready, timeout=40)
            password = _password(json.dumps(message.args["blocks"]).replace("\\n", "\n"))
            # The notification preview (`text`) says it is ready, never the password.
            assert message.args["text"].startswith(f"Your booking #{booking_id} is ready until")
            assert password not in message.args["text"]
            login = ssh_run(port, password, "echo in")
            assert login.returncode == 0, login.stderr
            assert login.stdout == "in\n"
            time.sleep(2.5)  # more outbox and reconcile passes: nothing is sent again
            assert len([c for c in api.of("chat.postMessage") if ready(c)]) == 1
        assert _ready_sent_via(app, booking_id) == ["slack"]
        assert api.of("conversations.open")[0].args["users"] == BOB_SLACK
        check_everything_sent(api.calls)
    finally:
        api.stop()
        remove_server_containers(docker_client, app.config.server.name)


# ----- Discord ---------------------------------------------------------------------


class FakeDiscordWithGateway(FakeDiscord):
    """The fake HTTP API plus a gateway that says HELLO and READY and acks heartbeats.

    `serve` runs the whole client (`bot.start`), which opens the gateway; without
    one, discord.py's first reconnect attempt fails on `self.ws` being None and
    the client thread ends, taking the notifier with it.
    """

    identified = False

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.gateway = f"ws://127.0.0.1:{port}/gateway"
        self.base = f"http://127.0.0.1:{port}/api/v10"
        return self.base

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 45000}, "s": None,
                                "t": None})
        async for frame in socket:
            payload = json.loads(frame.data)
            if payload["op"] == 2:  # IDENTIFY
                self.identified = True
                await socket.send_json({"op": 0, "t": "READY", "s": 1, "d": {
                    "v": 10, "user": BOT_USER, "guilds": [], "session_id": "session-1",
                    "resume_gateway_url": self.gateway,
                    "application": {"id": str(APP_ID), "flags": 0}}})
            elif payload["op"] == 1:  # HEARTBEAT
                await socket.send_json({"op": 11, "d": None, "s": None, "t": None})
        return socket


@contextlib.contextmanager
def fake_discord(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDiscordWithGateway]:
    """The fake Discord API on its own event loop, with discord.py pointed at it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-discord", daemon=True)
    thread.start()
    fake = FakeDiscordWithGateway()
    base = asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    monkeypatch.setattr(discord.http.Route, "BASE", base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        yarl.URL(fake.gateway))
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.mark.docker
def test_serve_sends_the_ready_message_as_one_discord_dm_with_timestamps(
    tmp_path: Path, ssh_image: str, docker_ready: str, docker_client: docker.DockerClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment = _environment(
        tmp_path, f"sqlite:///{tmp_path / 'data' / 'booking.db'}", ssh_image, docker_ready,
        discord_token="test-token")
    app = bootstrap.build(environment)
    app.service.add_account("bob", discord_id=str(BOB_DISCORD))
    port = free_tcp_port()
    command = f"ssh -p {port} root@127.0.0.1"
    path = f"/channels/{dm_channel_id(BOB_DISCORD)}/messages"
    try:
        with fake_discord(monkeypatch) as fake, serving(app):
            booking_id = _book_now(app, "bob", port)

            def ready() -> list[dict[str, Any]]:
                # The login comes as an embed: host, port, user, password, ssh command.
                return [c.body for c in list(fake.calls)
                        if c.method == "POST" and c.path == path
                        and any(command in f["value"] for e in c.body.get("embeds", [])
                                for f in e.get("fields", []))]

            [dm] = _wait(ready, "the ready DM on Discord")
            assert fake.identified  # the client is connected, as in production
            booking = app.service.get(booking_id)
            assert f"<t:{int(booking.end.timestamp())}:f>" in dm["content"]
            fields = {f["name"]: f["value"] for f in dm["embeds"][0]["fields"]}
            assert fields["port"] == f"`{port}`"
            login = ssh_run(port, fields["password"].strip("`"), "echo in")
            assert login.returncode == 0, login.stderr
            time.sleep(2.5)
            assert len(ready()) == 1
        assert _ready_sent_via(app, booking_id) == ["discord"]
    finally:
        remove_server_containers(docker_client, app.config.server.name)


# ----- one scheduler per database ----------------------------------------------------


def test_a_second_serve_waits_for_the_first_to_release_the_scheduler(
    tmp_path: Path, database_url: str, docker_host: str, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    environment = _environment(tmp_path, database_url, "booking-test-ssh", docker_host)
    first, second, third = (bootstrap.build(environment) for _ in range(3))
    assert first.engine is not None

    def count(needle: str) -> int:
        return sum(needle in record.getMessage() for record in list(caplog.records))

    running, waiting = "booking serve is running", "another `booking serve` runs the scheduler"
    with serving(first) as stop_first:
        _wait(lambda: count(running) == 1, "the first serve")
        assert try_scheduler_lock(first.engine, first.server_id) is None
        with serving(second):
            _wait(lambda: count(waiting) == 1, "the second serve to wait")
            time.sleep(1.5)  # a lock attempt or two more: still waiting
            assert count(running) == 1 and count("scheduler started") == 1
            stop_first.set()
            _wait(lambda: count(running) == 2, "the second serve to take over", timeout=10)
            with serving(third) as stop_third:  # a waiting serve stops when asked
                _wait(lambda: count(waiting) == 2, "the third serve to wait")
                stop_third.set()
            assert count(running) == 2
    lock = try_scheduler_lock(first.engine, first.server_id)  # released on stop
    assert lock is not None
    lock.release()
    for app in (first, second, third):
        assert app.engine is not None
        app.engine.dispose()


@pytest.mark.postgres
def test_serve_stops_with_status_1_when_a_rival_took_the_lock_it_lost(
    tmp_path: Path, postgres_url: str, docker_host: str, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    app = bootstrap.build(_environment(tmp_path, postgres_url, "booking-test-ssh", docker_host))
    assert app.engine is not None
    statuses: list[int] = []
    reading, writing = os.pipe()
    with os.fdopen(reading) as stdin:
        thread = threading.Thread(target=lambda: statuses.append(serve(app, stdin=stdin)))
        thread.start()
        try:
            _wait(lambda: any("booking serve is running" in r.getMessage() for r in caplog.records),
                  "serve to run")
            with app.engine.connect() as connection:  # the lock's session ends (a server restart)
                connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"))
                connection.commit()
            rival = try_scheduler_lock(app.engine, app.server_id)  # another serve is quicker
            assert rival is not None
            thread.join(15)
            assert statuses == [1]
            assert any("took the scheduler lock" in r.getMessage() for r in caplog.records)
            rival.release()
        finally:
            os.close(writing)
            thread.join(15)
    app.engine.dispose()
