"""`booking waitlist`: wait for a request refused for lack of room, as `notify me` does in
chat (README, "Waitlist"): add, ls, clear."""

from __future__ import annotations

import click

from bot.cli.callers import acting_as
from bot.cli.common import FiniteFloat, load_app, member_zone, refusals
from core.chat import waitlist_words as words
from core.domain.model import Resources


@click.group()
def waitlist() -> None:
    """Wait for a request that did not fit: told (or booked) when it does."""


@waitlist.command("add")
@click.option("--user", "user_name", required=True, help="The member's lab id.")
@click.option("--cpus", type=FiniteFloat(min=0), required=True)
@click.option("--memory", type=click.IntRange(min=0), required=True, help="GB (RAM + swap).")
@click.option("--gpus", type=click.IntRange(min=0), required=True)
@click.option("--start", required=True, help="The earliest start: now, 'YYYY MM DD hh mm'...")
@click.option("--end", required=True, help="3-day, 'YYYY MM DD hh mm'... (the length is kept)")
@click.option("--image", help="One of the allowed images (default: the configured one).")
@click.option("--command", "extra_command", help="Extra command run in the container.")
@click.option("--auto", is_flag=True, help="Book it for the member as soon as it fits.")
@click.option("--server", metavar="NAME", help="In a pool: the server to wait on (default: "
              "this host's, BOOKING_SERVER, or the first).")
def add(user_name: str, cpus: float, memory: int, gpus: int, start: str, end: str,
        image: str | None, extra_command: str | None, auto: bool, server: str | None) -> None:
    """Wait for this request; the member is told in chat (or it is booked, with --auto)."""
    app = load_app()
    zone = member_zone(app.service, user_name)
    with refusals(False, zone):
        acting_as(app, user_name)
        entry, fits = app.service.on(server).join_waitlist(
            user_name, Resources(cpus, memory, gpus), start, end, auto=auto, image=image,
            command=extra_command)
    if fits is not None:
        click.echo(f"It fits now, from {fits.astimezone(zone):%Y %m %d %H %M}: "
                   "book it with `booking book`; nothing was added to the waitlist.")
        return
    pooled = app.service.config.is_pool
    where = app.service.on(server).config.server.name if pooled else None
    click.echo(f"Waiting: {words.entry_line(entry, zone, where)}")


@waitlist.command("ls")
@click.option("--user", "user_name", required=True, help="The member's lab id.")
def list_entries(user_name: str) -> None:
    """The member's waiting requests (those done or over are dropped first)."""
    app = load_app()
    zone = member_zone(app.service, user_name)
    with refusals(False, zone):
        acting_as(app, user_name)
        servers = app.service.servers()
        entries = [(entry, name if len(servers) > 1 else None)
                   for name, service in servers.items() for entry in service.waitlist(user_name)]
    for entry, where in entries:
        click.echo(words.entry_line(entry, zone, where))
    if not entries:
        click.echo(f"{user_name} waits for nothing.")


@waitlist.command("clear")
@click.option("--user", "user_name", required=True, help="The member's lab id.")
def clear(user_name: str) -> None:
    """Drop all of the member's waiting requests."""
    app = load_app()
    with refusals(False):
        acting_as(app, user_name)
        click.echo(words.cleared(app.service.clear_waitlist(user_name)))
