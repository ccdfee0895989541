"""`booking ics --user X [--server] [--link]`: a member's bookings (an admin: the
server's) as an iCalendar feed, or the secret URL `booking serve` serves it at."""

from __future__ import annotations

import sys

import click

from bot import bootstrap
from bot.cli.callers import acting_as
from bot.cli.common import load_app, refusals
from bot.http_feeds import base_url, feed_link, http_settings
from core.chat.calendar_feed import calendar, feed_bookings
from core.domain.config import ConfigError
from core.domain.feed_tokens import FeedTokens
from core.runtime.secret_file import load_secret
from core.services.accounts import utcnow


@click.command()
@click.option("--user", "user_name", required=True, help="The member's lab id.")
@click.option("--server", "everyone", is_flag=True,
              help="The server's bookings, everyone's (admins only).")
@click.option("--link", is_flag=True,
              help="Print the secret URL `booking serve` serves it at (BOOKING_HTTP_PORT).")
def ics(user_name: str, everyone: bool, link: bool) -> None:
    """Print bookings as an iCalendar feed (the last 30 days and what is to come)."""
    app = load_app()
    with refusals(False):
        name = acting_as(app, user_name)
        bookings = feed_bookings(app.service, name, everyone=everyone)
        if link:
            url = _link(app, name)
            click.echo(url.removesuffix(".ics") + "/server.ics" if everyone else url)
            return
    sys.stdout.buffer.write(calendar(bookings, app.config.server.name,
                                     owner=None if everyone else name, now=utcnow()))


def _link(app: bootstrap.App, name: str) -> str:
    try:
        settings = http_settings()
        if settings.booking_http_port is None:
            raise ConfigError("no calendar feeds are served: set BOOKING_HTTP_PORT (and "
                              "BOOKING_HTTP_URL, the address members reach) for `booking serve`")
        env = app.environment or bootstrap.Environment()
        tokens = FeedTokens(load_secret(env.booking_secret, env.booking_data_dir))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return feed_link(base_url(settings, settings.booking_http_port), tokens, name)
