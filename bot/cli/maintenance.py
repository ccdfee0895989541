"""`booking maintenance add|ls|rm`: an admin's maintenance windows (README, "Maintenance
windows"). The use cases are core/services/maintenance.py, the words
core/chat/maintenance_words.py."""

from __future__ import annotations

import sys

import click

from bot import bootstrap
from bot.cli.callers import caller_login, trusted_caller
from bot.cli.common import load_app, refusals
from core.chat.maintenance_words import added_text, plan_text, removed_text, windows_listing

WINDOW_ID = click.IntRange(1, 2**63 - 1)


def _actor(app: bootstrap.App) -> str | None:
    """None for root or the service's user (they may do anything); else the caller's login,
    which the service checks is an admin account."""
    return None if trusted_caller(app) else caller_login()


@click.group()
def maintenance() -> None:
    """Maintenance windows: the whole server, or some GPUs, out of booking for a while."""


@maintenance.command()
@click.option("--start", required=True, help="As for `book`: `now`, `2026 12 01 09 00`, "
              "`tomorrow 9am` (the server's zone).")
@click.option("--end", required=True, help="An end (`2026 12 01 17 00`), or a length from "
              "the start (`1-day`).")
@click.option("--gpus", help="GPU ids such as 0,1 (default: the whole server).")
@click.option("--reason", required=True, help="Why; the members whose bookings it meets read it.")
@click.option("--yes", is_flag=True, help="Add it without asking, telling the members affected.")
@click.option("--server", help="A pool's server (default: the first one, or BOOKING_SERVER's).")
def add(start: str, end: str, gpus: str | None, reason: str, yes: bool,
        server: str | None) -> None:
    """Add a window: new requests that overlap it are refused (with the earliest start after
    it), and members whose bookings it meets are told at once, with an offer.

    Without --yes it first prints the bookings it meets and asks (at a terminal) or adds
    nothing (otherwise)."""
    if gpus is not None and not gpus.strip():  # an empty variable, say: not the whole server
        raise click.UsageError("--gpus is empty: give GPU ids such as 0,1, or leave --gpus "
                               "out to take the whole server.")
    app = load_app()
    actor = _actor(app)
    zone = app.service.zone_of(None)
    with refusals(False):
        service = app.service.on(server)
        if not yes:
            plan = service.plan_maintenance(start, end, gpus, reason, actor=actor,
                                            by=caller_login())
            if plan.affected:
                asking = sys.stdin.isatty()
                click.echo(plan_text(plan, zone, "" if asking else
                                     "Nothing added: run again with --yes to add it."))
                if not asking:
                    sys.exit(1)
                if not click.confirm("Add it and tell them?", default=False):
                    click.echo("Nothing added.")
                    sys.exit(1)
        added = service.add_maintenance(start, end, gpus, reason, actor=actor, by=caller_login())
    click.echo(added_text(added, zone))


@maintenance.command(name="ls")
@click.option("--all", "show_all", is_flag=True, help="Past windows too.")
def list_windows(show_all: bool) -> None:
    """Windows not yet over, earliest first."""
    app = load_app()
    with refusals(False):
        listed = windows_listing(app.service, actor=_actor(app), zone=app.service.zone_of(None),
                                 history=show_all)
    click.echo(listed)


@maintenance.command()
@click.argument("window_id", type=WINDOW_ID)
def rm(window_id: int) -> None:
    """Remove window WINDOW_ID: its time is bookable again."""
    app = load_app()
    with refusals(False):
        removed = app.service.remove_maintenance(window_id, actor=_actor(app))
    click.echo(removed_text(removed, app.service.zone_of(None)))
