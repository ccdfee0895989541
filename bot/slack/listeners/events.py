"""Events: direct messages run the conversation engine; the App Home shows bookings."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.slack.context import post_replies, slack_of
from bot.slack.home import home_view
from core.chat.messages import Reply
from core.domain.model import Refusal

log = logging.getLogger(__name__)


def is_member_dm(event: dict[str, Any]) -> bool:
    """A member's own message in a DM with the bot (not an edit, a join or a bot's post)."""
    return (event.get("channel_type") == "im" and not event.get("subtype")
            and not event.get("bot_id") and bool(event.get("user")))


def direct_message(event: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    if not is_member_dm(event):
        return
    slack = slack_of(context)
    zone = None
    try:
        account = slack.members.account(event["user"])
        zone = slack.service.zone_of(account)
        replies = slack.engine.handle(account, event.get("text", ""))
    except Refusal as refusal:
        replies = [Reply(refusal.message)]
    # A message in a thread is answered in that thread.
    post_replies(client, event["channel"], replies, thread_ts=event.get("thread_ts"), zone=zone)


def home_opened(event: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    if event.get("tab", "home") != "home":
        return
    slack = slack_of(context)
    user_id = event["user"]
    try:
        account = slack.members.account(user_id)
    except Refusal as refusal:
        view = {"type": "home", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": refusal.message[:3000]}}]}
    else:
        view = home_view(slack, account)
    client.views_publish(user_id=user_id, view=view)


def user_change(event: dict[str, Any], context: dict[str, Any]) -> None:
    """A member changed their Slack profile (a new time zone when they travel)."""
    user = event.get("user")
    if isinstance(user, dict):
        slack_of(context).members.profile_changed(user)
