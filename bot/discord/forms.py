"""Discord modals: a booking form (as Slack's) and a field to paste an SSH key.

A modal's answer goes through the same path as the slash command it stands for:
the booking form to the conversation engine's `book` (as `/schedule book` with
options), the key to its `key` verb (as typed in a direct message).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import discord

from bot.discord.interact import Responder
from bot.discord.outgoing import Outgoing
from core.chat.booking_requests import FormRequest
from core.chat.conversation import ConversationEngine
from core.chat.messages import describe_resources
from core.domain.model import Account, ErrorCode, Refusal, Resources
from core.domain.request_line import RequestTextError
from core.domain.resource_words import parse_resources

TIMEOUT_SECONDS = 30 * 60  # a form left open this long is forgotten; Discord says it failed
RESOURCES_EXAMPLE = "1 gpu 8 cpus 32g"
AGAIN = "Nothing was booked; `/schedule book` opens the form again."


def _field(label: str, default: str | None, *, required: bool = False, placeholder: str = "",
           long: bool = False, max_length: int = 100) -> discord.ui.TextInput[Any]:
    return discord.ui.TextInput(
        label=label, default=default or None, required=required, max_length=max_length,
        placeholder=placeholder or None,
        style=discord.TextStyle.paragraph if long else discord.TextStyle.short,
    )


def resources_text(cpus: float | None, memory: int | None, gpus: int | None) -> str:
    """Slash options as the form's resources field writes them."""
    words = [f"{gpus} gpu{'s' if gpus != 1 else ''}" if gpus is not None else "",
             f"{cpus:g} cpus" if cpus is not None else "",
             f"{memory}g" if memory is not None else ""]
    return " ".join(w for w in words if w)


def form_request(resources: str, start: str, length: str, image: str,
                 command: str) -> FormRequest:
    """The form's fields as the request `/schedule book` makes; a resources field with
    anything but resources in it is refused, saying what works."""
    try:
        parsed, rest = parse_resources(resources.strip())
    except RequestTextError as exc:
        raise Refusal(ErrorCode.BAD_INPUT, f"Resources: {exc}. {AGAIN}") from None
    if rest.strip():
        raise Refusal(ErrorCode.BAD_INPUT, f"Resources: I did not understand `{rest.strip()[:60]}`; "
                      f"write them as `{RESOURCES_EXAMPLE}`, or leave the field empty for "
                      f"the default. {AGAIN}")
    return FormRequest(
        start=start.strip() or "now", end=length.strip(), cpus=parsed.cpus,
        memory=parsed.memory, gpus=parsed.gpus,
        image=image.strip() or None, command=command.strip() or None,
    )


class BookingForm(discord.ui.Modal, title="Book CPUs, memory and GPUs"):
    def __init__(self, engine: ConversationEngine, respond: Responder, form: FormRequest,
                 default: Resources) -> None:
        super().__init__(timeout=TIMEOUT_SECONDS)
        self.engine, self.respond = engine, respond
        self.server = form.server  # a pool's server named in `/schedule book`
        self.resources = _field(
            "Resources", resources_text(form.cpus, form.memory, form.gpus),
            placeholder=f"e.g. {RESOURCES_EXAMPLE}; empty: {describe_resources(default)} (default)")
        self.start = _field("Start", form.start or "now", required=True,
                            placeholder="now, tomorrow 9am, 2026 12 24 09 00")
        self.length = _field("End or length", form.end or "1-day", required=True,
                             placeholder="1-day, 3-day, 1-week, or a date and time")
        self.image = _field("Image", form.image, placeholder="empty: yours or the server's")
        self.command = _field("Extra command", form.command, long=True, max_length=1000,
                              placeholder="run in the container, e.g. jupyter lab")
        for item in (self.resources, self.start, self.length, self.image, self.command):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        def work(account: Account) -> list[Outgoing]:
            form = replace(form_request(self.resources.value, self.start.value,
                                        self.length.value, self.image.value,
                                        self.command.value), server=self.server)
            return [Outgoing.from_reply(r) for r in self.engine.book(account, form)]
        await self.respond(interaction, work)


def strip_key(pasted: str) -> str:
    """A pasted key without the backticks or code block a chat copy brings along."""
    text = pasted.strip().strip("`").strip()
    first, _, rest = text.partition("\n")
    if rest and " " not in first.strip():  # a code block's language: ```text
        text = rest
    return " ".join(text.strip("`").split())


class KeyForm(discord.ui.Modal, title="Add an SSH public key"):
    def __init__(self, said: Callable[[Account, str], list[Outgoing]], respond: Responder) -> None:
        super().__init__(timeout=TIMEOUT_SECONDS)
        self.said, self.respond = said, respond
        self.key = _field("Public key (one line from ~/.ssh/id_*.pub)", None, required=True,
                          long=True, max_length=4000,
                          placeholder="ssh-ed25519 AAAA... me@laptop")
        self.add_item(self.key)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        key = strip_key(self.key.value)
        await self.respond(interaction, lambda account: self.said(account, f"key {key}"))
