"""Account administration: `booking users add|ls|set|limit`."""

from __future__ import annotations

import sys
from typing import TextIO

import click

from bot.cli.callers import require_admin_caller
from bot.cli.common import json_option, load_app, print_view, refusals
from core.chat import admin_views
from core.chat.admin_link import link_question
from core.domain.model import LinkConflict, Refusal


@click.group()
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
    app = load_app()
    with refusals(False):
        require_admin_caller(app)
        try:
            account = app.service.add_account(
                name, admin=admin, slack_id=slack_id, discord_id=discord_id, confirm=force)
        except LinkConflict as conflict:
            # On a terminal the core's question is asked; otherwise --force is how.
            if not (_interactive() and click.confirm(link_question(conflict), err=True)):
                raise Refusal(conflict.code, f"{conflict.message} Run it again with --force "
                                             "to move the link.") from None
            account = app.service.add_account(
                name, admin=admin, slack_id=slack_id, discord_id=discord_id, confirm=True)
    click.echo(f"Account {account.name} ready" + (" (admin)." if account.is_admin else "."))


@users.command("ls")
@json_option
def users_ls(as_json: bool) -> None:
    """List member accounts and their maxima."""
    app = load_app()
    with refusals(as_json):
        require_admin_caller(app)
    print_view(admin_views.users_table(app.service, "booking users add ID"), as_json)


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
    app = load_app()
    with refusals(False):
        require_admin_caller(app)
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
    app = load_app()
    with refusals(False):
        require_admin_caller(app)
        view = admin_views.member_limits(app.service, app.service.account(name), values)
    print_view(view)


def _interactive() -> bool:
    """Someone at a terminal, who can answer a question."""
    return sys.stdin.isatty()
