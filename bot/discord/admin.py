"""The `/capacity` command group for admins: summary, limits, users, link.

Discord shows the group only to members with Manage Server (a server's
admins can grant it to a role under Integrations); each callback also checks
that the member is a booking admin, since Discord's setting can be changed.
"""


import discord
from discord import app_commands

from bot.discord import admin_actions, capacity, maintenance, usage_report
from bot.discord.interact import Responder, linked_account
from bot.discord.outgoing import Outgoing
from core.chat.admin_views import AdminView
from core.domain.model import Account, ErrorCode, Refusal
from core.services.booking import BookingService


def capacity_group(service: BookingService, respond: Responder) -> app_commands.Group:
    group = app_commands.Group(
        name="capacity",
        description="Server capacity and members (admins)",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True),
    )

    max_days = service.config.booking.max_days  # how far ahead anything can be booked
    few_days = min(3, max_days)

    @group.command(name="summary", description="Free capacity per slot and the GPU timeline")
    @app_commands.describe(days=f"how many days ahead (1-{max_days})")
    async def summary(
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, max_days] = few_days,
    ) -> None:
        def work(account: Account) -> list[Outgoing]:
            capacity.require_admin(service, account)
            return capacity.summary(service, days)
        await respond(interaction, work)

    @group.command(name="limits", description="View or set a member's maxima")
    @app_commands.describe(
        member="the member", cpus="a number or max", memory="GB, or max", gpus="a number or max"
    )
    async def limits(
        interaction: discord.Interaction,
        member: discord.User,
        cpus: str | None = None,
        memory: str | None = None,
        gpus: str | None = None,
    ) -> None:
        values = {k: v for k, v in {"cpus": cpus, "memory": memory, "gpus": gpus}.items() if v}

        def work(account: Account) -> list[Outgoing]:
            capacity.require_admin(service, account)
            target = linked_account(service, member.id)
            if target is None:
                raise Refusal(
                    ErrorCode.NOT_FOUND,
                    f"{member.mention} has no booking account; `/capacity link` links one.",
                )
            return capacity.limits(service, target, values)
        await respond(interaction, work)

    @group.command(name="users", description="Member accounts and their maxima")
    async def users(interaction: discord.Interaction) -> None:
        def work(account: Account) -> list[Outgoing]:
            capacity.require_admin(service, account)
            return capacity.users(service)
        await respond(interaction, work)

    @group.command(name="link", description="Link a Discord member to a lab id (creates it)")
    @app_commands.describe(
        member="the Discord member", lab_id="their lab id, e.g. r11922001",
        admin="make them a booking admin",
        confirm="move a link that belongs to another account or member (both are told)",
    )
    async def link(
        interaction: discord.Interaction, member: discord.User, lab_id: str, admin: bool = False,
        confirm: bool = False,
    ) -> None:
        def work(account: Account) -> AdminView:
            capacity.require_admin(service, account)
            return capacity.link(service, member.id, member.name, lab_id, admin, confirm)

        # A link that would move someone else's comes with a button that asks first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        done = await respond.attempt(interaction.user, work)
        if isinstance(done, Outgoing):  # refused
            await respond.privately(interaction, [done])
            return
        await admin_actions.send_view(interaction, done)

    usage_report.add_command(group, service, respond)
    maintenance.add_command(group, service, respond)
    return group
