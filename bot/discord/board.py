"""The board channel (`discord.board_channel` in the config): one message the bot keeps up to date.

The message is edited, never posted again: after a restart the bot finds its own
board among the channel's recent messages (by the board's first line) and goes on
editing it. Only when there is none (or it was deleted) is a new one posted.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC

import discord

from bot.discord.reading import read_only
from bot.discord.render import clip, stamped
from core.chat.board import TITLE, board
from core.services.booking import BookingService

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 30.0
LOOK_BACK = 50  # recent messages searched for the board after a restart


class Board:
    def __init__(self, client: discord.Client, service: BookingService, channel_id: int) -> None:
        self.client, self.service, self.channel_id = client, service, channel_id
        self.message_id: int | None = None
        self.shown: str | None = None
        self._warned = False

    def text(self) -> str:
        """The board as Discord shows it: every time a timestamp in each reader's zone."""
        return clip(stamped(read_only(lambda: board(self.service)), UTC))

    async def refresh(self) -> None:
        """Edit the board to what is true now (nothing is sent when nothing changed)."""
        text = await asyncio.to_thread(self.text)
        if text == self.shown:
            return
        channel = self.client.get_partial_messageable(self.channel_id)
        if self.message_id is None:
            self.message_id = await self._find(channel)
        if self.message_id is not None:
            try:
                await channel.get_partial_message(self.message_id).edit(content=text)
                self.shown = text
                return
            except discord.NotFound:  # deleted: post it again below
                self.message_id = None
        sent = await channel.send(text)
        self.message_id, self.shown = sent.id, text

    async def _find(self, channel: discord.PartialMessageable) -> int | None:
        me = self.client.user
        async for message in channel.history(limit=LOOK_BACK):
            if me is not None and message.author.id == me.id and message.content.startswith(
                f"**{TITLE}"
            ):
                return message.id
        return None

    async def run(self, interval: float = INTERVAL_SECONDS) -> None:
        """Refresh every `interval` seconds while the client is connected."""
        await self.client.wait_until_ready()
        while not self.client.is_closed():
            await self.tick()
            await asyncio.sleep(interval)

    async def tick(self) -> None:
        """One refresh; a failure is logged (Discord's refusal once, naming the setting)
        and the next tick tries again."""
        try:
            await self.refresh()
            self._warned = False
        except discord.HTTPException as exc:
            if not self._warned:  # once, until it works again
                log.error("cannot keep the board in discord.board_channel=%s up to date "
                          "(Discord said %s %s); can the bot see that channel, send, read "
                          "its history and edit its own messages there?",
                          self.channel_id, exc.status, exc.text)
                self._warned = True
        except Exception:
            log.exception("updating the Discord board failed")
