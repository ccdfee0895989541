"""The HTTP listener of `booking serve` (BOOKING_HTTP_PORT): calendar feeds and metrics.

GET only, on BOOKING_HTTP_HOST (default 127.0.0.1):

- /calendar/<member>/<token>.ics         the member's bookings (iCalendar)
- /calendar/<member>/<token>/server.ics  the server's bookings, for an admin's token
- /metrics                               Prometheus metrics (bot/metrics.py)

The token is derived from the service's secret (core/domain/feed_tokens.py) and checked
in constant time; a wrong or missing token, an unknown member and a member who is no
admin asking for the server's feed all get the same 404. Requests are bounded (path
length, no bodies, a read timeout); an error is logged here and answered with a short
plain-text status, never a traceback.
"""

from __future__ import annotations

import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any
from urllib.parse import quote, unquote

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.bootstrap import App
from bot.metrics import Metrics, StateCollector
from core.chat.calendar_feed import calendar, feed_bookings
from core.domain.config import ConfigError
from core.domain.feed_tokens import FeedTokens
from core.domain.model import Refusal
from core.runtime.secret_file import load_secret
from core.services.accounts import utcnow

log = logging.getLogger(__name__)

MAX_PATH = 512
_FEED = re.compile(r"/calendar/([^/]{1,96})/([^/]{1,96})(\.ics|/server\.ics)")
_NOT_FOUND = b"not found\n"


class HttpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    booking_http_port: Annotated[int, Field(ge=0, le=65535)] | None = None  # 0: any free port
    booking_http_host: str = "127.0.0.1"
    # The address members reach the listener at (a reverse proxy, a host name), for links.
    booking_http_url: str | None = None


class FeedServer:
    def __init__(self, app: App, settings: HttpSettings, tokens: FeedTokens, metrics: Metrics) -> None:
        assert settings.booking_http_port is not None and app.engine is not None
        self.app, self.tokens, self.metrics = app, tokens, metrics
        metrics.registry.register(StateCollector(app.engine, app.server_id, app.config.server.name,
                                                 app.service.host.gpus))
        try:
            self.httpd = _Server((settings.booking_http_host, settings.booking_http_port),
                                             _handler(self))
        except OSError as exc:
            raise ConfigError(
                f"BOOKING_HTTP_HOST/BOOKING_HTTP_PORT: cannot listen on {settings.booking_http_host}:"
                f"{settings.booking_http_port} ({exc.strerror}); choose a free port, or unset "
                "BOOKING_HTTP_PORT to serve no calendar feeds or metrics") from None
        self.base_url = base_url(settings, int(self.httpd.server_address[1]))
        self._thread: threading.Thread | None = None

    def link_for(self, name: str) -> str:
        return feed_link(self.base_url, self.tokens, name)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="http-feeds", daemon=True)
        self._thread.start()
        log.info("calendar feeds and metrics at %s (/metrics)", self.base_url)

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()

    def answer(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a GET of `path`."""
        path = path.split("?", 1)[0]
        if path == "/metrics":
            return 200, CONTENT_TYPE_LATEST, generate_latest(self.metrics.registry)
        found = _FEED.fullmatch(path)
        if found is None:
            return 404, "text/plain; charset=utf-8", _NOT_FOUND
        name, token, which = unquote(found[1]), unquote(found[2]), found[3]
        if not self.tokens.matches(name, token):
            return 404, "text/plain; charset=utf-8", _NOT_FOUND
        everyone = which != ".ics"
        try:
            bookings = feed_bookings(self.app.service, name, everyone=everyone)
        except Refusal:  # no such member any more, or no admin for the server's feed
            return 404, "text/plain; charset=utf-8", _NOT_FOUND
        body = calendar(bookings, self.app.config.server.name, owner=None if everyone else name,
                        now=utcnow())
        return 200, "text/calendar; charset=utf-8", body


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver's default prints a traceback to stderr; a dropped client is no error.
        log.debug("HTTP connection from %s ended badly", client_address, exc_info=True)


def base_url(settings: HttpSettings, port: int) -> str:
    return (settings.booking_http_url or f"http://{settings.booking_http_host}:{port}").rstrip("/")


def feed_link(base: str, tokens: FeedTokens, name: str) -> str:
    """`name`'s feed URL; the server's feed is the same with `/server.ics` for `.ics`."""
    return f"{base}/calendar/{quote(name, safe='')}/{tokens.token_for(name)}.ics"


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # seconds a client may take to send its request
        server_version = "booking"
        sys_version = ""
        error_message_format = "%(code)d %(message)s\n"  # malformed requests: plain text
        error_content_type = "text/plain; charset=utf-8"

        def do_GET(self) -> None:
            self._respond(with_body=True)

        def do_HEAD(self) -> None:
            self._respond(with_body=False)

        def _respond(self, *, with_body: bool) -> None:
            if len(self.path) > MAX_PATH:
                return self._plain(414, b"request path too long\n", with_body)
            if self.headers.get("Content-Length", "0").strip() != "0" or "Transfer-Encoding" in self.headers:
                return self._plain(413, b"GET requests carry no body\n", with_body)
            try:
                status, content_type, body = server.answer(self.path)
            except Exception:
                log.exception("HTTP %s failed", _redacted(self.path))
                return self._plain(500, b"internal error; see the service's log\n", with_body)
            self._send(status, content_type, body, with_body)

        def _plain(self, status: int, body: bytes, with_body: bool) -> None:
            self.close_connection = True
            self._send(status, "text/plain; charset=utf-8", body, with_body)

        def _send(self, status: int, content_type: str, body: bytes, with_body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def _not_allowed(self) -> None:
            self.close_connection = True
            self.send_response(405)
            self.send_header("Allow", "GET, HEAD")
            body = b"only GET is served here\n"
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

        def log_message(self, format: str, *args: Any) -> None:  # never the token
            log.debug("HTTP %s: %s", self.address_string(), format % args)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # A malformed request line is answered before `command` and `path` are known.
            log.debug("HTTP %s %s %s", getattr(self, "command", None),
                      _redacted(getattr(self, "path", "")), code)

    return Handler


def _redacted(path: str) -> str:
    return re.sub(r"^(/calendar/[^/]*/)[^/]*", r"\1…", path[:MAX_PATH])


def http_settings() -> HttpSettings:
    try:
        return HttpSettings()
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise ConfigError(f"{str(problem['loc'][0]).upper()}: {problem['msg']}; "
                          "BOOKING_HTTP_PORT is a port number (0-65535)") from None


def http_feeds_from_env(app: App) -> FeedServer | None:
    """The listener, bound, when BOOKING_HTTP_PORT is set (None otherwise); the service's
    `book` and `extend` are counted from then on."""
    settings = http_settings()
    if settings.booking_http_port is None:
        return None
    env = app.environment
    assert env is not None  # built by bootstrap.build, as serve needs
    secret = load_secret(env.booking_secret, env.booking_data_dir)
    metrics = Metrics(app.config.server.name)
    app.service.observe_decisions(metrics)
    return FeedServer(app, settings, FeedTokens(secret), metrics)
