"""`booking serve` (the service) and `booking chat` (the conversation in a terminal)."""

from __future__ import annotations

import logging
import sys

import click

from bot import bootstrap
from bot.cli.callers import acting_as
from bot.cli.common import load_app, refusals
from bot.terminal import run_chat
from core.domain.config import ConfigError


@click.command()
@click.option("--server", "server", metavar="NAME",
              help="In a pool (`servers:` in the config): the server this host runs; its "
                   "bookings are started here (default: BOOKING_SERVER).")
def serve(server: str | None) -> None:
    """Run the service: the scheduler, the chat adapters, and the terminal chat on a TTY."""
    from bot.serve import serve as run_service  # keeps the other commands' start-up light

    if not sys.stdin.isatty():  # under systemd or nohup: the journal shows what it does
        for package in ("bot", "core", "storage"):  # not the libraries' chatter
            logging.getLogger(package).setLevel(logging.INFO)
    app = load_app(server=server)
    assert app.environment is not None
    if app.config.is_pool and app.environment.booking_server is None:
        raise click.ClickException(
            f"the config lists a pool of servers ({', '.join(app.config.server_names)}); "
            "name the one this host runs: booking serve --server NAME (or BOOKING_SERVER)")
    with refusals(False):
        try:
            status = run_service(app)
        except ConfigError as exc:  # an adapter's settings are incomplete
            raise click.ClickException(str(exc)) from None
    sys.exit(status)


@click.command()
@click.option("--user", "user_name", help="Talk as this member (default: your login name).")
def chat(user_name: str | None) -> None:
    """Talk to the bot in the terminal; reads lines from stdin, prints replies."""
    app = load_app()
    with refusals(False):
        if user_name is None:
            user = app.service.ensure_local_admin(acting_as(app, bootstrap.local_user()))
        else:
            user = app.service.account(acting_as(app, user_name))
    run_chat(app.conversation, user)
