"""`/capacity`: the server's free resources for everyone; limits and accounts for admins.

What the views say is decided in core/chat/admin_views.py (and admin_link.py); here Slack's
words are read and the views drawn as Block Kit, a message per 50 blocks, so nothing is cut.
A view's actions are buttons (with Slack's confirm dialog when they ask first); a press comes
back through `pressed` and answers by replacing the message that carried the button.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from slack_sdk import WebClient

from bot.charts import charts_title, timeline_png
from bot.slack import usage_report
from bot.slack.blocks import (
    MAX_FALLBACK_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    Block,
    button,
    date_token,
    escape,
    section,
    shorten,
)
from bot.slack.context import Respond, SlackContext, slack_of
from core.chat import admin_render, admin_views
from core.chat.admin_link import EXPIRED, link, parse_link
from core.chat.admin_views import AdminView, ChatUser, Code
from core.chat.maintenance_chat import MAINTENANCE_HELP, capacity_maintenance
from core.chat.report_words import HISTORY_HELP, REPORT_HELP, capacity_history, capacity_report
from core.domain.model import Account, ErrorCode, Refusal
from core.services.accounts import LIMIT_KEYS
from core.services.booking import BookingService

# The action_id of an admin view's buttons (not the conversation engine's `booking_cmd`).
ADMIN_ACTION = "capacity_action"
_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")
_SETTING = re.compile(r"^(\w+)=(\S+)$")

USAGE = (
    "`/capacity` shows what is free. Admins also use:\n"
    "`/capacity limits [@member] [cpus=8 memory=32 gpus=1]` view or set a member's maxima\n"
    "`/capacity users` list accounts\n"
    "`/capacity link @member lab-id` link a Slack user to an account (created if new; "
    "moving a link asks you to confirm)\n" + MAINTENANCE_HELP + "\n" + REPORT_HELP
    + "\n" + HISTORY_HELP
)


class SlackMarkup:
    """Slack mrkdwn; times as date tokens, shown in each reader's own zone."""

    bullet = "• "

    def text(self, text: str) -> str:
        return escape(text)

    def strong(self, text: str) -> str:
        return f"*{escape(text)}*"

    name = text

    def code(self, text: str) -> str:  # what to type, mentions included: built here, escaped
        return f"`{text}`"

    def time(self, at: datetime, zone: tzinfo) -> str:
        return date_token(at)

    def user(self, platform: str, user_id: str) -> str:
        return f"<@{user_id}>" if platform == "slack" else f"{platform} {escape(user_id)}"

    def arrow(self) -> str:
        return " → "


@dataclass(frozen=True)
class CapacityAnswer:
    view: AdminView

    @property
    def text(self) -> str:
        return admin_render.render(self.view, SlackMarkup())

    def messages(self) -> list[dict[str, Any]]:
        """The view as messages of at most 50 blocks, each section at most 3,000 characters;
        the view's actions as buttons under the last section."""
        texts = admin_render.pages(self.view, SlackMarkup(), MAX_SECTION_TEXT)
        room = MAX_MESSAGE_BLOCKS - (1 if self.view.actions else 0)
        chunks = [texts[i:i + room] for i in range(0, len(texts), room)]
        out: list[dict[str, Any]] = [
            {"text": shorten("\n".join(chunk), MAX_FALLBACK_TEXT),
             "blocks": [section(text) for text in chunk]}
            for chunk in chunks
        ]
        if self.view.actions:
            out[-1]["blocks"].append(self._buttons())
        return out

    def _buttons(self) -> Block:
        elements = [{**button(action, number), "action_id": f"{ADMIN_ACTION}:{number}"}
                    for number, action in enumerate(self.view.actions, 1)]
        return {"type": "actions", "block_id": "admin_actions", "elements": elements}


def answer(slack: SlackContext, command: dict[str, Any], client: WebClient,
           respond: Respond) -> None:
    """`/capacity ...`: the answer, privately, and for an admin's summary the GPU chart."""
    user_id = command["user_id"]
    try:
        account = slack.members.account(user_id)
        view = CapacityCommand(slack.service).run(account, command.get("text", "").strip()).view
    except Refusal as refusal:
        view = AdminView((refusal.message,))
    for message in CapacityAnswer(view).messages():
        respond(**message, response_type="ephemeral")
    png = timeline_png(view.charts) if view.chart else None  # a pool's: a panel per server
    if png and view.chart:
        client.files_upload_v2(
            channel=slack.members.dm_channel(user_id), file=png, filename="gpu-timeline.png",
            title=charts_title(view), initial_comment=f"GPU timeline (times in {view.chart.zone})",
        )
    usage_report.send_chart(slack, user_id, client, view)


