"""The `/schedule` use cases, synchronous: called in a worker thread.

Each takes the conversation engine and the member's account and returns what to
send: everything goes through the conversation engine, so Discord says what every
other chat says.
"""

from __future__ import annotations

from bot.discord import capacity
from bot.discord.outgoing import Outgoing
from bot.discord.render import MESSAGE_LIMIT, clip, fenced
from core.chat import admin_views
from core.chat.actions import VERBS
from core.chat.booking_requests import FormRequest
from core.chat.conversation import ConversationEngine
from core.chat.messages import HELP
from core.domain.model import Account
from core.services.booking import BookingService

# The verbs /schedule has commands for, as the command shows them.
SLASH_VERBS = {"list": "list", "cancel": "cancel N", "extend": "extend N by", "login": "login N",
               "restart": "restart N", "timezone": "timezone [zone]"}


def _slash_help() -> str:
    lines = ["**/schedule book** [start] end [gpus] [cpus] [memory] [image] [command]: book a "
             "window (start: now); without an end, a form opens."]
    lines += [f"**/schedule {SLASH_VERBS[v.name]}**: {v.summary}" for v in VERBS
              if v.name in SLASH_VERBS]
    lines.append("**/schedule keys** [list | add a key | clear all]: your SSH public keys "
                 "(add: a form to paste one).")
    lines.append("**/schedule history** [page]: your past bookings, newest first.")
    lines.append("**/schedule free** [days]: what is free, and who holds which GPU until when.")
    return "\n".join([*lines, "Or write to me in a direct message:", ""])


def book(engine: ConversationEngine, account: Account, form: FormRequest) -> list[Outgoing]:
    """Book from the slash options: the core fills the defaults, books, or refuses with its
    offer of the earliest start (image and command kept)."""
    return [Outgoing.from_reply(r) for r in engine.book(account, form)]


def said(engine: ConversationEngine, account: Account, text: str) -> list[Outgoing]:
    """A slash command as the same words typed to the conversation engine."""
    return [Outgoing.from_reply(r) for r in engine.handle(account, text)]


def free(service: BookingService, account: Account, days: int) -> list[Outgoing]:
    """What is free in the next `days` days, who holds which GPU until when, and the
    chart of it: read only, so every member may see it."""
    view = admin_views.capacity_summary(service, service.zone_of(account), days, admin=True)
    return capacity.messages(view)


def help_texts() -> list[str]:
    """Help in messages within Discord's limit: the slash commands, then what a direct
    message understands (as one code block), so nothing is cut."""
    slash, typed = _slash_help(), fenced(HELP)
    if len(slash) + len(typed) <= MESSAGE_LIMIT:
        return [slash + typed]
    return [clip(slash.rstrip()), clip(typed)]
