"""Slack's end of a Socket Mode connection, offline: a local WebSocket server (aiohttp).

It says hello as Slack does, sends the envelopes a test hands it, and keeps what the
app sends back (the acknowledgements) with the time each arrived.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

T = TypeVar("T")

# https://docs.slack.dev/apis/events-api/using-socket-mode/ (the first message on a connection)
HELLO = {
    "type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"},
    "debug_info": {"host": "applink-local", "build_number": 1,
                   "approximate_connection_time": 18060},
}


PING_INTERVAL = 0.05  # seconds


@dataclass
class Received:
    message: dict[str, Any]
    at: float  # time.monotonic() when it arrived


class FakeSocketModeServer:
    """One WebSocket endpoint at ws://127.0.0.1:<free port>/link, run in its own thread."""

    def __init__(self) -> None:
        self.url = ""
        self.connections = 0
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.received: list[Received] = []
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-socket-mode",
                                        daemon=True)
        self._runner: web.AppRunner | None = None
        self._socket: web.WebSocketResponse | None = None

    def start(self) -> FakeSocketModeServer:
        self._thread.start()
        port = self._call(self._serve())
        self.url = f"ws://127.0.0.1:{port}/link"
        return self

    def stop(self) -> None:
        if self._runner is not None:
            self._call(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def send(self, envelope: dict[str, Any]) -> float:
        """Sends one envelope to the connected app; returns when it was sent (monotonic)."""
        assert self._socket is not None, "the app has not connected"
        sent = time.monotonic()
        self._call(self._socket.send_json(envelope))
        return sent

    def wait_for(self, envelope_id: str, *, timeout: float = 5.0) -> Received:
        """The app's acknowledgement of one envelope."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for received in self.received:
                    if received.message.get("envelope_id") == envelope_id:
                        return received
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [r.message for r in self.received]
                    raise AssertionError(f"no ack of {envelope_id} within {timeout}s; saw {seen}")
                self._changed.wait(left)

    # ----- the event loop's side -----------------------------------------

    async def _serve(self) -> int:
        app = web.Application()
        app.router.add_get("/link", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return int(self._runner.addresses[0][1])

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()  # autoping: answers the client's pings
        await socket.prepare(request)
        self._socket = socket
        self.connections += 1
        await socket.send_json(HELLO)
        self.connected.set()
        pinging = asyncio.create_task(self._keep_pinging(socket))
        async for frame in socket:
            if frame.type == WSMsgType.TEXT:
                with self._changed:
                    self.received.append(Received(json.loads(frame.data), time.monotonic()))
                    self._changed.notify_all()
        pinging.cancel()
        self.disconnected.set()
        return socket

    async def _keep_pinging(self, socket: web.WebSocketResponse) -> None:
        # Slack pings its clients too. Here it also wakes the client's reading thread,
        # which otherwise sits in recv() for up to three seconds and holds up close().
        # Not an empty ping: slack_sdk's reader blocks for more after a frame of two bytes.
        while not socket.closed:
            await socket.ping(b"ping")
            await asyncio.sleep(PING_INTERVAL)

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=5)
