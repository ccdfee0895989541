"""Block Kit rendering of the core's replies, within Slack's documented limits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from core.chat.actions import Action
from core.chat.messages import HELP, Card, Reply
from core.chat.time_marks import split_times

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_ELEMENTS_PER_ACTIONS = 25
MAX_FALLBACK_TEXT = 4000

# Every button carries a command for the conversation engine; its action_id is
# this prefix and a number that keeps ids unique within one message or view.
COMMAND_ACTION = "booking_cmd"
# A booking's menu, where its buttons do not fit (one block per booking).
MENU_ACTION = "booking_menu"
# The "yes" of a question asked in a message (a menu entry cannot have its own dialog).
CONFIRMED_ACTION = "booking_yes"
# The App Home's button that opens the booking form.
OPEN_FORM_ACTION = "booking_form"
# Blocks that show one booking of several: the press's update redraws the list.
CARD_BLOCK = "card"
MAX_OVERFLOW_OPTIONS = 5
MAX_OPTION_VALUE = 150

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's mrkdwn control characters, escaped as Slack asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def date_token(moment: datetime) -> str:
    """A moment as Slack shows it to each reader in their own zone ("Today at 14:30");
    where Slack cannot, the fallback is in UTC, never an ambiguous abbreviation."""
    fallback = f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def marked(text: str, zone: tzinfo | None) -> str:
    """Plain text as mrkdwn: escaped, and the times the core wrote in `zone` (the
    member's) as date tokens; a window's arrow between two of them as one."""
    if zone is None:
        return escape(text)
    pieces = split_times(text, zone)
    out: list[str] = []
    for number, piece in enumerate(pieces):
        if isinstance(piece, datetime):
            out.append(date_token(piece))
        elif piece == " -> " and 0 < number < len(pieces) - 1:
            out.append(" → ")
        else:
            out.append(escape(piece))
    return "".join(out)


def has_time(text: str, zone: tzinfo | None) -> bool:
    return zone is not None and any(isinstance(p, datetime) for p in split_times(text, zone))


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The core sets off what to read or type on lines of their own, indented by two spaces
# and aligned in columns for a fixed-width terminal: `  password: abc`, `  ssh -p ...`,
# `  list       your bookings`. Slack's font is proportional, so such a line becomes
# a label and a value in code formatting (copied exactly), with no spaces to align.
_LABELLED = re.compile(r"^  (?P<label>[a-z][a-z ]{0,20}):\s+(?P<value>\S.*)$")
_COLUMNS = re.compile(r"^  (?P<what>\S.*?)(?:\s{2,}|\s(?=\())(?P<note>\S.*)$")


def _detail_line(line: str, zone: tzinfo | None) -> str:
    if not line.startswith("  ") or not line.strip():
        return marked(line, zone)
    if labelled := _LABELLED.match(line):
        value = labelled["value"]
        if has_time(value, zone):  # a time is read, not copied: a token, not code
            return f"{escape(labelled['label'])}: {marked(value, zone)}"
        return f"{escape(labelled['label'])}: `{escape(value)}`"
    if columns := _COLUMNS.match(line):
        return f"`{escape(columns['what'])}` {marked(columns['note'], zone)}"
    return f"`{escape(line.strip())}`"


def to_mrkdwn(text: str, zone: tzinfo | None = None) -> str:
    """The core's plain text as Slack mrkdwn: escaped, its detail lines in code, and the
    times it wrote in `zone` (the reader's own, when known) as date tokens."""
    return "\n".join(_detail_line(line, zone) for line in text.split("\n"))


def plain(text: str) -> str:
    """Text for a plain_text field (a hint, a field error), where Slack shows backticks
    as they are: `code` becomes “code”."""
    return re.sub(r"`([^`\n]*)`", r"“\1”", text)


def clip(text: str, limit: int) -> str:
    """`text` within `limit`, cut after its last whole sentence or clause that fits (or at
    a word), never in the middle of a word."""
    if len(text) <= limit:
        return text
    room = text[: limit - 1]
    ends = [room.rfind(mark) for mark in (". ", "; ", ": ")]
    if max(ends) > limit // 3:
        return room[: max(ends)] + "."
    space = room.rfind(" ")
    return (room[:space] if space > 0 else room).rstrip(",;:") + "…"


def text_chunks(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """`text` in pieces of at most `limit` characters, split at line ends where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current or " ")
    return chunks


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": shorten(text, 150)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": shorten(text, 3000)}]}


def button(action: Action, number: int) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": shorten(action.label, MAX_BUTTON_TEXT)},
        "action_id": f"{COMMAND_ACTION}:{number}",
        "value": action.command[:MAX_BUTTON_VALUE],
    }
    if action.style in ("primary", "danger"):
        element["style"] = action.style
    if action.confirm:  # every destructive verb asks first, whatever it looks like
        element["confirm"] = confirm_dialog(action)
    return element


def confirm_dialog(action: Action) -> Block:
    return {
        "title": {"type": "plain_text", "text": shorten(f"{action.label}?", 100)},
        "text": {"type": "plain_text", "text": shorten(action.confirm, 300)},
        "confirm": {"type": "plain_text", "text": shorten(action.label, 30)},
        "deny": {"type": "plain_text", "text": "Keep it"},
        "style": "danger",
    }


def overflow(actions: Sequence[Action], number: int) -> Block:
    """A booking's actions as one menu; a destructive entry is asked about in a message."""
    return {
        "type": "overflow", "action_id": f"{MENU_ACTION}:{number}",
        "options": [{"text": {"type": "plain_text", "text": shorten(a.label, MAX_BUTTON_TEXT)},
                     "value": a.command[:MAX_OPTION_VALUE]}
                    for a in actions[:MAX_OVERFLOW_OPTIONS]],
    }


def confirm_blocks(action: Action) -> list[Block]:
    """The question a menu entry asks before it acts, with its yes and no."""
    yes: Block = {"type": "button", "style": "danger", "action_id": f"{CONFIRMED_ACTION}:1",
                  "text": {"type": "plain_text", "text": shorten(f"Yes: {action.label}", 75)},
                  "value": action.command[:MAX_BUTTON_VALUE]}
    no: Block = {"type": "button", "action_id": f"{CONFIRMED_ACTION}:0", "value": "keep",
                 "text": {"type": "plain_text", "text": "Keep it"}}
    return [section(escape(action.confirm)), {"type": "actions", "elements": [yes, no]}]


class BlockList:
    """Blocks for one message or view; numbers buttons so their ids stay unique."""

    def __init__(self, limit: int, zone: tzinfo | None = None) -> None:
        self.limit = limit
        self.zone = zone  # the zone the core wrote the member's times in
        self.blocks: list[Block] = []
        self._buttons = 0

    @property
    def room(self) -> int:
        return self.limit - len(self.blocks)

    def add(self, block: Block) -> bool:
        # The last place is kept for the note that something was left out.
        if self.room <= 1:
            if self.room == 1 and self.blocks[-1].get("block_id") != "truncated":
                self.blocks.append({**context("More than fits here; `list` shows the rest."),
                                    "block_id": "truncated"})
            return False
        self.blocks.append(block)
        return True

    def add_text(self, text: str, *, mrkdwn: bool = False) -> None:
        """Plain text (escaped here), or `mrkdwn` the caller has already escaped."""
        for chunk in text_chunks(text if mrkdwn else to_mrkdwn(text, self.zone)):
            if not self.add(section(chunk)):
                return

    def add_actions(self, actions: Sequence[Action], block_id: str = "") -> None:
        for first in range(0, len(actions), MAX_ELEMENTS_PER_ACTIONS):
            elements = []
            for action in actions[first:first + MAX_ELEMENTS_PER_ACTIONS]:
                self._buttons += 1
                elements.append(button(action, self._buttons))
            block: Block = {"type": "actions", "elements": elements}
            if block_id:
                block["block_id"] = f"{block_id}:{first}"
            if not self.add(block):
                return

    def add_cards(self, cards: Sequence[Card]) -> None:
        """Each booking in its own section with its own buttons, named by booking; where
        they do not all fit, each booking's section carries a menu instead (one block)."""
        compact = 2 * len(cards) > self.room - 1
        for card in cards:
            block_id = f"{CARD_BLOCK}:{card.booking_id}"
            text = marked(card.text, self.zone)
            block = {**section(shorten(text, MAX_SECTION_TEXT)), "block_id": block_id}
            if compact and card.actions:
                self._buttons += 1
                block["accessory"] = overflow(card.actions, self._buttons)
            if not self.add(block):
                return
            if not compact and card.actions:
                self.add_actions(card.actions, f"{block_id}:actions")

    def add_reply(self, reply: Reply) -> None:
        self.add_text(reply.heading)
        if reply.cards:
            self.add_cards(reply.cards)
        if reply.actions:
            self.add_actions(reply.actions)


def _slash_command(line: str) -> str:
    """A help line's command as typed in Slack: `/book list`, `/book 1 gpu now 3-day`."""
    if not line.startswith("  ") or not line.strip():
        return line
    return "  /book " + line[2:].removeprefix("book ")


SLACK_HELP = "\n".join(map(_slash_command, HELP.split("\n"))) + (
    "\nIn our direct messages the same words work without `/book`.")


def for_slack(reply: Reply) -> Reply:
    """The core's reply as Slack shows it: help's commands with `/book` before them."""
    return replace(reply, text=reply.text.replace(HELP, SLACK_HELP)) if HELP in reply.text else reply


def reply_blocks(replies: Sequence[Reply], limit: int = MAX_MESSAGE_BLOCKS,
                 zone: tzinfo | None = None) -> list[Block]:
    """`zone`: the member's, whose times the replies write (shown as date tokens)."""
    blocks = BlockList(limit, zone)
    for reply in replies:
        blocks.add_reply(for_slack(reply))
    return blocks.blocks


def fallback_text(replies: Sequence[Reply], zone: tzinfo | None = None) -> str:
    """The notification text Slack shows where blocks cannot be shown (mrkdwn: escaped,
    the member's times as date tokens)."""
    text = "\n".join(for_slack(reply).text for reply in replies)
    return shorten(marked(text, zone), MAX_FALLBACK_TEXT)
