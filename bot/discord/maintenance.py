"""`/capacity maintenance [text]` in Discord: the same grammar and words as Slack's
(core/chat/maintenance_chat.py). Added to the `/capacity` group by bot/discord/admin.py."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.discord import capacity
from bot.discord.interact import Responder
from core.chat.admin_views import AdminView
from core.chat.maintenance_chat import capacity_maintenance
from core.services.booking import BookingService


def add_command(group: app_commands.Group, service: BookingService, respond: Responder) -> None:
    @group.command(name="maintenance", description="Maintenance windows: list, add, remove")
    @app_commands.describe(text="empty: list; add START to END [gpus 0,1] reason TEXT "
                                "(add yes ... to add it); rm N")
    async def maintenance_command(interaction: discord.Interaction, text: str = "") -> None:
        await respond(interaction, lambda account: capacity.messages(
            AdminView((capacity_maintenance(service, account, text),))))
