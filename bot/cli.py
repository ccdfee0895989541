"""The `booking` command line: the terminal adapter and the admin's tools.

It is the admin's tool on the server: run as root or as the service's user
(the owner of the data folder) it may act for any member. Anyone else may act
only as their own login (`--user` is checked against it) unless that login is
an admin account.

Exit status: 0 success; 1 the service refused (stderr says why and what would
work); 2 usage error.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pwd
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from typing import Any, TextIO, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from bot import bootstrap
from bot.terminal import run_chat
from core.chat import admin_views
from core.chat.messages import booking_dict, booking_line
from core.domain.config import ConfigError
from core.domain.model import Booking, ErrorCode, LinkConflict, Refusal, Resources, Status
from core.domain.passwords import PasswordDeriver
from core.domain.zones import local_time
from core.runtime.secret_file import load_secret
from core.services.booking import BookingService
from core.services.capacity import BookingRequest

F = TypeVar("F", bound=Callable[..., Any])


# Booking ids as the database stores them (a signed 64-bit integer).
BOOKING_ID = click.IntRange(1, 2**63 - 1)

# What works, for the environment variables whose values are checked.
_VARIABLE_HINTS = {
    "BOOKING_SLACK_PORT": "a port number such as 3000",
    "DISCORD_GUILD_ID": "the Discord server's numeric id (Copy Server ID), or leave it unset",
}


def _app() -> bootstrap.App:
    try:
        return bootstrap.build()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except ValidationError as exc:  # a setting from the environment or .env
        raise click.ClickException(_environment_problem(exc)) from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise click.ClickException(
            f"cannot open the database (BOOKING_DATABASE_URL): {reason}"
        ) from None


def _environment_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    variable = str(error["loc"][0]).upper() if error["loc"] else "the environment"
    message = str(error["msg"]).removeprefix("Value error, ")
    hint = _VARIABLE_HINTS.get(variable)
    return f"{variable} (environment or .env): {message}" + (f"; use {hint}" if hint else "")


class _FiniteFloat(click.FloatRange):
    """A number of at least `min`; nan and inf are not numbers here."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number; use a number such as 4.", param, ctx)
        return number


@contextmanager
def _refusals(as_json: bool, zone: tzinfo | None = None) -> Iterator[None]:
    """A refusal becomes exit status 1 with the service's own words."""
    try:
        yield
    except Refusal as refusal:
        if as_json:
            start = refusal.earliest_start
            if start is not None and zone is not None:
                start = start.astimezone(zone)  # as the member's bookings show times
            earliest = start.isoformat() if start else None
            error = {"code": refusal.code.value, "message": refusal.message,
                     "earliest_start": earliest}
            click.echo(json.dumps({"error": error}))
        click.echo(f"Refused: {refusal.message}", err=True)
        sys.exit(1)


def _caller_login() -> str:
    """The login of the user running this process, from the password database
    (not from $USER or $LOGNAME, which the caller sets)."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _trusted_caller(app: bootstrap.App) -> bool:
    """Root, or the service's user: the owner of the data folder (which holds the secret)."""
    uid = os.getuid()
    if uid == 0:
        return True
    environment = app.environment or bootstrap.Environment()
    try:
        return environment.booking_data_dir.stat().st_uid == uid
    except OSError:
        return False


def _caller_is_admin(app: bootstrap.App, login: str) -> bool:
    try:
        return app.service.is_admin(app.service.account(login))
    except Refusal:
        return False


def _acting_as(app: bootstrap.App, user_name: str) -> str:
    """`user_name`, when the caller may act as that member: root and the service's
    user may act as anyone, others as their own login unless that login is an admin."""
    if _trusted_caller(app):
        return user_name
    login = _caller_login()
    if user_name == login or _caller_is_admin(app, login):
        return user_name
    raise Refusal(
        ErrorCode.NOT_OWNER,
        f"You are logged in as `{login}`, so `--user` must be `{login}`; only root, the "
        "service's user or an admin account may act for another member.",
    )


