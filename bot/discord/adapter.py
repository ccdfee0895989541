"""Running the Discord client beside the scheduler and the other adapters.

discord.py is asynchronous and `booking serve` is not, so the client runs in
its own thread with its own event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import discord

from bot.bootstrap import App, Environment
from bot.discord.board import Board
from bot.discord.client import BookingBot
from bot.discord.notifier import DiscordNotifier

log = logging.getLogger(__name__)


class DiscordAdapter:
    """The Discord client in its own thread; it reconnects until stopped.

    discord.py reconnects by itself once connected; a failure before that (no
    network at boot, Discord down) ends the client, so each attempt gets a new
    client after a growing pause. A rejected token stops for good.
    """

    RETRY_SECONDS = (5.0, 15.0, 60.0, 300.0)

    def __init__(self, app: App, token: str, *, guild_id: int | None = None,
                 board_channel: int | None = None) -> None:
        # The bot never joins voice channels: no warnings about voice libraries.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        self._app = app
        self._token = token
        self._guild_id = guild_id
        self._board_channel = board_channel
        self._board_task: asyncio.Task[None] | None = None
        self.bot = BookingBot(app, guild_id=guild_id)
        self.notifier = DiscordNotifier(self.bot, app.service)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="discord", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            try:
                asyncio.run(self._main())
            except discord.LoginFailure:
                log.error("Discord refused DISCORD_TOKEN; Discord is off until the token is fixed "
                          "and the service restarted")
                return
            except Exception as exc:
                log.error("the Discord client stopped: %s", exc)
            if self._stopping.is_set():
                return
            pause = self.RETRY_SECONDS[min(attempt, len(self.RETRY_SECONDS) - 1)]
            attempt += 1
            log.info("connecting to Discord again in %gs", pause)
            if self._stopping.wait(pause):
                return
            # What members with closed DMs have not seen yet stays for their next visit.
            self.bot = BookingBot(self._app, guild_id=self._guild_id,
                                  undelivered=self.bot.undelivered)
            self.notifier.use(self.bot)

    async def _main(self) -> None:
        async with self.bot:
            if self._board_channel is not None:  # kept up to date while connected
                board = Board(self.bot, self._app.service, self._board_channel)
                self._board_task = asyncio.create_task(board.run())
            await self.bot.start(self._token)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        loop = self.bot.running_loop
        if loop is not None and not loop.is_closed() and not self.bot.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(self.bot.close(), loop).result(timeout)
            except Exception:
                log.exception("closing the Discord client failed")
        if self._thread is not None:
            self._thread.join(timeout)


def discord_adapter_from_env(
    app: App, environment: Environment | None = None
) -> DiscordAdapter | None:
    """The Discord adapter when DISCORD_TOKEN is set, else None."""
    environment = environment or app.environment or Environment()
    if not environment.discord_token:
        return None
    return DiscordAdapter(
        app, environment.discord_token, guild_id=environment.discord_guild_id,
        board_channel=app.config.discord.board_channel,
    )
