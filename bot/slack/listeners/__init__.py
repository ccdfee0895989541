"""Bolt listeners, one module per kind; each acknowledges first and works lazily."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.context import SlackContext
from bot.slack.listeners import actions, commands, events, views


def register(app: App, slack: SlackContext) -> None:
    for kind in (commands, views, actions, events):
        kind.register(app, slack)
