"""What the bot sends back, and the buttons that come with it.

Every button carries its whole meaning in its custom id, as discord.py's
dynamic items read it, so buttons keep working after a restart:
- `bk:<command>` sends `<command>` to the conversation engine as if typed
  (`cancel 12`, `extend 12 1-day`, `yes`); the service checks that the one who
  clicks owns the booking or is an admin.
- `bk-sure:cancel <N>` confirms a Cancel / End now click (the first click
  only asks);
- `bk-offer:<key>` takes an earliest-start offer made after a refusal. Offers
  live in memory; after a restart the member is asked to book again.
"""

from __future__ import annotations

import io
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol, cast

import discord

from bot.discord.render import LABEL_LIMIT, clip
from core.messages import Action, Reply
from core.service import BookingRequest

ACTION_PREFIX = "bk:"
OFFER_PREFIX = "bk-offer:"
CONFIRM_PREFIX = "bk-sure:"
CUSTOM_ID_LIMIT = 100
BUTTONS_PER_MESSAGE = 25

_STYLES = {"primary": discord.ButtonStyle.primary, "danger": discord.ButtonStyle.danger}


@dataclass(frozen=True)
class Offer:
    """A booking the service said would fit at another start."""

    owner: str  # the account that asked
    request: BookingRequest
    label: str


@dataclass(frozen=True)
class Outgoing:
    text: str
    actions: tuple[Action, ...] = ()
    offer: Offer | None = None
    file: tuple[str, bytes] | None = None  # (file name, content)

    @classmethod
    def from_reply(cls, reply: Reply) -> Outgoing:
        return cls(reply.text, reply.actions)


class OfferBook:
    """Recent offers by key, oldest forgotten first; safe across threads."""

    def __init__(self, size: int = 1000) -> None:
        self._offers: OrderedDict[str, Offer] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def add(self, offer: Offer) -> str:
        key = secrets.token_hex(6)
        with self._lock:
            self._offers[key] = offer
            while len(self._offers) > self._size:
                self._offers.popitem(last=False)
        return key

    def get(self, key: str) -> Offer | None:
        with self._lock:
            return self._offers.get(key)


class ButtonHandlers(Protocol):
    """What the client does when a button is clicked."""

    async def on_action(self, interaction: discord.Interaction, command: str) -> None: ...

    async def on_offer(self, interaction: discord.Interaction, key: str) -> None: ...


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"bk:(?P<command>.{1,97})"
):
    def __init__(self, command: str, label: str = "", style: str = "") -> None:
        super().__init__(discord.ui.Button(
            label=clip(label or command, LABEL_LIMIT),
            style=_STYLES.get(style, discord.ButtonStyle.secondary),
            custom_id=ACTION_PREFIX + command,
        ))
        self.command = command

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any
    ) -> ActionButton:
        return cls(match["command"], getattr(item, "label", "") or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.command.startswith("cancel "):  # destroys a session: ask first
            booking = self.command.split()[1]
            view = discord.ui.View(timeout=None)
            view.add_item(ConfirmButton(self.command))
            await interaction.response.send_message(
                f"Cancel booking #{booking}? If it is running, its container is backed up, "
                "stopped and removed.", view=view, ephemeral=True,
            )
            return
        await cast(ButtonHandlers, interaction.client).on_action(interaction, self.command)


class ConfirmButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"bk-sure:(?P<command>cancel \d{1,18})"
):
    """The second click that really cancels (or ends) a booking."""

    def __init__(self, command: str) -> None:
        super().__init__(discord.ui.Button(
            label="Yes, cancel it", style=discord.ButtonStyle.danger,
            custom_id=CONFIRM_PREFIX + command,
        ))
        self.command = command

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any
    ) -> ConfirmButton:
        return cls(match["command"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await cast(ButtonHandlers, interaction.client).on_action(interaction, self.command)


class OfferButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"bk-offer:(?P<key>[0-9a-f]{12})"
):
    def __init__(self, key: str, label: str = "Take the earliest start") -> None:
        super().__init__(discord.ui.Button(
            label=clip(label, LABEL_LIMIT), style=discord.ButtonStyle.primary,
            custom_id=OFFER_PREFIX + key,
        ))
        self.key = key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any
    ) -> OfferButton:
        return cls(match["key"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await cast(ButtonHandlers, interaction.client).on_offer(interaction, self.key)


def view_for(out: Outgoing, offers: OfferBook) -> discord.ui.View | None:
    """The buttons for `out`, or None when it has none."""
    items: list[discord.ui.Item[Any]] = []
    if out.offer is not None:
        items.append(OfferButton(offers.add(out.offer), out.offer.label))
    seen: set[str] = set()
    for action in out.actions:
        custom_id = ACTION_PREFIX + action.command
        if custom_id in seen or len(custom_id) > CUSTOM_ID_LIMIT:
            continue
        seen.add(custom_id)
        items.append(ActionButton(action.command, action.label, action.style))
    if not items:
        return None
    view = discord.ui.View(timeout=None)
    for item in items[:BUTTONS_PER_MESSAGE]:
        view.add_item(item)
    return view


def message_kwargs(out: Outgoing, offers: OfferBook) -> dict[str, Any]:
    """Keyword arguments for `send`/`followup.send` (discord.py wants them absent, not None)."""
    kwargs: dict[str, Any] = {"content": clip(out.text)}
    view = view_for(out, offers)
    if view is not None:
        kwargs["view"] = view
    if out.file is not None:
        name, data = out.file
        kwargs["file"] = discord.File(io.BytesIO(data), filename=name)
    return kwargs
