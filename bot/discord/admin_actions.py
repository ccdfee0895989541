"""The buttons of an admin view (`/capacity link`'s "Link bob to discord user 1004").

Each carries its whole meaning in its custom id, as discord.py's dynamic items read it,
so it works after a restart; the core says what the command means (core/chat/admin_link.py):
- `adm:<command>` presses the action: the message asks the core's question in place of
  its button ("Yes" / "No"), or, when the links changed meanwhile, shows them as they are now;
- `adm-sure:<command>` is "Yes": only now does the link move, once; the message then
  shows the result and no button;
- `adm-keep:<command>` is "No": nothing changes, the question goes, the button stays.
Every answer edits the message that carried the button (a deferred update, then an edit
of the original), as the booking buttons do (bot/discord/outgoing.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol, cast

import discord

from bot.discord import capacity
from bot.discord.interact import Responder
from bot.discord.outgoing import QUESTION_MARK, Outgoing, unasked
from bot.discord.render import LABEL_LIMIT, MESSAGE_LIMIT, clip
from core.chat.actions import Action
from core.chat.admin_link import parse_link
from core.chat.admin_views import AdminView
from core.domain.model import Account

_COMMAND = r"(?P<command>.{1,90})"


class _WithResponder(Protocol):
    respond: Responder


def _button(label: str, custom_id: str, danger: bool = False) -> discord.ui.Button[Any]:
    style = discord.ButtonStyle.danger if danger else discord.ButtonStyle.secondary
    return discord.ui.Button(label=clip(label, LABEL_LIMIT), custom_id=custom_id, style=style)


class AdminActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"adm:" + _COMMAND):
    def __init__(self, command: str, label: str = "") -> None:
        asked = parse_link(command)
        super().__init__(_button(label or (asked.label if asked else command), f"adm:{command}",
                                 danger=True))
        self.command = command

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AdminActionButton:
        return cls(match["command"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        view = await _run(interaction, self.command, confirmed=False)
        if view is None:
            return
        same = [a for a in view.actions if a.command == self.command and a.confirm]
        if not same:  # linked meanwhile, or a different question now: show it as it is
            await _show(interaction, view)
            return
        shown = unasked(interaction.message.content if interaction.message else "")
        question = same[0].confirm
        text = clip(shown, MESSAGE_LIMIT - len(QUESTION_MARK) - len(question))
        buttons = [AdminConfirmButton(self.command), AdminKeepButton(self.command)]
        await interaction.edit_original_response(content=text + QUESTION_MARK + question,
                                                 view=_view(buttons))


class AdminConfirmButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"adm-sure:" + _COMMAND
):
    """"Yes" to the question: the action acts now, once."""

    def __init__(self, command: str) -> None:
        asked = parse_link(command)
        label = asked.label if asked else "it"
        super().__init__(_button(f"Yes, {label[:1].lower()}{label[1:]}", f"adm-sure:{command}",
                                 danger=True))
        self.command = command

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AdminConfirmButton:
        return cls(match["command"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        view = await _run(interaction, self.command, confirmed=True)
        if view is not None:
            await _show(interaction, view)


class AdminKeepButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"adm-keep:" + _COMMAND):
    """"No": nothing changes; the message loses its question and keeps its button."""

    def __init__(self, command: str) -> None:
        super().__init__(_button("No, leave it", f"adm-keep:{command}"))
        self.command = command

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AdminKeepButton:
        return cls(match["command"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        shown = unasked(interaction.message.content if interaction.message else "")
        await interaction.edit_original_response(
            content=shown, view=_view([AdminActionButton(self.command)]))


ADMIN_ITEMS = (AdminActionButton, AdminConfirmButton, AdminKeepButton)


def _view(items: Sequence[discord.ui.Item[Any]]) -> discord.ui.View | None:
    if not items:
        return None
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view


def buttons(actions: Sequence[Action]) -> discord.ui.View | None:
    """A view's actions as buttons (an admin view has a few at most: one row)."""
    return _view([AdminActionButton(a.command, a.label) for a in actions[:5]])


async def send_view(interaction: discord.Interaction, view: AdminView) -> None:
    """An admin view as private follow-ups, its buttons under the last page."""
    pages = capacity.texts(view)
    for number, text in enumerate(pages, 1):
        kwargs: dict[str, Any] = {"content": text}
        actions = buttons(view.actions) if number == len(pages) else None
        if actions is not None:
            kwargs["view"] = actions
        await interaction.followup.send(ephemeral=True, **kwargs)


async def _run(interaction: discord.Interaction, command: str, *, confirmed: bool) -> AdminView | None:
    """The press, by the core, for the member who pressed (an admin); a refusal is said
    privately and the message is left as it is (None)."""
    responder = cast(_WithResponder, interaction.client).respond

    def work(account: Account) -> AdminView:
        return capacity.press(responder.service, account, command, confirmed=confirmed)

    done = await responder.attempt(interaction.user, work)
    if isinstance(done, Outgoing):
        await responder.privately(interaction, [done])
        return None
    return done


async def _show(interaction: discord.Interaction, view: AdminView) -> None:
    """The pressed message as `view`: its first page and buttons; any more pages follow."""
    first, *more = capacity.texts(view)
    await interaction.edit_original_response(content=first, view=buttons(view.actions))
    for text in more:
        await interaction.followup.send(ephemeral=True, content=text)
