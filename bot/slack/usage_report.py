"""`/capacity report [month]` in Slack: the text comes through bot/slack/capacity.py like
every admin view; the chart (bot/usage_chart.py) goes to the admin's DM, as the GPU timeline
does."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.slack.context import SlackContext
from bot.usage_chart import usage_png
from core.chat.admin_views import AdminView
from core.chat.report_words import UsageView

CHART_NAME = "usage.png"


def send_chart(slack: SlackContext, user_id: str, client: WebClient, view: AdminView) -> None:
    """The report's bar chart, when `view` is a usage report with someone in it."""
    png = usage_png(view.bars) if isinstance(view, UsageView) else None
    if png and isinstance(view, UsageView):
        client.files_upload_v2(
            channel=slack.members.dm_channel(user_id), file=png, filename=CHART_NAME,
            title=view.bars.title, initial_comment="GPU-hours per member: booked and held",
        )
