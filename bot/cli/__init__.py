"""The `booking` command line: the terminal adapter and the admin's tools.

It is the admin's tool on the server: run as root or as the service's user
(the owner of the data folder) it may act for any member. Anyone else may act
only as their own login (`--user` is checked against it) unless that login is
an admin account (bot/cli/callers.py).

Exit status: 0 success; 1 the service refused (stderr says why and what would
work); 2 usage error.

One module per command group: service.py (serve, chat), bookings.py (book, ls,
cancel, extend, restart, login), capacity.py, users.py, report.py, maintenance.py,
waitlist.py, seed.py, ics.py; common.py holds what they share.
"""

from __future__ import annotations

import logging

import click

from bot.cli import (
    bookings,
    capacity,
    ics,
    maintenance,
    report,
    seed,
    service,
    users,
    waitlist,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-v", "--verbose", is_flag=True, help="Log what the service does.")
def main(verbose: bool) -> None:
    """Book CPUs, memory and GPUs on a shared GPU server."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


for _command in (
    service.serve, service.chat,
    bookings.book, bookings.list_bookings, bookings.cancel, bookings.extend, bookings.restart,
    bookings.login,
    capacity.capacity, report.report, report.history,
    users.users, seed.import_seed, ics.ics, maintenance.maintenance, waitlist.waitlist,
):
    main.add_command(_command)

__all__ = ["main"]
