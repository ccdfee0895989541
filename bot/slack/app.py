"""The Bolt app: a Web API client, the listeners, and nothing built at import time."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.http_retry import RateLimitErrorRetryHandler

from bot import bootstrap
from bot.slack.context import CONTEXT_KEY, SlackContext
from bot.slack.listeners import register
from bot.slack.members import Members
from core.domain.model import Account, Refusal

log = logging.getLogger(__name__)

SLACK_API_URL = "https://slack.com/api/"


def web_client(token: str, api_url: str = SLACK_API_URL) -> WebClient:
    """A Web API client that waits out rate limits (HTTP 429, honouring Retry-After) and
    retries a dropped connection, as slack_sdk's retry handlers do."""
    client = WebClient(token=token, base_url=api_url if api_url.endswith("/") else api_url + "/")
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return client


def build_bolt_app(
    booking: bootstrap.App, client: WebClient, *, signing_secret: str | None
) -> tuple[App, SlackContext]:
    """Bolt with our listeners. Without a signing secret (Socket Mode) nothing is verified
    over HTTP, so HTTP mode always passes one."""
    app = App(
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=bool(signing_secret),
        # No auth.test at construction: Slack being unreachable at start must not stop
        # the service (Bolt asks on the first request instead).
        token_verification_enabled=False,
        logger=logging.getLogger("slack_bolt"),
    )
    slack = SlackContext(booking, Members(booking.service, client))

    @app.middleware
    def with_slack_context(context: BoltContext, next: Callable[[], None]) -> None:
        context[CONTEXT_KEY] = slack  # every listener finds it as `slack_of(context)`
        next()

    register(app)
    # dateparser loads its language data on first use (about a second for words
    # it cannot read); pay that now, not inside a modal submission's three seconds.
    for words in ("tomorrow 9am", "not a time at all"):
        with contextlib.suppress(Refusal):
            booking.service.parse_start(Account(name="startup-probe"), words)
    return app, slack
