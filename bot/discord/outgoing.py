"""What the bot sends back, and the buttons that come with it.

Every button carries its whole meaning in its custom id, as discord.py's
dynamic items read it (examples/views/dynamic_counter.py), so buttons keep
working after a restart. `<where>` says what the message shows, so a press can
redraw it: `B` one booking (or an offer), `L<page>` a page of the member's list.
- `bk:<where>:<command>` presses an action (`cancel 12`, `extend 12 to ...`,
  `login 12`, an offer's `book ...`); the core's `parse_press` says whether it
  asks first. Older messages' `bk:<command>` still work, as `B`.
- `bk-msg:<where>:<n>`: the same for a command too long for a custom id; the
  command is kept in the message itself, in the footer of its embed `n`.
- `bk-sure:<where>:<command>` is "Yes" to the question a destructive action asks;
  `bk-keep:<where>:<booking>` is "No": the message is drawn again as it is now.
- `bk-page:<page>` shows another page of the member's bookings.
Older messages' `bk-sure:<command>` still confirm; their `bk-offer:<key>` (offers
that lived in memory) answer that the offer expired.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any, Protocol, cast

import discord

from bot.discord.render import LABEL_LIMIT, LoginCard, clip, fenced, login_card, stamped
from core.chat.actions import Action, Card, parse_press
from core.chat.messages import Reply

CUSTOM_ID_LIMIT = 100
ROWS_PER_MESSAGE = 5
BUTTONS_PER_ROW = 5
EMBEDS_PER_MESSAGE = 10
QUESTION_MARK = "\n\n❓ "  # starts the question appended to a message while it asks first

_STYLES = {"primary": discord.ButtonStyle.primary, "danger": discord.ButtonStyle.danger}
_WHERE = r"(?P<where>B|L\d{1,4})"


@dataclass(frozen=True)
class Outgoing:
    text: str
    actions: tuple[Action, ...] = ()
    cards: tuple[Card, ...] = ()
    private: bool = False
    file: tuple[str, bytes] | None = None  # (file name, content)
    # Asked before anything is done: (the action's command, the question); drawn as the
    # text with the question and Yes/No buttons, as a pressed destructive button asks.
    asks: tuple[str, str] | None = None
    login: LoginCard | None = None  # a login's lines, drawn as an embed

    @classmethod
    def from_reply(cls, reply: Reply) -> Outgoing:
        return cls(reply.text, reply.actions, reply.cards, reply.private)

    def in_zone(self, zone: tzinfo) -> Outgoing:
        """As Discord shows it: the member's times (written in `zone`) as timestamps, cards
        too, a login as its own card, and the other indented lines as code."""
        text, login = login_card(stamped(self.text, zone))
        return replace(self, text=fenced(text), login=login or self.login, cards=tuple(
            replace(card, text=stamped(card.text, zone)) for card in self.cards))


class ButtonHandlers(Protocol):
    """What the client does when a button is pressed."""

    async def on_press(
        self, interaction: discord.Interaction, where: str, command: str, *, confirmed: bool
    ) -> None: ...

    async def on_keep(self, interaction: discord.Interaction, where: str, booking_id: int) -> None: ...

    async def on_page(self, interaction: discord.Interaction, page: int) -> None: ...


def _handlers(interaction: discord.Interaction) -> ButtonHandlers:
    return cast(ButtonHandlers, interaction.client)


def _button(label: str, custom_id: str, style: str = "") -> discord.ui.Button[Any]:
    return discord.ui.Button(
        label=clip(label, LABEL_LIMIT), custom_id=custom_id,
        style=_STYLES.get(style, discord.ButtonStyle.secondary),
    )


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"bk:(?:" + _WHERE + r":)?(?P<command>.{1,97})",
):
    def __init__(self, where: str, command: str, label: str = "", style: str = "") -> None:
        super().__init__(_button(label or command, f"bk:{where}:{command}", style))
        self.where, self.command = where, command

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ActionButton:
        return cls(match["where"] or "B", match["command"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await press(interaction, self.where, self.command)


class KeptActionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"bk-msg:" + _WHERE + r":(?P<n>\d)"
):
    """An action whose command is kept in the message (an offer with a long extra command)."""

    def __init__(self, where: str, index: int, label: str = "", style: str = "") -> None:
        super().__init__(_button(label or "Go", f"bk-msg:{where}:{index}", style))
        self.where, self.index = where, index

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> KeptActionButton:
        return cls(match["where"], int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        embeds = interaction.message.embeds if interaction.message else []
        command = embeds[self.index].footer.text if self.index < len(embeds) else None
        if not command:
            await interaction.response.send_message(
                "This button has lost what it does; ask again.", ephemeral=True)
            return
        await press(interaction, self.where, command)


async def press(interaction: discord.Interaction, where: str, command: str) -> None:
    """A press: an action that must be confirmed asks first, in place; the others act."""
    question = parse_press(command).confirm
    if not question:
        await _handlers(interaction).on_press(interaction, where, command, confirmed=False)
        return
    await interaction.response.edit_message(**asking(interaction.message, where, command, question))


class ConfirmButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"bk-sure:(?:" + _WHERE + r":)?(?P<command>.{1,90})",
):
    """"Yes" to the question: only now does a destructive action act."""

    def __init__(self, where: str, command: str) -> None:
        label = parse_press(command).label
        super().__init__(_button(f"Yes, {label[:1].lower()}{label[1:]}",
                                 f"bk-sure:{where}:{command}", "danger"))
        self.where, self.command = where, command

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ConfirmButton:
        return cls(match["where"] or "B", match["command"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _handlers(interaction).on_press(interaction, self.where, self.command, confirmed=True)


class KeepButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"bk-keep:" + _WHERE + r":(?P<booking>\d{1,18})",
):
    """"No": nothing happens, and the message shows its booking as it is now."""

    def __init__(self, where: str, booking_id: int) -> None:
        super().__init__(_button("No, keep it", f"bk-keep:{where}:{booking_id}"))
        self.where, self.booking_id = where, booking_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> KeepButton:
        return cls(match["where"], int(match["booking"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _handlers(interaction).on_keep(interaction, self.where, self.booking_id)


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"bk-page:(?P<page>\d{1,4})"
):
    def __init__(self, page: int, label: str = "") -> None:
        super().__init__(_button(label or f"Page {page + 1}", f"bk-page:{page}"))
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PageButton:
        return cls(int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _handlers(interaction).on_page(interaction, self.page)


class ExpiredOfferButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"bk-offer:(?P<key>[0-9a-f]{12})"
):
    """An offer sent before offers carried their request (they were kept in memory)."""

    def __init__(self, key: str) -> None:
        super().__init__(_button("Book", f"bk-offer:{key}"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ExpiredOfferButton:
        return cls(match["key"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "That offer has expired; run `/schedule book` again.", ephemeral=True)


DYNAMIC_ITEMS = (ActionButton, KeptActionButton, ConfirmButton, KeepButton, PageButton,
                 ExpiredOfferButton)


# ----- drawing a message ------------------------------------------------------


@dataclass
class Drawn:
    """One message: its text, rows of buttons and the embeds that keep long commands."""

    content: str
    rows: list[list[discord.ui.Item[Any]]]
    embeds: list[discord.Embed]

    def view(self) -> discord.ui.View | None:
        if not any(self.rows):
            return None
        view = discord.ui.View(timeout=None)
        for number, row in enumerate(self.rows):
            for item in row:
                item.row = number
                view.add_item(item)
        return view


def _action_rows(actions: Sequence[Action], where: str, embeds: list[discord.Embed]) -> list[
    list[discord.ui.Item[Any]]
]:
    """The actions as buttons, five to a row; a long command is kept in an embed."""
    buttons: list[discord.ui.Item[Any]] = []
    for action in actions:
        if len(f"bk:{where}:{action.command}") <= CUSTOM_ID_LIMIT:
            buttons.append(ActionButton(where, action.command, action.label, action.style))
        elif len(embeds) < EMBEDS_PER_MESSAGE:
            embed = discord.Embed(description=action.label)
            embed.set_footer(text=action.command)
            buttons.append(KeptActionButton(where, len(embeds), action.label, action.style))
            embeds.append(embed)
    return [buttons[i:i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]


def _by_booking(actions: Sequence[Action]) -> list[list[Action]]:
    """Actions grouped by the booking they name (in order), so each booking has its own row."""
    groups: dict[int | None, list[Action]] = {}
    for action in actions:
        groups.setdefault(action.booking_id, []).append(action)
    return list(groups.values())


def card_pages(cards: Sequence[Card]) -> list[list[Card]]:
    """Cards split into pages that fit Discord's five rows (one row kept for paging)."""
    def rows(card: Card) -> int:
        return -(-len(card.actions) // BUTTONS_PER_ROW)

    if sum(rows(c) for c in cards) <= ROWS_PER_MESSAGE:
        return [list(cards)]
    pages: list[list[Card]] = [[]]
    used = 0
    for card in cards:
        if pages[-1] and used + rows(card) > ROWS_PER_MESSAGE - 1:
            pages.append([])
            used = 0
        pages[-1].append(card)
        used += rows(card)
    return pages


def _lead(out: Outgoing) -> str:
    """The reply's text without the cards' own lines (the cards are drawn with their buttons)."""
    card_lines = {c.text for c in out.cards}
    return "\n".join(line for line in out.text.splitlines() if line not in card_lines).rstrip()


def draw(out: Outgoing, page: int = 0) -> list[Drawn]:
    """`out` as Discord messages: the first answers, any more carry buttons that did not fit.

    A reply with cards is drawn as one page of them, each card's line with its own row of
    buttons; the other pages are a press away. Nothing is dropped."""
    if out.cards:
        return [_draw_page(out, page)]
    if out.asks is not None:
        return [_asking("B", out.text, *out.asks)]
    embeds: list[discord.Embed] = []
    rows = [r for group in _by_booking(out.actions) for r in _action_rows(group, "B", embeds)]
    if out.login is not None:  # after the embeds kept buttons count on
        embeds.append(out.login.embed())
    drawn = [Drawn(clip(out.text), rows[:ROWS_PER_MESSAGE], embeds)]
    for start in range(ROWS_PER_MESSAGE, len(rows), ROWS_PER_MESSAGE):
        drawn.append(Drawn("More buttons for the message above:",
                           rows[start:start + ROWS_PER_MESSAGE], []))
    return drawn


def _draw_page(out: Outgoing, page: int) -> Drawn:
    pages = card_pages(out.cards)
    page = max(0, min(page, len(pages) - 1))
    shown = pages[page]
    where = f"L{page}"
    embeds: list[discord.Embed] = []
    rows: list[list[discord.ui.Item[Any]]] = []
    for card in shown:
        rows += _action_rows(card.actions, where, embeds)
    lines = [_lead(out), *(c.text for c in shown)]
    if len(pages) > 1:
        first = sum(len(p) for p in pages[:page]) + 1
        total = len(out.cards)
        lines.append(f"Bookings {first}-{first + len(shown) - 1} of {total}.")
        nav: list[discord.ui.Item[Any]] = []
        if page > 0:
            before = sum(len(p) for p in pages[:page - 1]) + 1
            nav.append(PageButton(page - 1, f"◀ Bookings {before}-{first - 1}"))
        if page < len(pages) - 1:
            after = first + len(shown)
            nav.append(PageButton(page + 1, f"Bookings {after}-{after + len(pages[page + 1]) - 1} ▶"))
        rows.append(nav)
    return Drawn(clip("\n".join(line for line in lines if line)), rows, embeds)


def message_kwargs(drawn: Drawn) -> dict[str, Any]:
    """Keyword arguments for `send`/`followup.send` (discord.py wants them absent, not None)."""
    kwargs: dict[str, Any] = {"content": drawn.content}
    view = drawn.view()
    if view is not None:
        kwargs["view"] = view
    if drawn.embeds:
        kwargs["embeds"] = drawn.embeds
    return kwargs


def sendable(out: Outgoing, page: int = 0) -> list[dict[str, Any]]:
    """Every message `out` needs, as keyword arguments for sending."""
    messages = [message_kwargs(d) for d in draw(out, page)]
    if out.file is not None:
        name, data = out.file
        messages[0]["file"] = discord.File(io.BytesIO(data), filename=name)
    return messages


def edit_kwargs(drawn: Drawn) -> dict[str, Any]:
    """Keyword arguments that replace a message's text, buttons and embeds with `drawn`'s."""
    return {"content": drawn.content, "view": drawn.view(), "embeds": drawn.embeds}


def asking(
    message: discord.Message | None, where: str, command: str, question: str
) -> dict[str, Any]:
    """The pressed message asking `question` in place of its buttons: Yes or No."""
    return edit_kwargs(_asking(where, unasked(message.content if message else ""), command,
                               question))


def _asking(where: str, base: str, command: str, question: str) -> Drawn:
    booking = parse_press(command).booking_id or 0
    buttons: list[discord.ui.Item[Any]] = [ConfirmButton(where, command), KeepButton(where, booking)]
    text = clip(base, 2000 - len(QUESTION_MARK) - len(question)) + QUESTION_MARK + question
    return Drawn(text, [buttons], [])


def unasked(content: str) -> str:
    """A message's text without the question it was asking."""
    return content.split(QUESTION_MARK, 1)[0]
