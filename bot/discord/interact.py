"""Answering interactions: who is asking, run the work off the event loop, reply.

The core is synchronous (SQLAlchemy), so every call into it runs in a worker
thread. Interactions are deferred first: Discord waits only three seconds for
the first response, and a busy database can take longer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

import discord

from bot.discord.outgoing import Outgoing, sendable
from bot.discord.unreachable import Undelivered
from core.domain.model import Account, Refusal
from core.services.booking import BookingService

log = logging.getLogger(__name__)

SORRY = (
    "Something went wrong on our side; nothing was booked or changed. "
    "The admins can see the details in the service log."
)

Work = Callable[[Account], list[Outgoing]]
T = TypeVar("T")


def linked_account(service: BookingService, user_id: int) -> Account | None:
    """The account linked to a Discord user, without creating one."""
    with service.unit() as uow:
        return uow.accounts.by_chat_id("discord", str(user_id))


class Responder:
    def __init__(self, service: BookingService, undelivered: Undelivered | None = None) -> None:
        self.service = service
        self.undelivered = undelivered or Undelivered()

    async def account_of(self, user: discord.abc.User) -> Account:
        """The member's account; created on first use when registration is open."""
        return await asyncio.to_thread(
            self.service.chat_account, "discord", str(user.id), user.name
        )

    async def __call__(self, interaction: discord.Interaction, work: Work) -> None:
        """Defer, run `work` for the member in a thread, send what it returns (ephemeral)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        outs = await self.outcome(interaction.user, work)
        await self.privately(interaction, outs)

    async def privately(self, interaction: discord.Interaction, outs: list[Outgoing]) -> None:
        """Follow-ups only the member who interacted sees; then what the service could not
        send them while their direct messages were closed."""
        for out in [*outs, *self.undelivered.take(interaction.user.id)]:
            for kwargs in sendable(out):
                await interaction.followup.send(ephemeral=True, **kwargs)

    async def outcome(self, user: discord.abc.User, work: Work) -> list[Outgoing]:
        """What `work` says, or its refusal, with the member's times as Discord timestamps."""
        def in_zone(account: Account) -> list[Outgoing]:
            zone = self.service.zone_of(account)
            try:
                outs = work(account)
            except Refusal as refusal:
                outs = [Outgoing(refusal.message)]
            return [out.in_zone(zone) for out in outs]
        done = await self.attempt(user, in_zone)
        return [done] if isinstance(done, Outgoing) else done

    async def attempt(self, user: discord.abc.User, work: Callable[[Account], T]) -> T | Outgoing:
        """`work` for the member in a worker thread, or what to tell them when it failed."""
        try:
            account = await self.account_of(user)
            return await asyncio.to_thread(work, account)
        except Refusal as refusal:
            return Outgoing(refusal.message)
        except Exception:
            # The member gets an answer whatever broke; the admins get the trace.
            log.exception("Discord request from user %s failed", user.id)
            return Outgoing(SORRY)
