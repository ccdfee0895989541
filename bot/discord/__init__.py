"""The Discord adapter: `/schedule`, `/capacity`, buttons and direct messages."""

from bot.discord.adapter import DiscordAdapter, discord_adapter_from_env

__all__ = ["DiscordAdapter", "discord_adapter_from_env"]
