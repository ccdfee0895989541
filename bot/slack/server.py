"""HTTP mode: a small WSGI server (standard library) for Bolt's `/slack/events`.

Anyone on the network can reach it before a signature is checked, so what an
unauthenticated client can make it spend is bounded:

- one thread reads every connection without blocking (a selector); a request
  goes to a fixed pool of worker threads only once it has fully arrived, so
  slow or half-open connections cost a socket and a small buffer, never a
  thread, and a signed request from Slack is answered as soon as it is in;
- a request must arrive whole within `read_timeout` seconds (408 otherwise);
- headers are at most 16 KiB (431); a body needs a Content-Length (411; 400
  when it is not a number) of at most `max_body` bytes (413, answered before
  any of the body is read);
- at most `max_connections` connections and `max_buffered` bytes wait at
  once; beyond that the oldest waiting connection is dropped;
- a body that is not UTF-8 is a 400 (Slack sends UTF-8; Bolt would raise).

The worker pool calls the WSGI application (Bolt's SlackRequestHandler), which
checks every request's signature. Each response closes its connection.
"""

from __future__ import annotations

import contextlib
import io
import logging
import selectors
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"

MAX_BODY = 1 << 20  # Slack's payloads are a few KB; a modal's state stays far below this
MAX_HEADER = 16 * 1024
READ_TIMEOUT = 10.0  # seconds for a whole request to arrive
WRITE_TIMEOUT = 10.0
WORKERS = 8
MAX_CONNECTIONS = 256
MAX_BUFFERED = 32 << 20  # bytes held for requests still arriving, all together
_DRAIN_SECONDS = 1.0  # after an early error answer, what the client still sends is discarded
_DRAIN_BYTES = 4 << 20

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(eq=False)
class _Connection:
    sock: socket.socket
    address: tuple[Any, ...]
    deadline: float
    buffer: bytearray = field(default_factory=bytearray)
    # Once the headers are in:
    head: tuple[str, str, str, list[tuple[str, str]]] | None = None  # method, target, version, headers
    body_start: int = 0
    length: int = 0
    draining: int = -1  # bytes still to discard after an early answer; -1: not draining


