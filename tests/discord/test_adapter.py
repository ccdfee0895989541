"""`booking serve` runs the Discord client in its own thread and loop."""

from __future__ import annotations

import asyncio

import discord

from bot import bootstrap
from bot.discord import DiscordAdapter, discord_adapter_from_env
from core.services.notifier import Message, MessageKind
from tests.discord.conftest import BOB, GUILD_ID
from tests.discord.fake_discord import APP_ID, FakeDiscord, dm_channel_id


def test_no_token_no_adapter(app: bootstrap.App) -> None:
    environment = bootstrap.Environment(discord_token=None)
    assert discord_adapter_from_env(app, environment) is None
    assert discord_adapter_from_env(app, bootstrap.Environment(discord_token="")) is None


def test_a_token_gives_an_adapter_for_the_configured_guild(app: bootstrap.App) -> None:
    environment = bootstrap.Environment(discord_token="abc", discord_guild_id=GUILD_ID)
    adapter = discord_adapter_from_env(app, environment)
    assert isinstance(adapter, DiscordAdapter)
    assert adapter.bot.guild_id == GUILD_ID


def test_the_adapter_logs_in_syncs_delivers_from_another_thread_and_stops(
    app: bootstrap.App,
) -> None:
    async def scenario() -> None:
        fake = FakeDiscord()
        saved = discord.http.Route.BASE
        discord.http.Route.BASE = await fake.start()
        adapter = DiscordAdapter(app, "test-token", guild_id=GUILD_ID)
        try:
            adapter.start()
            await fake.wait_for(
                lambda: fake.find("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"))
            bob = app.service.account("bob")
            message = Message(MessageKind.READY, "Your container is up: ssh -p 10001 bob@gpu1")
            assert await asyncio.to_thread(adapter.notifier.deliver, bob, message) is True
            sent = fake.find("POST", f"/channels/{dm_channel_id(BOB)}/messages")
            assert sent[-1].body["content"] == "Your container is up: ssh -p 10001 bob@gpu1"
        finally:
            await asyncio.to_thread(adapter.stop)
            discord.http.Route.BASE = saved
            await fake.stop()
        assert adapter.bot.is_closed()

    asyncio.run(scenario())


def test_the_adapter_connects_again_when_discord_was_unreachable_at_start(
    app: bootstrap.App, monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(DiscordAdapter, "RETRY_SECONDS", (0.3,))

    async def scenario() -> None:
        fake = FakeDiscord()
        saved = discord.http.Route.BASE
        base = await fake.start()
        discord.http.Route.BASE = "http://127.0.0.1:9/api/v10"  # nothing answers there
        adapter = DiscordAdapter(app, "test-token", guild_id=GUILD_ID)
        first = adapter.bot
        try:
            adapter.start()
            await asyncio.sleep(0.2)
            discord.http.Route.BASE = base  # Discord is back
            await fake.wait_for(
                lambda: fake.find("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"))
            assert adapter.bot is not first  # a fresh client for the new attempt
            bob = app.service.account("bob")
            message = Message(MessageKind.INFO, "back again")
            assert await asyncio.to_thread(adapter.notifier.deliver, bob, message) is True
            sent = fake.find("POST", f"/channels/{dm_channel_id(BOB)}/messages")
            assert sent[-1].body["content"] == "back again"
        finally:
            await asyncio.to_thread(adapter.stop)
            discord.http.Route.BASE = saved
            await fake.stop()

    asyncio.run(scenario())


def test_only_messages_about_a_coming_window_carry_its_timestamps(app: bootstrap.App) -> None:
    from core.domain.model import Resources
    from core.services.capacity import BookingRequest

    booking = app.service.book(BookingRequest("bob", Resources(1, 1, 0), "now", "1-day"))
    notifier = DiscordAdapter(app, "test-token").notifier
    ready = notifier.outgoing(Message(MessageKind.READY, "Your booking is ready.", booking.id))
    assert f"<t:{int(booking.end.timestamp())}:f>" in ready.text
    assert [a.verb for a in ready.actions] == ["cancel", "extend"]
    assert all(f"#{booking.id}" in a.label for a in ready.actions)
    ended = notifier.outgoing(Message(MessageKind.ENDED, "Booking #1 has ended.", booking.id))
    assert ended.text == "Booking #1 has ended."
    assert ended.actions == ()
