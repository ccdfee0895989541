"""The Slack adapter `booking serve` runs: Socket Mode or HTTP mode, in its own thread."""

from __future__ import annotations

import contextlib
import logging
import threading

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot import bootstrap
from bot.slack.app import build_bolt_app, web_client
from bot.slack.context import SlackContext
from bot.slack.home import HomeRefresher
from bot.slack.notifier import SlackNotifier
from bot.slack.server import SlackHttpServer, http_server
from core.domain.config import ConfigError

log = logging.getLogger(__name__)


FIRST_PAUSE_S = 1.0  # between tries to reach Slack at start, doubling up to the longest
LONGEST_PAUSE_S = 300.0


class SlackConfigError(ConfigError):
    pass


class SlackAdapter:
    """Socket Mode when an app token is given (no public URL needed), else HTTP mode."""

    def __init__(
        self, app: App, slack: SlackContext, *, app_token: str | None = None,
        host: str = "0.0.0.0", port: int = 3000,
    ) -> None:
        self.app = app
        self.slack = slack
        self.notifier = SlackNotifier(app.client, slack.members, slack.service)
        self._home = HomeRefresher(slack, app.client)
        self._app_token = app_token
        self._host = host
        self._port = port
        self._socket_mode: SocketModeHandler | None = None
        self._server: SlackHttpServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        """The HTTP port actually bound (useful with port 0)."""
        return self._server.server_port if self._server is not None else self._port

    def start(self) -> None:
        self.slack.booking.change_listeners.append(self._home.changed)
        if self._app_token:
            # Slack may be unreachable now: connect in the background, so the scheduler
            # and the other adapters run meanwhile (messages wait in the outbox).
            self._thread = threading.Thread(target=self._connect_socket_mode,
                                            name="slack-socket-mode", daemon=True)
            self._thread.start()
            return
        self._server = http_server(self.app, self._host, self._port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name="slack-http", daemon=True,
        )
        self._thread.start()
        log.info("Slack adapter serving HTTP on %s:%d/slack/events", self._host, self.port)

    def _connect_socket_mode(self) -> None:
        assert self._app_token is not None
        pause = FIRST_PAUSE_S
        while not self._stopping.is_set():
            handler = SocketModeHandler(self.app, self._app_token)
            try:
                handler.connect()  # the client's own threads keep it connected after this
            except Exception as exc:  # unreachable, a 5xx, a refused token: try again later
                log.warning("Slack is not reachable (%s); trying again in %.0fs", exc, pause)
                with contextlib.suppress(Exception):
                    handler.close()
                self._stopping.wait(pause)
                pause = min(pause * 2, LONGEST_PAUSE_S)
                continue
            with self._lock:
                if self._stopping.is_set():
                    handler.close()
                    return
                self._socket_mode = handler
            log.info("Slack adapter connected in Socket Mode")
            return

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(ValueError):
            self.slack.booking.change_listeners.remove(self._home.changed)
        self._home.close()
        with self._lock:
            handler, self._socket_mode = self._socket_mode, None
        if handler is not None:
            handler.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def slack_adapter_from_env(
    app: bootstrap.App, environment: bootstrap.Environment | None = None, *,
    host: str = "0.0.0.0",
) -> SlackAdapter | None:
    """The adapter the environment asks for; None when SLACK_BOT_TOKEN is unset."""
    env = environment or app.environment or bootstrap.Environment()
    if not env.slack_bot_token:
        return None
    if not env.slack_app_token and not env.slack_signing_secret:
        raise SlackConfigError(
            "HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)."
        )
    client = web_client(env.slack_bot_token, env.slack_api_url)
    secret = None if env.slack_app_token else env.slack_signing_secret
    bolt, slack = build_bolt_app(app, client, signing_secret=secret)
    return SlackAdapter(
        bolt, slack, app_token=env.slack_app_token, host=host, port=env.booking_slack_port
    )