class _Refused(Exception):
    def __init__(self, status: HTTPStatus, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.why = why


def _response(status: HTTPStatus | str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    line = f"{status.value} {status.phrase}" if isinstance(status, HTTPStatus) else status
    kept = [(k, v) for k, v in headers if k.lower() not in ("content-length", "connection")]
    kept += [("Content-Length", str(len(body))), ("Connection", "close")]
    head = f"HTTP/1.1 {line}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept) + "\r\n"
    return head.encode("latin-1") + body


def _plain(status: HTTPStatus, why: str) -> bytes:
    return _response(status, [("Content-Type", "text/plain; charset=utf-8")],
                     f"{status.value} {status.phrase}: {why}\n".encode())


def _parse_head(raw: bytes, max_body: int) -> tuple[str, str, str, list[tuple[str, str]], int, bool]:
    """Method, target, version, headers, body length and whether 100-continue was asked."""
    try:
        text = raw.decode("latin-1")
        request_line, *lines = text.split("\r\n")
        method, target, version = request_line.split(" ")
    except ValueError:
        raise _Refused(HTTPStatus.BAD_REQUEST, "not an HTTP request") from None
    if not version.startswith("HTTP/1.") or not method.isalpha():
        raise _Refused(HTTPStatus.BAD_REQUEST, "not an HTTP/1.x request")
    headers = []
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise _Refused(HTTPStatus.BAD_REQUEST, "a malformed header line")
        headers.append((name, value.strip()))
    names = {name.lower() for name, _ in headers}
    if "transfer-encoding" in names:
        raise _Refused(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
    lengths = {value for name, value in headers if name.lower() == "content-length"}
    if not lengths:
        if method in ("POST", "PUT", "PATCH"):
            raise _Refused(HTTPStatus.LENGTH_REQUIRED, "a body needs a Content-Length")
        length = 0
    else:
        value = lengths.pop()
        if lengths or not value.isdigit() or not value.isascii():
            raise _Refused(HTTPStatus.BAD_REQUEST, "Content-Length is not a number")
        if len(value) > 12 or int(value) > max_body:
            raise _Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           f"the body may be at most {max_body} bytes")
        length = int(value)
    expect = any(n.lower() == "expect" and v.lower() == "100-continue" for n, v in headers)
    return method, target, version, headers, length, expect


class SlackHttpServer:
    """Serves a WSGI application; the same start/stop calls as socketserver's servers."""

    def __init__(
        self, app: WsgiApp, host: str, port: int, *, workers: int = WORKERS,
        read_timeout: float = READ_TIMEOUT, max_body: int = MAX_BODY,
        max_connections: int = MAX_CONNECTIONS, max_buffered: int = MAX_BUFFERED,
    ) -> None:
        self.app = app
        self.read_timeout = read_timeout
        self.max_body = max_body
        self.max_connections = max_connections
        self.max_buffered = max_buffered
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server((host, port), family=family, backlog=128)
        self.socket.setblocking(False)
        self.server_address = self.socket.getsockname()
        self.server_port: int = self.server_address[1]
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-http")
        self._selector = selectors.DefaultSelector()
        self._waiting: dict[socket.socket, _Connection] = {}  # insertion order: oldest first
        self._buffered = 0
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()

    # ----- the socketserver-like surface ---------------------------------

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._stopped.clear()
        self._selector.register(self.socket, selectors.EVENT_READ)
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                for key, _ in self._selector.select(timeout=poll_interval):
                    if key.fileobj is self.socket:
                        self._accept()
                    elif key.fileobj is self._wake_read:
                        self._wake_read.recv(64)
                    else:
                        self._readable(self._waiting[key.fileobj])  # type: ignore[index]
                self._expire(time.monotonic())
        finally:
            for conn in list(self._waiting.values()):
                self._close(conn)
            self._selector.unregister(self.socket)
            self._selector.unregister(self._wake_read)
            self._stop.clear()
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serve_forever (from another thread) and wait until it has returned."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_write.send(b"x")
        self._stopped.wait()

    def server_close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.socket.close()
        self._wake_read.close()
        self._wake_write.close()
        self._selector.close()

    # ----- reading, one thread for every connection ----------------------

    def _accept(self) -> None:
        for _ in range(64):  # whatever is queued, without starving the others
            try:
                sock, address = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. out of file descriptors: keep serving the rest
                log.warning("Slack HTTP: accept failed: %s", exc)
                return
            sock.setblocking(False)
            while len(self._waiting) >= self.max_connections:
                self._drop_oldest("too many connections waiting")
            conn = _Connection(sock, address, time.monotonic() + self.read_timeout)
            self._waiting[sock] = conn
            self._selector.register(sock, selectors.EVENT_READ)

    def _readable(self, conn: _Connection) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn)
            return
        if conn.draining >= 0:
            conn.draining -= len(data)
            if conn.draining < 0:
                self._close(conn)
            return
        conn.buffer += data
        self._buffered += len(data)
        try:
            self._progress(conn)
        except _Refused as refused:
            log.info("Slack HTTP: %s from %s: %s", refused.status.value, conn.address[0],
                     refused.why)
            self._answer_early(conn, _plain(refused.status, refused.why))
            return
        while self._buffered > self.max_buffered and self._waiting:
            self._drop_oldest("too many bytes waiting")

    def _progress(self, conn: _Connection) -> None:
        if conn.head is None:
            end = conn.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(conn.buffer) > MAX_HEADER:
                    raise _Refused(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                                   f"headers may be at most {MAX_HEADER} bytes")
                return
            if end > MAX_HEADER:
                raise _Refused(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                               f"headers may be at most {MAX_HEADER} bytes")
            method, target, version, headers, length, expect = _parse_head(
                bytes(conn.buffer[:end]), self.max_body)
            conn.head = (method, target, version, headers)
            conn.body_start, conn.length = end + 4, length
            if expect and len(conn.buffer) < conn.body_start + length:
                self._send_small(conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
        if len(conn.buffer) < conn.body_start + conn.length:
            return
        body = bytes(conn.buffer[conn.body_start:conn.body_start + conn.length])
        self._forget(conn)
        conn.sock.setblocking(True)
        conn.sock.settimeout(WRITE_TIMEOUT)
        try:
            self._pool.submit(self._respond, conn, body)
        except RuntimeError:  # shutting down
            conn.sock.close()

    def _answer_early(self, conn: _Connection, response: bytes) -> None:
        """Answer before the request is in (an error), then discard what still comes a while."""
        self._send_small(conn.sock, response)
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_WR)
        self._buffered -= len(conn.buffer)
        conn.buffer = bytearray()
        conn.draining = _DRAIN_BYTES
        conn.deadline = time.monotonic() + _DRAIN_SECONDS

    @staticmethod
    def _send_small(sock: socket.socket, data: bytes) -> None:
        with contextlib.suppress(OSError):
            sock.send(data)  # a few hundred bytes: the socket's buffer takes them at once

    def _expire(self, now: float) -> None:
        for conn in [c for c in self._waiting.values() if c.deadline <= now]:
            if conn.draining >= 0:
                self._close(conn)
            else:
                log.info("Slack HTTP: 408 for %s: the request did not arrive in %gs",
                         conn.address[0], self.read_timeout)
                self._send_small(conn.sock, _plain(HTTPStatus.REQUEST_TIMEOUT,
                                                   "the request took too long to arrive"))
                self._close(conn)

    def _drop_oldest(self, why: str) -> None:
        oldest = next(iter(self._waiting.values()))
        log.warning("Slack HTTP: dropped a connection from %s: %s", oldest.address[0], why)
        self._close(oldest)

    def _forget(self, conn: _Connection) -> None:
        if self._waiting.pop(conn.sock, None) is not None:
            self._selector.unregister(conn.sock)
            self._buffered -= len(conn.buffer)
        conn.buffer = bytearray()

    def _close(self, conn: _Connection) -> None:
        self._forget(conn)
        conn.sock.close()

    # ----- answering, in the worker pool -----------------------------------

    def _respond(self, conn: _Connection, body: bytes) -> None:
        try:
            conn.sock.sendall(self._answer(conn, body))
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            log.info("Slack HTTP: could not answer %s: %s", conn.address[0], exc)
        finally:
            conn.sock.close()

    def _answer(self, conn: _Connection, body: bytes) -> bytes:
        assert conn.head is not None
        method, target, version, headers = conn.head
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            log.info("Slack HTTP: 400 for %s: the body is not UTF-8", conn.address[0])
            return _plain(HTTPStatus.BAD_REQUEST, "the body is not UTF-8")
        path, _, query = target.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query, "SERVER_PROTOCOL": version,
            "SERVER_NAME": str(self.server_address[0]), "SERVER_PORT": str(self.server_port),
            "REMOTE_ADDR": str(conn.address[0]), "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in headers:
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ["HTTP_" + key] = value
        started: list[Any] = []

        def start_response(status: str, response_headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [status, response_headers]
            return lambda data: None

        try:
            result = self.app(environ, start_response)
            try:
                content = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            log.exception("Slack HTTP: the application failed on %s %s", method, path)
            return _plain(HTTPStatus.INTERNAL_SERVER_ERROR, "the request could not be handled")
        log.debug("%s %s %s -> %s", conn.address[0], method, path, started[0])
        return _response(started[0], started[1], content)


def http_server(app: App, host: str, port: int, **limits: Any) -> SlackHttpServer:
    """A server bound to (host, port), not yet serving; port 0 picks a free one."""
    return SlackHttpServer(SlackRequestHandler(app, path=EVENTS_PATH), host, port, **limits)