def pressed(body: dict[str, Any], action: dict[str, Any], respond: Respond,
            context: dict[str, Any]) -> None:
    """The listener of an admin view's buttons (after Slack's confirm dialog): the answer
    replaces the message that carried the button, so the button is gone once it acted."""
    slack = slack_of(context)
    try:
        account = slack.members.account(body["user"]["id"])
        view = CapacityCommand(slack.service).press(account, str(action.get("value") or ""))
    except Refusal as refusal:
        view = AdminView((refusal.message,))
    first, *more = CapacityAnswer(view).messages()
    respond(**first, response_type="ephemeral", replace_original=True)
    for message in more:
        respond(**message, response_type="ephemeral", replace_original=False)


class CapacityCommand:
    def __init__(self, service: BookingService) -> None:
        self._service = service

    def run(self, account: Account, text: str) -> CapacityAnswer:
        words = text.split()
        verb = words[0].lower() if words else ""
        admin = self._service.is_admin(account)
        zone = self._service.zone_of(account)
        if verb in ("", "show", "free"):
            # Everyone sees who holds which GPU until when, and the chart of it.
            summary = admin_views.capacity_summary(self._service, zone, admin=True)
            if not admin:
                summary = replace(summary, notes=(*summary.notes, (admin_views.ADMIN_NOTE,)))
            return CapacityAnswer(summary)
        if verb == "help":
            return CapacityAnswer(AdminView((USAGE,)))
        if verb == "report":
            return CapacityAnswer(capacity_report(self._service, account, words[1:]))
        if verb == "history":
            return CapacityAnswer(capacity_history(self._service, account, words[1:]))
        if verb == "maintenance":
            said = capacity_maintenance(self._service, account, text.strip()[len(words[0]):])
            return CapacityAnswer(AdminView((said,)))
        if verb == "limits":
            return CapacityAnswer(self._limits(account, admin, words[1:]))
        if verb in ("users", "link"):
            self._require_admin(admin)
            if verb == "users":
                return CapacityAnswer(admin_views.users_table(self._service, "/capacity link"))
            return CapacityAnswer(self._link(words[1:]))
        return CapacityAnswer(AdminView((f"I do not know `{verb}`.\n{USAGE}",)))

    def press(self, account: Account, command: str) -> AdminView:
        """A pressed action of an admin view: today, moving a link after its question."""
        self._require_admin(self._service.is_admin(account))
        asked = parse_link(command)
        if asked is None or asked.user.platform != "slack":
            return AdminView((EXPIRED,))
        return link(self._service, asked.lab_id, asked.user, again=_again(asked.user.user_id,
                    asked.lab_id), admin=asked.admin, seen=asked.seen)

    def _require_admin(self, admin: bool) -> None:
        if not admin:
            raise Refusal(
                ErrorCode.NOT_OWNER,
                f"That needs an admin ({self._service.admin_names()}); "
                "`/capacity` alone shows what is free.",
            )

    def _member(self, word: str) -> Account:
        mention = _MENTION.match(word)
        if mention:
            found = [a for a in self._service.accounts() if a.slack_id == mention.group(1)]
            if not found:
                raise Refusal(ErrorCode.UNKNOWN_USER, f"{word} has no account; "
                              f"`/capacity link {word} lab-id` makes one.")
            return found[0]
        return self._service.account(word.lstrip("@"))

    def _is_self(self, account: Account, word: str) -> bool:
        mention = _MENTION.match(word)
        if mention:
            return mention.group(1) == account.slack_id
        return word.lstrip("@") == account.name

    def _limits(self, account: Account, admin: bool, words: list[str]) -> AdminView:
        member = account
        if words and not _SETTING.match(words[0]):
            # Someone else's limits need an admin, asked first: a member is not
            # told whether that person has an account.
            if not self._is_self(account, words[0]):
                self._require_admin(admin)
            member = self._member(words[0])
            words = words[1:]
        settings = {}
        for word in words:
            setting = _SETTING.match(word)
            if setting is None or setting.group(1) not in LIMIT_KEYS:
                raise Refusal(
                    ErrorCode.BAD_INPUT, f"`{word}`: use cpus=N memory=N gpus=N (or max)."
                )
            settings[setting.group(1)] = setting.group(2)
        if settings:
            self._require_admin(admin)
        return admin_views.member_limits(self._service, member, settings)

    def _link(self, words: list[str]) -> AdminView:
        confirm = len(words) == 3 and words[2].lower() == "confirm"
        mention = _MENTION.match(words[0]) if len(words) == 2 or confirm else None
        if mention is None:
            raise Refusal(ErrorCode.BAD_INPUT, "Use `/capacity link @member lab-id`.")
        user = mention.group(1)
        return link(self._service, words[1], ChatUser("slack", user),
                    again=_again(user, words[1]), confirm=confirm)


def _again(user: str, lab_id: str) -> tuple[str | Code, ...]:
    return ("send ", Code(f"/capacity link <@{user}> {escape(lab_id)} confirm"), ".")