def _require_admin_caller(app: bootstrap.App) -> None:
    """Account administration: root, the service's user, or a login with an admin account."""
    if _trusted_caller(app):
        return
    login = _caller_login()
    if not _caller_is_admin(app, login):
        raise Refusal(
            ErrorCode.NOT_OWNER,
            f"Managing accounts needs root, the service's user or an admin account; "
            f"`{login}` is none of them.",
        )


def _member_zone(service: BookingService, name: str) -> tzinfo:
    try:
        return service.zone_of(service.account(name))
    except Refusal:
        return service.zone_of(None)


class _Terminal:
    """How the admin views look in a terminal: plain text, ASCII arrows."""

    bullet = ""

    def text(self, text: str) -> str:
        return text

    strong = name = text

    def code(self, text: str) -> str:
        return f"`{text}`"

    def time(self, at: datetime, zone: tzinfo) -> str:
        return local_time(at, zone)

    def user(self, platform: str, user_id: str) -> str:
        return f"{platform} {user_id}"

    def arrow(self) -> str:
        return " -> "


def _print_view(view: admin_views.AdminView, as_json: bool = False) -> None:
    if as_json:
        click.echo(json.dumps(list(view.records), indent=2))
    else:
        click.echo(admin_views.render(view, _Terminal()))


def _json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def _show(service: BookingService, bookings: list[Booking], as_json: bool) -> None:
    zones: dict[str, tzinfo] = {}

    def zone(booking: Booking) -> tzinfo:
        if booking.account not in zones:
            zones[booking.account] = service.zone_of(service.account(booking.account))
        return zones[booking.account]

    if as_json:
        click.echo(json.dumps([booking_dict(b, zone(b)) for b in bookings], indent=2))
    elif not bookings:
        click.echo("No bookings.")
    else:
        for booking in bookings:
            click.echo(booking_line(booking, zone(booking)))


def _show_one(service: BookingService, booking: Booking, as_json: bool, verb: str) -> None:
    zone = service.zone_of(service.account(booking.account))
    if as_json:
        click.echo(json.dumps(booking_dict(booking, zone), indent=2))
    else:
        click.echo(f"{verb}: {booking_line(booking, zone)}")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-v", "--verbose", is_flag=True, help="Log what the service does.")
