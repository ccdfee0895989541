"""The Slack adapter `booking serve` runs: Socket Mode or HTTP mode, in its own thread."""

from __future__ import annotations

import logging
import threading

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot import bootstrap
from bot.slack.app import build_bolt_app, web_client
from bot.slack.context import SlackContext
from bot.slack.notifier import SlackNotifier
from bot.slack.server import SlackHttpServer, http_server
from core.config import ConfigError

log = logging.getLogger(__name__)


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
        self.notifier = SlackNotifier(app.client, slack.members)
        self._app_token = app_token
        self._host = host
        self._port = port
        self._socket_mode: SocketModeHandler | None = None
        self._server: SlackHttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The HTTP port actually bound (useful with port 0)."""
        return self._server.server_port if self._server is not None else self._port

    def start(self) -> None:
        if self._app_token:
            self._socket_mode = SocketModeHandler(self.app, self._app_token)
            self._socket_mode.connect()  # the client's own threads keep it connected
            if self._socket_mode.client.is_connected():
                log.info("Slack adapter connected in Socket Mode")
            else:
                log.warning("Slack Socket Mode is not connected yet; it keeps trying")
            return
        self._server = http_server(self.app, self._host, self._port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name="slack-http", daemon=True,
        )
        self._thread.start()
        log.info("Slack adapter serving HTTP on %s:%d/slack/events", self._host, self.port)

    def stop(self) -> None:
        if self._socket_mode is not None:
            self._socket_mode.close()
            self._socket_mode = None
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
