"""What the `booking` commands share: loading the app, refusals as exit status 1, options,
and how bookings and admin views are printed."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from bot import bootstrap
from core.chat import admin_render, admin_views
from core.chat.messages import booking_dict, booking_line
from core.domain.config import ConfigError
from core.domain.model import Booking, Refusal
from core.domain.zones import local_time
from core.services.booking import BookingService

F = TypeVar("F", bound=Callable[..., Any])


# Booking ids as the database stores them (a signed 64-bit integer).
BOOKING_ID = click.IntRange(1, 2**63 - 1)

# What works, for the environment variables whose values are checked.
_VARIABLE_HINTS = {
    "BOOKING_SLACK_PORT": "a port number such as 3000",
    "DISCORD_GUILD_ID": "the Discord server's numeric id (Copy Server ID), or leave it unset",
}


def load_app(*, server: str | None = None) -> bootstrap.App:
    """The app; `server`: the pool's server this process runs (default: BOOKING_SERVER)."""
    try:
        environment = bootstrap.Environment()
        if server is not None:
            environment = environment.model_copy(update={"booking_server": server})
        return bootstrap.build(environment)
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


class FiniteFloat(click.FloatRange):
    """A number of at least `min`; nan and inf are not numbers here."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number; use a number such as 4.", param, ctx)
        return number


@contextmanager
def refusals(as_json: bool, zone: tzinfo | None = None) -> Iterator[None]:
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


def member_zone(service: BookingService, name: str) -> tzinfo:
    try:
        return service.zone_of(service.account(name))
    except Refusal:
        return service.zone_of(None)


class Terminal:
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


def print_view(view: admin_views.AdminView, as_json: bool = False) -> None:
    if as_json:
        click.echo(json.dumps(list(view.records), indent=2))
    else:
        click.echo(admin_render.render(view, Terminal()))


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def show(service: BookingService, bookings: list[Booking], as_json: bool) -> None:
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
            click.echo(booking_line(booking, zone(booking), service.config.is_pool))


def show_one(service: BookingService, booking: Booking, as_json: bool, verb: str) -> None:
    zone = service.zone_of(service.account(booking.account))
    if as_json:
        click.echo(json.dumps(booking_dict(booking, zone), indent=2))
    else:
        click.echo(f"{verb}: {booking_line(booking, zone, service.config.is_pool)}")
