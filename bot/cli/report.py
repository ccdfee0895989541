"""`booking report` (usage per member and for the server, each server of a pool) and
`booking history N` (a booking's event log, on whichever server): an admin's (README,
"Usage reports"). The use cases are core/services/usage_report.py, the words
core/chat/report_words.py."""

from __future__ import annotations

import click

from bot import bootstrap
from bot.cli.callers import caller_is_admin, caller_login, trusted_caller
from bot.cli.common import BOOKING_ID, json_option, load_app, print_view, refusals
from core.chat.report_words import history_view, usage_csv, usage_view
from core.domain.model import ErrorCode, Refusal
from core.services.usage_report import usage_reports


def _require_admin(app: bootstrap.App, what: str) -> None:
    if trusted_caller(app) or caller_is_admin(app, caller_login()):
        return
    raise Refusal(ErrorCode.NOT_OWNER, f"{what} needs root, the service's user or an admin "
                                       f"account; `{caller_login()}` is none of them.")


@click.command()
@click.option("--month", help="YEAR-MONTH, such as 2026-11 (default: this month).")
@click.option("--start", help="First day, YEAR-MONTH-DAY (with --end, instead of --month).")
@click.option("--end", help="Last day, YEAR-MONTH-DAY, included.")
@click.option("--csv", "as_csv", is_flag=True, help="Print a CSV table: a row per member and "
              "one for the server (member *); in a pool, those for each server, then one "
              "for the whole pool (server *).")
@json_option
def report(month: str | None, start: str | None, end: str | None, as_csv: bool,
           as_json: bool) -> None:
    """GPU-, CPU- and memory-GB-hours booked and held, per member and for the server (in
    a pool: for each server, then the whole pool).

    Months and days are the server's time zone. Held counts until a booking ended (an early
    end until it ended, a running booking until now). Cancelled bookings and no-shows
    (failed starts) are listed separately.
    """
    if as_csv and as_json:
        raise click.UsageError("Use --csv or --json, not both.")
    if (start is None) != (end is None):
        raise click.UsageError("Give both --start and --end (days, both included), "
                               "or --month.")
    if month is not None and start is not None:
        raise click.UsageError("Give --month or --start and --end, not both.")
    app = load_app()
    with refusals(as_json):
        _require_admin(app, "A usage report")
        reports = usage_reports(app.service)
        found = reports.days(start, end) if start and end else reports.month(month)
    if as_csv:
        click.echo(usage_csv(found), nl=False)
    else:
        print_view(usage_view(found), as_json)


@click.command()
@click.argument("booking_id", type=BOOKING_ID)
@json_option
def history(booking_id: int, as_json: bool) -> None:
    """Everything recorded about booking BOOKING_ID, oldest first."""
    app = load_app()
    with refusals(as_json):
        _require_admin(app, "A booking's history")
        reports = usage_reports(app.service)
        view = history_view(reports.history(booking_id), reports.zone)
    print_view(view, as_json)
