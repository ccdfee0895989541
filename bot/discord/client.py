"""The Discord client: command tree, buttons and direct-message conversations."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands

from bot.bootstrap import App
from bot.discord import bookings
from bot.discord.admin import capacity_group
from bot.discord.interact import Responder
from bot.discord.outgoing import (
    ActionButton,
    ConfirmButton,
    OfferBook,
    OfferButton,
    Outgoing,
    message_kwargs,
)
from bot.discord.schedule import schedule_group
from core.domain import Account

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    """Guilds for slash commands, direct messages for conversations.

    Discord delivers the content of direct messages to the bot without the
    privileged message-content intent, so none is asked for.
    """
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.dm_messages = True
    return wanted


class BookingBot(discord.Client):
    def __init__(self, app: App, *, guild_id: int | None = None) -> None:
        super().__init__(intents=intents())
        self.app = app
        self.guild_id = guild_id
        self.offers = OfferBook()
        self.respond = Responder(app.service, self.offers)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(schedule_group(app.service, self.respond))
        self.tree.add_command(capacity_group(app.service, self.respond))
        self.running_loop: asyncio.AbstractEventLoop | None = None

    async def setup_hook(self) -> None:
        self.running_loop = asyncio.get_running_loop()
        self.add_dynamic_items(ActionButton, ConfirmButton, OfferButton)
        if self.guild_id is not None:
            # A guild's commands update at once; global ones can take an hour.
            guild = discord.Object(id=self.guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d Discord commands (%s)", len(synced),
                 f"guild {self.guild_id}" if self.guild_id else "global")

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s", self.user)

    # ----- buttons ----------------------------------------------------------

    async def on_action(self, interaction: discord.Interaction, command: str) -> None:
        """A button click: the command goes to the conversation engine as if typed."""
        await self.respond(interaction, lambda account: self._converse(account, command))

    async def on_offer(self, interaction: discord.Interaction, key: str) -> None:
        """A click on "Book from ...": book the offered request (a second click is refused
        by the service as an overlap, so an offer need not be forgotten when taken)."""
        offer = self.offers.get(key)
        if offer is None:
            await interaction.response.send_message(
                "That offer has expired (the bot restarted); run `/schedule book` again.",
                ephemeral=True,
            )
            return
        service = self.app.service
        await self.respond(
            interaction, lambda account: bookings.take_offer(service, account, offer)
        )

    # ----- direct messages ------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is not None or not message.content:
            return
        outs = await self.respond.outcome(
            message.author, lambda account: self._converse(account, message.content)
        )
        for out in outs:
            await message.channel.send(**message_kwargs(out, self.offers))

    def _converse(self, account: Account, text: str) -> list[Outgoing]:
        return [Outgoing.from_reply(r) for r in self.app.conversation.handle(account, text)]