def main(verbose: bool) -> None:
    """Book CPUs, memory and GPUs on a shared GPU server."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.command()
def serve() -> None:
    """Run the service: the scheduler, the chat adapters, and the terminal chat on a TTY."""
    from bot.serve import serve as run_service  # keeps the other commands' start-up light

    if not sys.stdin.isatty():  # under systemd or nohup: the journal shows what it does
        for package in ("bot", "core", "storage"):  # not the libraries' chatter
            logging.getLogger(package).setLevel(logging.INFO)
    app = _app()
    with _refusals(False):
        try:
            status = run_service(app)
        except ConfigError as exc:  # an adapter's settings are incomplete
            raise click.ClickException(str(exc)) from None
    sys.exit(status)


@main.command()
@click.option("--user", "user_name", help="Talk as this member (default: your login name).")
def chat(user_name: str | None) -> None:
    """Talk to the bot in the terminal; reads lines from stdin, prints replies."""
    app = _app()
    with _refusals(False):
        if user_name is None:
            user = app.service.ensure_local_admin(_acting_as(app, bootstrap.local_user()))
        else:
            user = app.service.account(_acting_as(app, user_name))
    run_chat(app.conversation, user)


@main.command()
@click.option("--user", "user_name", required=True, help="The member's lab id.")
@click.option("--cpus", type=_FiniteFloat(min=0), required=True)
@click.option("--memory", type=click.IntRange(min=0), required=True, help="GB (RAM + swap).")
@click.option("--gpus", type=click.IntRange(min=0), required=True)
@click.option("--start", required=True, help="now, 2-day, 'YYYY MM DD hh mm', 'tomorrow 9am'...")
@click.option(
    "--end", required=True, help="3-day, 1-week, 'YYYY MM DD hh mm'... (flags count from the start)"
)
@click.option("--image", help="One of the allowed images (default: the configured one).")
@click.option("--port", type=click.IntRange(1, 65535), help="SSH port (default: yours, or the lowest free).")
@click.option("--command", "extra_command", help="Extra command run in the container.")
@_json_option
def book(
    user_name: str, cpus: float, memory: int, gpus: int, start: str, end: str,
    image: str | None, port: int | None, extra_command: str | None, as_json: bool,
) -> None:
    """Book resources for a time window."""
    app = _app()
    request = BookingRequest(
        user=user_name, resources=Resources(cpus, memory, gpus), start=start, end=end,
        image=image, port=port, command=extra_command,
    )
    with _refusals(as_json, _member_zone(app.service, user_name)):
        _acting_as(app, user_name)
        booking = app.service.book(request)
        _show_one(app.service, booking, as_json, "Booked")


@main.command("ls")
@click.option("--user", "user_name", help="Only this member's bookings.")
@click.option("--all", "history", is_flag=True, help="Include finished, failed and cancelled ones.")
@_json_option
def list_bookings(user_name: str | None, history: bool, as_json: bool) -> None:
    """List upcoming and running bookings."""
    app = _app()
    with _refusals(as_json):
        _show(app.service, app.service.bookings(user_name, history=history), as_json)


@main.command()
@click.argument("booking_id", type=BOOKING_ID)
@click.option("--user", "user_name", required=True, help="Who cancels: the owner or an admin.")
@_json_option
def cancel(booking_id: int, user_name: str, as_json: bool) -> None:
    """Cancel a booking before its start, or end a running one now."""
    app = _app()
    with _refusals(as_json):
        booking = app.service.cancel(booking_id, actor=_acting_as(app, user_name))
        verb = "Cancelled" if booking.status == "cancelled" else "Ends now"
        _show_one(app.service, booking, as_json, verb)


@main.command()
@click.argument("booking_id", type=BOOKING_ID)
@click.option("--end", required=True, help="2-day (longer by two days) or a new end time.")
@click.option("--user", "user_name", required=True, help="Who extends: the owner or an admin.")
@_json_option
def extend(booking_id: int, end: str, user_name: str, as_json: bool) -> None:
    """Make a booking end later, if the longer window still fits."""
    app = _app()
    with _refusals(as_json):
        booking = app.service.extend(booking_id, end, actor=_acting_as(app, user_name))
        _show_one(app.service, booking, as_json, "Extended")


@main.command()
@click.argument("booking_id", type=BOOKING_ID)
@click.option("--user", "user_name", required=True, help="Who restarts: the owner or an admin.")
@_json_option
def restart(booking_id: int, user_name: str, as_json: bool) -> None:
    """Restart a running booking's container (same password, same files).

    `booking serve` restarts it and messages the member when it is back.
    """
    app = _app()
    with _refusals(as_json):
        booking = app.service.restart(booking_id, actor=_acting_as(app, user_name))
        _show_one(app.service, booking, as_json, "Restart requested")


@main.command()
@click.argument("booking_id", type=BOOKING_ID)
def login(booking_id: int) -> None:
    """Show a running booking's login, password included (root or the service's user).

    For a member whose message did not reach them: chat unreachable, or no chat set up.
    """
    app = _app()
    with _refusals(False):
        if not _trusted_caller(app):
            raise Refusal(ErrorCode.NOT_OWNER, "Showing a password needs root or the service's "
                          "user (the ones who can read the booking secret).")
        booking = app.service.get(booking_id)
        if booking.status != Status.RUNNING:
            raise Refusal(ErrorCode.NOT_RUNNING, f"Booking #{booking_id} is "
                          f"{booking.status.value}; only a running booking has a login.")
        environment = app.environment or bootstrap.Environment()
        try:
            secret = load_secret(environment.booking_secret, environment.booking_data_dir)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        password = PasswordDeriver(secret).password_for(booking)
        host, user = app.config.server.public_host, app.config.container.user
        zone = _member_zone(app.service, booking.account)
        click.echo(f"Booking #{booking.id} of {booking.account}, running until "
                   f"{local_time(booking.end, zone)}:\n"
                   f"  ssh -p {booking.port} {user}@{host}\n  password: {password}")


@main.command()
@click.option("--start", default="now", show_default=True)
@click.option("--end", default="1-day", show_default=True, help="Flags count from the start.")
@_json_option
def capacity(start: str, end: str, as_json: bool) -> None:
    """Free CPUs, memory and GPU ids per slot."""
    app = _app()
    with _refusals(as_json):
        view = admin_views.free_periods(app.service, app.service.zone_of(None), start, end)
    _print_view(view, as_json)


@main.group()
def users() -> None:
    """Manage member accounts."""


@users.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Make the account an admin.")
@click.option("--slack", "slack_id", help="The member's Slack user id (U...).")
@click.option("--discord", "discord_id", help="The member's Discord user id.")
@click.option("--force", is_flag=True,
              help="Move a chat link that belongs to another account or user (both are told).")
def users_add(
    name: str, admin: bool, slack_id: str | None, discord_id: str | None, force: bool,
) -> None:
    """Add a member (or update their links).

    A lab id is 1-32 characters: lowercase letters, digits, _ . and -.
    """
    app = _app()
    with _refusals(False):
        _require_admin_caller(app)
        try:
            account = app.service.add_account(
                name, admin=admin, slack_id=slack_id, discord_id=discord_id, confirm=force)
        except LinkConflict as conflict:
            raise Refusal(conflict.code, f"{conflict.message} Run it again with --force to "
                                         "move the link.") from None
    click.echo(f"Account {account.name} ready" + (" (admin)." if account.is_admin else "."))


@users.command("ls")
@_json_option
def users_ls(as_json: bool) -> None:
    """List member accounts and their maxima."""
    app = _app()
    with _refusals(as_json):
        _require_admin_caller(app)
    _print_view(admin_views.users_table(app.service, "booking users add ID"), as_json)


@users.command("set")
@click.argument("name")
@click.option("--ssh-keys", "keys_file", type=click.File("r"),
              help="A file of SSH public keys (one a line; - reads stdin); replaces the member's keys.")
@click.option("--timezone", help="The member's time zone, e.g. Europe/Berlin.")
@click.option("--port", type=int, help="The member's own SSH port.")
@click.option("--image", help="The member's default image (from images.allowed; empty: the default).")
@click.option("--command", "extra_command", help="The member's default extra command (empty: none).")
def users_set(
    name: str, keys_file: TextIO | None, timezone: str | None, port: int | None,
    image: str | None, extra_command: str | None,
) -> None:
    """Set a member's SSH keys, time zone, port, image or extra command."""
    app = _app()
    with _refusals(False):
        _require_admin_caller(app)
        account = app.service.update_member(
            name, ssh_keys=keys_file.read() if keys_file else None, timezone=timezone, port=port,
            image=image, command=extra_command,
        )
    keys = len(account.ssh_keys.splitlines())
    click.echo(
        f"{account.name}: port {account.preferred_port or '-'}, image "
        f"{account.image or app.config.images.default}, time zone "
        f"{app.service.zone_of(account)}, {keys} SSH key{'' if keys == 1 else 's'}."
    )


@users.command("limit")
@click.argument("name")
@click.option("--cpus", help="A number or max.")
@click.option("--memory", help="GB, or max.")
@click.option("--gpus", help="A number or max.")
@click.option("--work-space", help="Quota of the work folder: GB, or max (no limit).")
@click.option("--backup-space", help="Quota of the backup folder: GB, or max (no limit).")
def users_limit(
    name: str, cpus: str | None, memory: str | None, gpus: str | None,
    work_space: str | None, backup_space: str | None,
) -> None:
    """Set a member's maxima and disk quotas."""
    given = {"cpus": cpus, "memory": memory, "gpus": gpus,
             "work_space": work_space, "backup_space": backup_space}
    values = {k: v for k, v in given.items() if v is not None}
    if not values:
        raise click.UsageError(
            "Give at least one of --cpus, --memory, --gpus, --work-space, --backup-space.")
    app = _app()
    with _refusals(False):
        _require_admin_caller(app)
        view = admin_views.member_limits(app.service, app.service.account(name), values)
    _print_view(view)


if __name__ == "__main__":
    main()
