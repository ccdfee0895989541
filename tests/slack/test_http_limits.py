"""HTTP mode against unauthenticated abuse, over real sockets to the real server:
oversized bodies, slow and half-open connections, bodies that are not UTF-8."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bot.slack.server import MAX_BODY, SlackHttpServer
from tests.slack.conftest import CAROL
from tests.slack.harness import SlackWorld


def _rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _address(world: SlackWorld) -> tuple[str, int]:
    return ("127.0.0.1", world.adapter.port)


def _head(length: str | None, *, extra: str = "") -> bytes:
    lines = ["POST /slack/events HTTP/1.1", "Host: booking.test",
             "Content-Type: application/x-www-form-urlencoded",
             f"X-Slack-Request-Timestamp: {int(time.time())}", "X-Slack-Signature: v0=00"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def _status(sock: socket.socket, timeout: float = 5.0) -> int:
    """The status code of the answer on `sock`, reading at most until the headers end."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


def _ask(address: tuple[str, int], raw: bytes) -> int:
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(raw)
        return _status(sock)


def test_an_oversized_body_is_refused_before_it_is_read_and_memory_stays_small(
    world: SlackWorld,
) -> None:
    before = _rss_bytes()
    with socket.create_connection(_address(world), timeout=5) as sock:
        sock.sendall(_head(str(400 * 1024 * 1024)))
        assert _status(sock) == 413  # answered with no byte of the body sent
        sent = 0
        chunk = b"a" * (1 << 20)
        with pytest.raises(OSError):  # the server stops listening after a little
            while sent < 64 << 20:
                sock.sendall(chunk)
                sent += len(chunk)
    assert sent < 64 << 20
    assert _rss_bytes() - before < 24 << 20
    assert _ask(_address(world), _head(str(MAX_BODY + 1))) == 413


@pytest.mark.parametrize(("length", "status"), [(None, 411), ("12abc", 400), ("-5", 400),
                                                ("1e9", 400), ("²", 400)])
def test_a_body_without_a_usable_length_is_refused(
    world: SlackWorld, length: str | None, status: int,
) -> None:
    raw = _head(length)
    if length == "²":
        raw = raw.replace("²".encode(), "²".encode("latin-1"))
    assert _ask(_address(world), raw) == status


def test_a_body_that_is_not_utf8_is_a_400_not_a_traceback(
    world: SlackWorld, caplog: pytest.LogCaptureFixture,
) -> None:
    body = b"command=%2Fbook&text=\xff\xfe\xfa"
    assert _ask(_address(world), _head(str(len(body))) + body) == 400
    assert not [r for r in caplog.records if r.exc_info]


def _slow_connections(address: tuple[str, int], count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.create_connection(address, timeout=5)
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: booking.test\r\n")  # and no more
        socks.append(sock)
    return socks


def _closed_by_server(sock: socket.socket) -> bool:
    """True when the server closed the connection: an end of stream, or a reset (what
    Linux sends when a socket is closed with the client's bytes still unread)."""
    sock.settimeout(5)
    try:
        return sock.recv(10) == b""
    except ConnectionResetError:
        return True


@contextmanager
def _closing(socks: Iterable[socket.socket]) -> Iterator[None]:
    try:
        yield
    finally:
        for sock in socks:
            sock.close()


def test_300_half_open_connections_take_no_threads_and_slack_is_still_answered(
    world: SlackWorld,
) -> None:
    world.slack.command(CAROL, "/capacity", "help")  # the app's own threads, started once
    world.api.wait_for("response_url")
    threads_before = threading.active_count()
    socks = _slow_connections(_address(world), 300)
    with _closing(socks):
        time.sleep(0.5)
        assert threading.active_count() - threads_before <= 10
        posted = world.slack.command(CAROL, "/capacity", "help")
        assert posted.status == 200
        assert posted.seconds < 2.0
        assert world.api.wait_for("response_url", count=2, timeout=5)
        assert threading.active_count() - threads_before <= 12


def _hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello " + environ["wsgi.input"].read()]


@contextmanager
def _server(**limits: Any) -> Iterator[SlackHttpServer]:
    server = SlackHttpServer(_hello, "127.0.0.1", 0, **limits)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_request_that_does_not_arrive_in_time_gets_408_and_is_closed() -> None:
    with _server(read_timeout=0.5) as server:
        address = ("127.0.0.1", server.server_port)
        [sock] = _slow_connections(address, 1)
        with _closing([sock]):
            began = time.monotonic()
            assert _status(sock) == 408
            assert time.monotonic() - began < 2
            assert sock.recv(4096) == b""  # then closed
        assert _ask(address, _head("2") + b"hi") == 200


def test_too_many_waiting_connections_drop_the_oldest_not_the_new_one() -> None:
    with _server(max_connections=20) as server:
        address = ("127.0.0.1", server.server_port)
        socks = _slow_connections(address, 50)
        with _closing(socks):
            with socket.create_connection(address, timeout=5) as sock:
                sock.sendall(_head("2") + b"hi")
                assert _status(sock) == 200
            assert _closed_by_server(socks[0])  # the oldest was dropped
