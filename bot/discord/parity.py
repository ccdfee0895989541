"""The direct-message verbs as `/schedule` commands: restart, keys, timezone, history.

Each is answered privately, in the conversation engine's words (the words typed in
a direct message do the same); restart asks first, as a pressed Restart does.
This module does not use `from __future__ import annotations` (see schedule.py).
"""

import zoneinfo
from collections.abc import Awaitable, Callable
from functools import cache

import discord
from discord import app_commands

from bot.discord import bookings
from bot.discord.forms import KeyForm
from bot.discord.interact import Responder
from bot.discord.outgoing import Outgoing
from core.chat.conversation import ConversationEngine
from core.chat.history import history as past_bookings
from core.domain.model import Account
from core.services.booking import BookingService

MAX_CHOICES = 25
# schedule.py's autocomplete of the member's own bookings: (interaction, typed) -> choices
BookingChoices = Callable[..., Awaitable[list[app_commands.Choice[int]]]]


@cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def zone_choices(current: str) -> list[str]:
    """IANA zone names containing what was typed (`berlin`, `Asia/`), at most 25; the
    exact name first."""
    typed = current.strip().replace(" ", "_").lower()
    found = [z for z in _zones() if typed in z.lower()]
    found.sort(key=lambda z: (z.lower() != typed, not z.lower().split("/")[-1].startswith(
        typed.split("/")[-1]), z))
    return found[:MAX_CHOICES]


def restart(service: BookingService, engine: ConversationEngine, account: Account,
            booking_id: int) -> list[Outgoing]:
    """The booking's line asking whether to restart it (the Restart its buttons offer now,
    so pressing Yes twice restarts once); when it has no Restart, what `restart N` says."""
    booking = service.get(booking_id, actor=account.name)
    card = engine.card(account, booking)
    action = next((a for a in card.actions if a.verb == "restart" and a.confirm), None)
    if action is None or action.confirm is None:
        return bookings.said(engine, account, f"restart {booking_id}")
    return [Outgoing(card.text, asks=(action.command, action.confirm))]


def add_parity_commands(
    group: app_commands.Group, service: BookingService, engine: ConversationEngine,
    respond: Responder, own_booking: BookingChoices,
) -> None:
    def said(account: Account, text: str) -> list[Outgoing]:
        return bookings.said(engine, account, text)

    @group.command(name="restart", description="Restart your running booking's container (asks first)")
    @app_commands.describe(booking="the booking's number (#N)")
    async def restart_(interaction: discord.Interaction, booking: int) -> None:
        await respond(interaction, lambda account: restart(service, engine, account, booking))

    @restart_.autocomplete("booking")
    async def restart_booking(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        return await own_booking(interaction, current)

    @group.command(name="keys", description="Your SSH public keys: list, add one, or clear them")
    @app_commands.describe(action="list them (the default), add one (a form to paste it), or clear")
    @app_commands.choices(action=[
        app_commands.Choice(name="list", value="list"),
        app_commands.Choice(name="add a key", value="add"),
        app_commands.Choice(name="clear all", value="clear"),
    ])
    async def keys(interaction: discord.Interaction, action: str = "list") -> None:
        if action == "add":
            await interaction.response.send_modal(KeyForm(said, respond))
            return
        words = "keys clear" if action == "clear" else "keys"
        await respond(interaction, lambda account: said(account, words))

    @group.command(name="timezone", description="The time zone your times are written in")
    @app_commands.describe(zone="a zone name like Europe/Berlin (empty: show yours)")
    async def timezone(interaction: discord.Interaction,
                       zone: app_commands.Range[str, 1, 64] | None = None) -> None:
        words = f"timezone {zone.strip()}" if zone and zone.strip() else "timezone"
        await respond(interaction, lambda account: said(account, words))

    @timezone.autocomplete("zone")
    async def timezone_zone(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in zone_choices(current)]

    @group.command(name="history", description="Your past bookings, newest first")
    @app_commands.describe(page="which page (10 bookings a page)")
    async def history(interaction: discord.Interaction,
                      page: app_commands.Range[int, 1, 1000] = 1) -> None:
        await respond(interaction, lambda account: [
            Outgoing.from_reply(past_bookings(service, account, page))])
