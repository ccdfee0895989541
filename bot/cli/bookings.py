"""A member's bookings: book, ls, cancel, extend, restart, and an admin's `login`."""

from __future__ import annotations

import click

from bot import bootstrap
from bot.cli.callers import acting_as, trusted_caller
from bot.cli.common import (
    BOOKING_ID,
    FiniteFloat,
    json_option,
    load_app,
    member_zone,
    refusals,
    show,
    show_one,
)
from core.domain.config import ConfigError
from core.domain.model import ErrorCode, Refusal, Resources, Status
from core.domain.passwords import PasswordDeriver
from core.domain.zones import local_time
from core.runtime.secret_file import load_secret
from core.services.capacity import BookingRequest


@click.command()
@click.option("--user", "user_name", required=True, help="The member's lab id.")
@click.option("--cpus", type=FiniteFloat(min=0), required=True)
@click.option("--memory", type=click.IntRange(min=0), required=True, help="GB (RAM + swap).")
@click.option("--gpus", type=click.IntRange(min=0), required=True)
@click.option("--start", required=True, help="now, 2-day, 'YYYY MM DD hh mm', 'tomorrow 9am'...")
@click.option(
    "--end", required=True, help="3-day, 1-week, 'YYYY MM DD hh mm'... (flags count from the start)"
)
@click.option("--image", help="One of the allowed images (default: the configured one).")
@click.option("--port", type=click.IntRange(1, 65535), help="SSH port (default: yours, or the lowest free).")
@click.option("--command", "extra_command", help="Extra command run in the container.")
@click.option("--server", help="A pool's server (default: any server where it fits).")
@json_option
def book(
    user_name: str, cpus: float, memory: int, gpus: int, start: str, end: str,
    image: str | None, port: int | None, extra_command: str | None, server: str | None,
    as_json: bool,
) -> None:
    """Book resources for a time window."""
    app = load_app()
    request = BookingRequest(
        user=user_name, resources=Resources(cpus, memory, gpus), start=start, end=end,
        image=image, port=port, command=extra_command, server=server,
    )
    with refusals(as_json, member_zone(app.service, user_name)):
        acting_as(app, user_name)
        booking = app.service.book(request)
        show_one(app.service, booking, as_json, "Booked")


@click.command("ls")
@click.option("--user", "user_name", help="Only this member's bookings.")
@click.option("--all", "history", is_flag=True, help="Include finished, failed and cancelled ones.")
@json_option
def list_bookings(user_name: str | None, history: bool, as_json: bool) -> None:
    """List upcoming and running bookings."""
    app = load_app()
    with refusals(as_json):
        show(app.service, app.service.bookings(user_name, history=history), as_json)


@click.command()
@click.argument("booking_id", type=BOOKING_ID)
@click.option("--user", "user_name", required=True, help="Who cancels: the owner or an admin.")
@json_option
def cancel(booking_id: int, user_name: str, as_json: bool) -> None:
    """Cancel a booking before its start, or end a running one now."""
    app = load_app()
    with refusals(as_json):
        booking = app.service.cancel(booking_id, actor=acting_as(app, user_name))
        verb = "Cancelled" if booking.status == "cancelled" else "Ends now"
        show_one(app.service, booking, as_json, verb)


@click.command()
@click.argument("booking_id", type=BOOKING_ID)
@click.option("--end", required=True, help="2-day (longer by two days) or a new end time.")
@click.option("--user", "user_name", required=True, help="Who extends: the owner or an admin.")
@json_option
def extend(booking_id: int, end: str, user_name: str, as_json: bool) -> None:
    """Make a booking end later, if the longer window still fits."""
    app = load_app()
    with refusals(as_json):
        booking = app.service.extend(booking_id, end, actor=acting_as(app, user_name))
        show_one(app.service, booking, as_json, "Extended")


@click.command()
@click.argument("booking_id", type=BOOKING_ID)
@click.option("--user", "user_name", required=True, help="Who restarts: the owner or an admin.")
@json_option
def restart(booking_id: int, user_name: str, as_json: bool) -> None:
    """Restart a running booking's container (same password, same files).

    `booking serve` restarts it and messages the member when it is back.
    """
    app = load_app()
    with refusals(as_json):
        booking = app.service.restart(booking_id, actor=acting_as(app, user_name))
        show_one(app.service, booking, as_json, "Restart requested")


@click.command()
@click.argument("booking_id", type=BOOKING_ID)
def login(booking_id: int) -> None:
    """Show a running booking's login, password included (root or the service's user).

    For a member whose message did not reach them: chat unreachable, or no chat set up.
    """
    app = load_app()
    with refusals(False):
        if not trusted_caller(app):
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
        config = app.config
        if booking.server in config.server_names:  # a pool: the booking's own server
            config = config.for_server(booking.server)
        host, user = config.server.public_host, config.container.user
        zone = member_zone(app.service, booking.account)
        click.echo(f"Booking #{booking.id} of {booking.account}, running until "
                   f"{local_time(booking.end, zone)}:\n"
                   f"  ssh -p {booking.port} {user}@{host}\n  password: {password}")
