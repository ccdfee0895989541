"""Registering the slash commands: one strategy, and a refusal that names the setting."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot import bootstrap
from tests.discord.conftest import BOB, GUILD_ID, connected
from tests.discord.fake_discord import APP_ID


def test_commands_are_global_and_old_guild_copies_are_removed(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app, guild_id=GUILD_ID) as h:
            [global_sync] = h.fake.find("PUT", rf"/applications/{APP_ID}/commands")
            assert {c["name"] for c in global_sync.body} == {"schedule", "capacity"}
            [guild] = h.fake.find("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
            assert guild.body == []  # copies from a guild sync would show each twice

    asyncio.run(scenario())


def test_without_a_guild_only_the_global_commands_are_synced(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app, guild_id=None) as h:
            [global_sync] = h.fake.find("PUT", rf"/applications/{APP_ID}/commands")
            assert {c["name"] for c in global_sync.body} == {"schedule", "capacity"}
            assert h.fake.find("PUT", rf"/applications/{APP_ID}/guilds/\d+/commands") == []

    asyncio.run(scenario())


def test_a_refused_guild_sync_names_the_setting_and_the_bot_keeps_talking(
    app: bootstrap.App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.discord.client")

    async def scenario() -> None:
        async with connected(app, guild_id=GUILD_ID, refuse_guild_commands=True) as h:
            [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
            assert line == ("could not register the slash commands (Discord said 403 Missing "
                            f"Access); with DISCORD_GUILD_ID={GUILD_ID}: is the bot in that "
                            "server, invited with the applications.commands scope?")
            [reply] = await h.dm(BOB, "help")  # direct messages still work
            assert "book" in reply.body["content"]

    asyncio.run(scenario())
