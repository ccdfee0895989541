"""`booking capacity`: what is free per period and, for an admin, who holds which GPU."""

from __future__ import annotations

import click

from bot.cli.callers import caller_is_admin, caller_login, trusted_caller
from bot.cli.common import json_option, load_app, print_view, refusals
from core.chat import admin_views


@click.command()
@click.option("--start", default="now", show_default=True)
@click.option("--end", default="1-day", show_default=True, help="Flags count from the start.")
@json_option
def capacity(start: str, end: str, as_json: bool) -> None:
    """Free CPUs, memory and GPU ids per slot; for an admin also who holds which GPU.

    The same view as /capacity in Slack and Discord; --json prints the free slots.
    """
    app = load_app()
    admin = trusted_caller(app) or caller_is_admin(app, caller_login())
    with refusals(as_json):
        view = admin_views.capacity_between(
            app.service, app.service.zone_of(None), start, end, admin=admin)
    print_view(view, as_json)
