"""The Slack adapter: slash commands, modals, buttons, DMs, the App Home, the notifier."""

from bot.slack.adapter import SlackAdapter, SlackConfigError, slack_adapter_from_env

__all__ = ["SlackAdapter", "SlackConfigError", "slack_adapter_from_env"]
