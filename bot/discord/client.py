"""The Discord client: command tree, buttons and direct-message conversations."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands

from bot.bootstrap import App
from bot.discord.admin import capacity_group
from bot.discord.admin_actions import ADMIN_ITEMS
from bot.discord.interact import Responder
from bot.discord.outgoing import (
    DYNAMIC_ITEMS,
    Outgoing,
    draw,
    edit_kwargs,
    message_kwargs,
    sendable,
    unasked,
)
from bot.discord.schedule import schedule_group
from bot.discord.unreachable import Undelivered
from core.chat.actions import parse_press
from core.domain.model import Account, Refusal

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
    def __init__(
        self, app: App, *, guild_id: int | None = None, undelivered: Undelivered | None = None,
    ) -> None:
        # Text members wrote (a maintenance reason, an admin's why, a display name) reaches
        # other people: it never pings (@everyone, <@id>, roles) whatever it says.
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none())
        # discord.py logs each request's body at DEBUG: a login's password with it. Never
        # below INFO, whatever level the service logs at.
        http_log = logging.getLogger("discord.http")
        http_log.setLevel(max(http_log.level, logging.INFO))
        self.app = app
        self.guild_id = guild_id
        # Messages for members whose DMs are closed, shown at their next interaction.
        self.undelivered = undelivered or Undelivered()
        self.respond = Responder(app.service, self.undelivered)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(schedule_group(app.service, app.conversation, self.respond))
        self.tree.add_command(capacity_group(app.service, self.respond))
        self.running_loop: asyncio.AbstractEventLoop | None = None

    async def setup_hook(self) -> None:
        self.running_loop = asyncio.get_running_loop()
        self.add_dynamic_items(*DYNAMIC_ITEMS, *ADMIN_ITEMS)
        try:
            synced = await self._sync_commands()
        except discord.HTTPException as exc:
            # The bot still delivers direct messages and answers buttons; only the slash
            # commands are missing, so say which setting to fix, once, and go on.
            guild = (f"; with DISCORD_GUILD_ID={self.guild_id}: is the bot in that server, "
                     "invited with the applications.commands scope?") if self.guild_id else ""
            log.error("could not register the slash commands (Discord said %s %s)%s",
                      exc.status, exc.text, guild)
            return
        log.info("synced %d Discord commands (global, also in direct messages)", len(synced))

    async def _sync_commands(self) -> list[app_commands.AppCommand]:
        """One strategy: the commands are global, so they work in every server and in the
        bot's direct messages. Copies an earlier version synced to DISCORD_GUILD_ID are
        removed there, or each command would show twice in that server."""
        synced = await self.tree.sync()
        if self.guild_id is not None:
            await self.tree.sync(guild=discord.Object(id=self.guild_id))  # none: clears them
        return synced

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s", self.user)

    # ----- buttons ----------------------------------------------------------
    # Every press edits the message that carried the button (a deferred update, then an
    # edit of the original), so what it shows is the state after the press.

    async def on_press(
        self, interaction: discord.Interaction, where: str, command: str, *, confirmed: bool
    ) -> None:
        """An action pressed (after "Yes" when it asks first): the engine acts once."""
        await interaction.response.defer()
        engine, service = self.app.conversation, self.app.service

        def press(account: Account) -> tuple[Outgoing | None, list[Outgoing]]:
            pressed = engine.press(account, command, in_list=where.startswith("L"))
            zone = service.zone_of(account)
            update = (Outgoing.from_reply(pressed.update).in_zone(zone)
                      if pressed.update is not None else None)
            return update, [Outgoing.from_reply(r).in_zone(zone) for r in pressed.replies]

        done = await self.respond.attempt(interaction.user, press)
        # Refused or broken: say so, change nothing.
        update, replies = (None, [done]) if isinstance(done, Outgoing) else done
        if update is not None:
            await self._redraw(interaction, update, where)
        elif confirmed:  # nothing changed: take the question away again
            await self._as_now(interaction, where, parse_press(command).booking_id)
        await self.respond.privately(interaction, replies)

    async def on_keep(self, interaction: discord.Interaction, where: str, booking_id: int) -> None:
        """"No" to a question: nothing is done, and the message shows the booking as it is."""
        await interaction.response.defer()
        await self._as_now(interaction, where, booking_id)

    async def on_page(self, interaction: discord.Interaction, page: int) -> None:
        await interaction.response.defer()
        await self._as_now(interaction, f"L{page}", None)

    async def _as_now(
        self, interaction: discord.Interaction, where: str, booking_id: int | None
    ) -> None:
        """Draw the pressed message again from the current state, without a question."""
        engine, service = self.app.conversation, self.app.service
        shown = unasked(interaction.message.content if interaction.message else "")

        def now(account: Account) -> Outgoing:
            if where.startswith("L"):
                return Outgoing.from_reply(engine.handle(account, "list")[0])
            if booking_id is None:
                return Outgoing(shown)
            try:  # the message's own booking, whoever pressed: its buttons stay its owner's
                booking = service.get(booking_id)
            except Refusal:
                return Outgoing(shown)
            return Outgoing(shown, engine.card(account, booking).actions)

        out = await self.respond.attempt(
            interaction.user, lambda account: now(account).in_zone(service.zone_of(account)))
        await self._redraw(interaction, out, where)

    async def _redraw(self, interaction: discord.Interaction, out: Outgoing, where: str) -> None:
        page = int(where[1:]) if where.startswith("L") else 0
        first, *more = draw(out, page)
        await interaction.edit_original_response(**edit_kwargs(first))
        for drawn in more:
            await interaction.followup.send(ephemeral=True, **message_kwargs(drawn))

    # ----- direct messages ------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is not None or not message.content:
            return
        outs = await self.respond.outcome(
            message.author, lambda account: self._converse(account, message.content)
        )
        for out in [*outs, *self.undelivered.take(message.author.id)]:
            for kwargs in sendable(out):
                await message.channel.send(**kwargs)

    def _converse(self, account: Account, text: str) -> list[Outgoing]:
        return [Outgoing.from_reply(r) for r in self.app.conversation.handle(account, text)]
