"""`/capacity report [month]` in Discord: the usage report (core/chat/report_words.py) as
messages, its bar chart (bot/usage_chart.py) with the first; `/capacity history N`: a
booking's events. Added to the `/capacity` group by bot/discord/admin.py."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.discord import capacity
from bot.discord.interact import Responder
from bot.discord.outgoing import Outgoing
from bot.usage_chart import usage_png
from core.chat.report_words import capacity_history, capacity_report
from core.domain.model import Account
from core.services.booking import BookingService

CHART_NAME = "usage.png"


def report(service: BookingService, account: Account, month: str | None) -> list[Outgoing]:
    capacity.require_admin(service, account)
    view = capacity_report(service, account, month.split() if month else [])
    outs = capacity.messages(view)
    png = usage_png(view.bars)
    if png:
        outs[0] = Outgoing(outs[0].text, file=(CHART_NAME, png))
    return outs


def add_command(group: app_commands.Group, service: BookingService, respond: Responder) -> None:
    @group.command(name="report", description="Usage per member for a month, with a chart")
    @app_commands.describe(month="YEAR-MONTH such as 2026-11 (default: this month), or days: "
                                 "2026-09-01 to 2026-11-30")
    async def report_command(interaction: discord.Interaction, month: str | None = None) -> None:
        await respond(interaction, lambda account: report(service, account, month))

    @group.command(name="history", description="Everything recorded about a booking, oldest first")
    @app_commands.describe(booking="the booking's number")
    async def history_command(interaction: discord.Interaction, booking: int) -> None:
        def work(account: Account) -> list[Outgoing]:
            capacity.require_admin(service, account)
            return capacity.messages(capacity_history(service, account, [str(booking)]))
        await respond(interaction, work)
