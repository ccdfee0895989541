"""The service's messages as Discord direct messages.

`deliver` is called from the scheduler's thread; the message is sent on the
client's own event loop and `deliver` waits for the outcome, so the outbox
knows whether it went out.
"""

from __future__ import annotations

import asyncio
import logging

import discord

from bot.discord.outgoing import Outgoing, sendable
from bot.discord.render import stamp
from core.chat.actions import booking_actions, restored
from core.domain.model import Account, Refusal
from core.services.booking import BookingService
from core.services.notifier import Message, MessageKind

log = logging.getLogger(__name__)

# Messages that come with the booking's own buttons (Login, Extend, Restart, End now)
# when the scheduler sent none of its own.
_WITH_BUTTONS = frozenset({MessageKind.READY, MessageKind.REMINDER})


def _current_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class DiscordNotifier:
    def __init__(
        self, client: discord.Client, service: BookingService, *, timeout: float = 30.0,
    ) -> None:
        self._client = client
        self._service = service
        self._timeout = timeout

    def use(self, client: discord.Client) -> None:
        """Send through a new client (the adapter reconnected with a fresh one)."""
        self._client = client

    def deliver(self, account: Account, message: Message) -> bool:
        if not account.discord_id:
            return False
        client = self._client
        loop = getattr(client, "running_loop", None)
        if loop is None or loop.is_closed() or client.is_closed():
            raise ConnectionError("the Discord client is not running")
        if _current_loop() is loop:
            raise RuntimeError("deliver() waits for the send; call it from another thread")
        out = self.outgoing(message)
        future = asyncio.run_coroutine_threadsafe(
            self._send(client, int(account.discord_id), out), loop
        )
        return future.result(self._timeout)

    def outgoing(self, message: Message) -> Outgoing:
        """The message with its booking's times as Discord timestamps, and its buttons."""
        text, actions = message.text, restored(message.actions)
        if message.booking_id is not None and message.kind in _WITH_BUTTONS:
            # Only messages about a booking still ahead get its window as
            # timestamps: "ends 3 minutes ago" under an "ended" message misleads.
            try:
                booking = self._service.get(message.booking_id)
            except Refusal:
                booking = None
            if booking is not None and booking.holds_resources:
                text += (
                    f"\nBooking #{booking.id}: {stamp(booking.start)} → {stamp(booking.end)} "
                    f"(ends {stamp(booking.end, 'R')})."
                )
                if not actions:
                    owner = self._service.account(booking.account)
                    actions = booking_actions(booking, self._service.zone_of(owner),
                                              self._service.config.booking.max_days)
        return Outgoing(text, actions)

    async def _send(self, client: discord.Client, user_id: int, out: Outgoing) -> bool:
        try:
            user = client.get_user(user_id) or await client.fetch_user(user_id)
            for kwargs in sendable(out):
                await user.send(**kwargs)
        except (discord.Forbidden, discord.NotFound) as exc:
            # Direct messages closed, or no such user: this channel cannot reach them.
            log.warning("cannot send a direct message to Discord user %s: %s", user_id, exc)
            return False
        return True
