"""Block Kit rendering of the core's replies, within Slack's documented limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.messages import Action, Reply

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

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's mrkdwn control characters, escaped as Slack asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
    if action.style == "danger":  # cancelling or ending a session: ask first
        element["confirm"] = {
            "title": {"type": "plain_text", "text": shorten(f"{action.label}?", 100)},
            "text": {"type": "plain_text",
                     "text": "A running container is backed up, stopped and removed; a booking "
                             "not yet started is cancelled."},
            "confirm": {"type": "plain_text", "text": shorten(action.label, 30)},
            "deny": {"type": "plain_text", "text": "Keep it"},
            "style": "danger",
        }
    return element


class BlockList:
    """Blocks for one message or view; numbers buttons so their ids stay unique."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
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
        for chunk in text_chunks(text if mrkdwn else escape(text)):
            if not self.add(section(chunk)):
                return

    def add_actions(self, actions: Sequence[Action]) -> None:
        for first in range(0, len(actions), MAX_ELEMENTS_PER_ACTIONS):
            elements = []
            for action in actions[first:first + MAX_ELEMENTS_PER_ACTIONS]:
                self._buttons += 1
                elements.append(button(action, self._buttons))
            if not self.add({"type": "actions", "elements": elements}):
                return

    def add_reply(self, reply: Reply) -> None:
        self.add_text(reply.text)
        if reply.actions:
            self.add_actions(reply.actions)


def reply_blocks(replies: Sequence[Reply], limit: int = MAX_MESSAGE_BLOCKS) -> list[Block]:
    blocks = BlockList(limit)
    for reply in replies:
        blocks.add_reply(reply)
    return blocks.blocks


def fallback_text(replies: Sequence[Reply]) -> str:
    """The notification text Slack shows where blocks cannot be shown."""
    return shorten("\n".join(reply.text for reply in replies), MAX_FALLBACK_TEXT)
