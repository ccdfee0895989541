"""`booking import-seed DIR [--dry-run]`: moving over from the old system (README,
"Moving over from the old system"). Reading the old files is core/runtime/seed_files.py,
their meaning core/domain/seed_rows.py, the import core/services/seed_import.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import yaml

from bot.cli.callers import require_admin_caller
from bot.cli.common import load_app, refusals
from core.chat import notice_words
from core.domain.seed_rows import plan_seed
from core.runtime.gpu_inventory import gpu_inventory
from core.runtime.seed_files import SeedFolderError, read_seed
from core.services.booking import BookingService
from core.services.ports import UnitOfWork
from core.services.seed_import import SeedImport, SeedReport


@click.command("import-seed")
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Change nothing; print what would be imported.")
def import_seed(folder: Path, dry_run: bool) -> None:
    """Import the old system's members, maxima and bookings from DIR.

    DIR is the old installation (the folder holding cfg/ and jobs/); its times are read in
    server.timezone (else this host's zone). Capacity, volumes and images are printed as a
    snippet for cfg/booking.yaml, never written. Running it again imports nothing new.
    """
    try:
        raw = read_seed(folder)
    except SeedFolderError as exc:
        raise click.ClickException(str(exc)) from None
    app = load_app()
    with refusals(False):
        require_admin_caller(app)
    inventory = gpu_inventory(app.config.capacity.gpus)

    def service_for(uow: Callable[[], UnitOfWork]) -> BookingService:
        return BookingService(config=app.config, uow=uow, gpus=inventory, notices=notice_words)

    report = SeedImport(uow=app.service.unit, service_for=service_for).run(
        plan_seed(raw), dry_run=dry_run)
    click.echo(render(report, folder))


def render(report: SeedReport, folder: Path) -> str:
    lines = [f"Dry run: nothing was changed. A real run would do this (from {folder}):"
             if report.dry_run else f"Imported from {folder}:"]
    for title, items in (
        ("Imported", report.imported), ("Changed on the way", report.changed),
        ("Conflicts: future bookings refused by today's rules, not imported",
         report.conflicts),
        ("Skipped", report.skipped), ("Notes", report.notes),
    ):
        lines.append(f"{title} ({len(items)}):" if items else f"{title}: none.")
        lines += [f"  - {item}" for item in items]
    if report.already:
        counts = ", ".join(f"{n} {kind}{'' if n == 1 else 's'}"
                           for kind, n in sorted(report.already.items()))
        lines.append(f"Already here (an earlier import, or made here), left as they are: "
                     f"{counts}.")
    lines.append("Old passwords are never imported: each booking gets a fresh one.")
    if report.snippet:
        lines.append("For cfg/booking.yaml (not written; merge these sections by hand, then run "
                     "the import again for what needed them):")
        text = yaml.safe_dump(report.snippet, sort_keys=False, default_flow_style=None)
        lines += [f"  {line}" for line in text.splitlines()]
    return "\n".join(lines)
