"""The `/schedule` use cases, synchronous: called in a worker thread.

Each takes the service (or the conversation engine) and the member's account and
returns what to send. Everything but booking from slash options goes through the
conversation engine, so Discord says what every other chat says.
"""

from __future__ import annotations

from bot.discord.outgoing import Outgoing
from bot.discord.render import clip
from core.chat_actions import VERBS, offer_action
from core.conversation import ConversationEngine
from core.domain import Account, Refusal, Resources
from core.messages import HELP, booked
from core.service import BookingRequest, BookingService

SLASH_VERBS = ("list", "cancel", "extend", "login")  # the verbs /schedule has commands for


def _slash_help() -> str:
    lines = ["**/schedule book** start end [gpus] [cpus] [memory] [image] [command]: book a window."]
    lines += [f"**/schedule {v.usage}**: {v.summary}" for v in VERBS if v.name in SLASH_VERBS]
    return "\n".join([*lines, "Or write to me in a direct message:", ""])


def default_resources(
    service: BookingService, account: Account,
    cpus: float | None, memory: int | None, gpus: int | None,
) -> Resources:
    """What the member named, and the configured default request (capped) for the rest."""
    defaults = service.config.booking.default_request
    maximum = service.limits_of(account)
    return Resources(
        cpus if cpus is not None else min(defaults["cpus"], maximum.cpus),
        memory if memory is not None else min(int(defaults["memory"]), maximum.memory),
        gpus if gpus is not None else min(int(defaults["gpus"]), maximum.gpus),
    )


def book(
    service: BookingService, engine: ConversationEngine, account: Account, request: BookingRequest
) -> list[Outgoing]:
    """Book; a refusal that names an earliest start comes with an offer to book exactly that."""
    try:
        booking = service.book(request)
    except Refusal as refusal:
        if refusal.earliest_start is None:
            raise
        zone = service.zone_of(account)
        duration = service.parse_window(account, request.start, request.end).duration
        offer = offer_action(
            request.resources, refusal.earliest_start, refusal.earliest_start + duration, zone,
            image=request.image, command=request.command,
        )
        return [Outgoing(refusal.message, (offer,))]
    text = booked(booking, service.zone_of(account))
    if booking.start <= service.now():
        text += "\nIt starts now; I will send you a direct message with how to log in."
    return [Outgoing(text, engine.card(account, booking).actions)]


def said(engine: ConversationEngine, account: Account, text: str) -> list[Outgoing]:
    """A slash command as the same words typed to the conversation engine."""
    return [Outgoing.from_reply(r) for r in engine.handle(account, text)]


def help_text() -> str:
    return clip(_slash_help() + HELP)
