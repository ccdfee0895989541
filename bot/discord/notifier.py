"""The service's messages as Discord direct messages.

`deliver` is called from the scheduler's thread; the message is sent on the
client's own event loop and `deliver` waits for the outcome, so the outbox
knows whether it went out. A member whose direct messages are closed gets the
message the next time they use the bot (bot/discord/unreachable.py), and the
admins are told once; a message Discord could not take (unreachable) is shown
there too.
"""

from __future__ import annotations

import asyncio
import enum
import logging

import discord

from bot.discord.outgoing import Outgoing, sendable
from bot.discord.render import stamp
from bot.discord.unreachable import Undelivered, admin_note
from core.chat.actions import booking_actions, restored
from core.domain.model import Account, Refusal
from core.services.booking import BookingService
from core.services.notifier import Message, MessageKind

log = logging.getLogger(__name__)

# Messages that come with the booking's own buttons (Login, Extend, Restart, End now)
# when the scheduler sent none of its own.
_WITH_BUTTONS = frozenset({MessageKind.READY, MessageKind.REMINDER})


class _Sent(enum.Enum):
    SENT = "sent"
    CLOSED = "closed"  # the member's direct messages are closed (Discord error 50007)
    UNKNOWN = "unknown"  # no such Discord user


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
        self._undelivered = Undelivered()  # for a client that keeps none of its own

    def use(self, client: discord.Client) -> None:
        """Send through a new client (the adapter reconnected with a fresh one)."""
        self._client = client

    def deliver(self, account: Account, message: Message) -> bool:
        if not account.discord_id:
            return False
        client = self._client
        loop = getattr(client, "running_loop", None)
        if loop is not None and _current_loop() is loop:
            raise RuntimeError("deliver() waits for the send; call it from another thread")
        user_id = int(account.discord_id)
        kept = self._kept(client)
        key = (account.name, message.kind, message.booking_id, message.text)
        if kept.release(user_id, key):
            return True  # shown at an interaction while Discord could not take it
        out = self.outgoing(message).in_zone(self._service.zone_of(account))
        try:
            if loop is None or loop.is_closed() or client.is_closed():
                raise ConnectionError("the Discord client is not running")
            sent = asyncio.run_coroutine_threadsafe(self._send(client, user_id, out), loop)
            outcome = sent.result(self._timeout)
        except Exception:
            # Discord unreachable: the outbox tries again, and in the end writes the
            # message (without its password) to its log; the member sees it at their next
            # /schedule, or a button press, whichever comes first.
            kept.hold(user_id, key, out)
            raise
        if outcome is _Sent.SENT:
            kept.reached(user_id)
        elif outcome is _Sent.CLOSED and kept.keep(user_id, out):
            note = Outgoing(admin_note(account.name, user_id, message.booking_id))
            told = asyncio.run_coroutine_threadsafe(
                self._tell(client, self._admin_ids(account), note), loop)
            told.result(self._timeout)
        # Not delivered here: the outbox tries its next channel, then its log (which never
        # shows a password), and marks the message sent; it is not retried.
        return outcome is _Sent.SENT

    def _kept(self, client: discord.Client) -> Undelivered:
        """Where the client shows members what they missed (BookingBot.undelivered)."""
        kept = getattr(client, "undelivered", None)
        return kept if isinstance(kept, Undelivered) else self._undelivered

    def _admin_ids(self, member: Account) -> list[int]:
        with self._service.unit() as uow:
            accounts = uow.accounts.all()
        return [int(a.discord_id) for a in accounts
                if a.discord_id and a.name != member.name and self._service.is_admin(a)]

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

    async def _send(self, client: discord.Client, user_id: int, out: Outgoing) -> _Sent:
        try:
            user = client.get_user(user_id) or await client.fetch_user(user_id)
            for kwargs in sendable(out):
                await user.send(**kwargs)
        except discord.Forbidden as exc:
            log.warning("Discord user %s has direct messages closed (%s); the message is kept "
                        "for their next /schedule", user_id, exc.text or exc.code)
            return _Sent.CLOSED
        except discord.NotFound as exc:
            log.warning("cannot send a direct message to Discord user %s: %s", user_id, exc)
            return _Sent.UNKNOWN
        return _Sent.SENT

    async def _tell(self, client: discord.Client, user_ids: list[int], out: Outgoing) -> None:
        # The member's message is kept already: a failure here must not make the outbox
        # send it again.
        for user_id in user_ids:
            try:
                sent = await self._send(client, user_id, out)
            except discord.HTTPException:
                sent = _Sent.UNKNOWN
            if sent is not _Sent.SENT:
                log.warning("could not tell admin %s that a member's DMs are closed", user_id)
