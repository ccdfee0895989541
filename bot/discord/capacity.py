"""`/capacity` for Discord: the core's admin views as messages, paged past 2,000 characters.

Synchronous: called in a worker thread. What the views say is decided in core/chat/admin_views.py
and admin_link.py; a view's buttons are drawn and pressed in bot/discord/admin_actions.py.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.charts import timeline_png
from bot.discord.outgoing import Outgoing
from bot.discord.render import MESSAGE_LIMIT, stamp
from core.chat import admin_render, admin_views
from core.chat.admin_link import EXPIRED, parse_link
from core.chat.admin_link import link as link_view
from core.chat.admin_views import AdminView, ChatUser, Code, Line
from core.domain.model import Account, ErrorCode, Refusal
from core.services.booking import BookingService

CHART_NAME = "gpu-timeline.png"
AGAIN: Line = ("run ", Code("/capacity link"), " again with ", Code("confirm: True"), ".")


class DiscordMarkup:
    """Discord markdown; times as `<t:…>` stamps, which Discord shows in each reader's zone."""

    bullet = "• "

    def text(self, text: str) -> str:
        return text

    def strong(self, text: str) -> str:
        return f"**{text}**"

    def name(self, text: str) -> str:
        return f"`{text}`"

    code = name

    def time(self, at: datetime, zone: tzinfo) -> str:
        return stamp(at, "f")

    def user(self, platform: str, user_id: str) -> str:
        return f"<@{user_id}>" if platform == "discord" else f"{platform} {user_id}"

    def arrow(self) -> str:
        return " → "


def texts(view: AdminView) -> list[str]:
    """The view's text in pages of at most Discord's 2,000 characters."""
    return admin_render.pages(view, DiscordMarkup(), MESSAGE_LIMIT)


def messages(view: AdminView) -> list[Outgoing]:
    """The view as one message or, past Discord's limit, several; the chart with the first.
    (A view with actions is sent by admin_actions.send_view, which draws its buttons.)"""
    outs = [Outgoing(text) for text in texts(view)]
    png = timeline_png(view.charts) if view.charts else None  # a pool's: a panel per server
    if png:
        outs[0] = Outgoing(outs[0].text, file=(CHART_NAME, png))
    return outs


def require_admin(service: BookingService, account: Account) -> None:
    if service.is_admin(account):
        return
    raise Refusal(
        ErrorCode.NOT_OWNER, f"Only booking admins ({service.admin_names()}) may use /capacity."
    )


def summary(service: BookingService, days: int) -> list[Outgoing]:
    return messages(admin_views.capacity_summary(service, service.zone_of(None), days))


def limits(service: BookingService, target: Account, values: dict[str, str]) -> list[Outgoing]:
    return messages(admin_views.member_limits(service, target, values))


def users(service: BookingService) -> list[Outgoing]:
    return messages(admin_views.users_table(service, "/capacity link"))


def link(
    service: BookingService, discord_id: int, display_name: str, lab_id: str, admin: bool,
    confirm: bool = False,
) -> AdminView:
    return link_view(service, lab_id, ChatUser("discord", str(discord_id)), again=AGAIN,
                     display_name=display_name, admin=admin, confirm=confirm)


def press(service: BookingService, account: Account, command: str, *, confirmed: bool) -> AdminView:
    """A pressed button of an admin view: before its question (`confirmed` False) the link
    as it is now, asking again; after "Yes" the link moved, once."""
    require_admin(service, account)
    asked = parse_link(command)
    if asked is None or asked.user.platform != "discord":
        return AdminView((EXPIRED,))
    return link_view(service, asked.lab_id, asked.user, again=AGAIN, admin=asked.admin,
                     seen=asked.seen if confirmed else None)
