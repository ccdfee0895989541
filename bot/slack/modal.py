"""The `/book` modal: its view, and reading a submission without the database.

The member's zone and maxima travel in the view's private metadata, so a
submission is checked field by field inside Slack's three seconds even while
the database is busy; the booking itself is made after the acknowledgement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.slack.blocks import Block, clip, plain, shorten
from core.chat.conversation import ConversationEngine
from core.domain.model import Account, Refusal, Resources
from core.domain.time_tokens import FORMATS_HELP
from core.services.booking import BookingService
from core.services.capacity import BookingRequest

CALLBACK_ID = "book_modal"
_VALUE = "value"
MAX_FIELD_ERROR = 150
_TITLE = {"type": "plain_text", "text": "Book a server"}


@dataclass(frozen=True)
class ModalMeta:
    account: str
    timezone: str | None
    maximum: Resources

    def dumps(self) -> str:
        m = self.maximum
        return json.dumps({"account": self.account, "tz": self.timezone,
                           "max": [m.cpus, m.memory, m.gpus]})

    @classmethod
    def loads(cls, text: str) -> ModalMeta:
        data = json.loads(text)
        cpus, memory, gpus = data["max"]
        return cls(data["account"], data["tz"], Resources(float(cpus), int(memory), int(gpus)))


def _number_input(block_id: str, label: str, hint: str, initial: str, decimal: bool) -> Block:
    return {
        "type": "input", "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "hint": {"type": "plain_text", "text": plain(hint)},
        "element": {"type": "number_input", "action_id": _VALUE, "is_decimal_allowed": decimal,
                    "initial_value": initial, "min_value": "0"},
    }


def _text_input(block_id: str, label: str, hint: str, *, initial: str = "",
                optional: bool = False) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": _VALUE}
    if initial:
        element["initial_value"] = initial
    return {"type": "input", "block_id": block_id, "optional": optional,
            "label": {"type": "plain_text", "text": label},
            "hint": {"type": "plain_text", "text": clip(plain(hint), 2000)}, "element": element}


def notice_modal(text: str) -> dict[str, Any]:
    """The modal with one message and no form: opened at once while the form is made
    (a trigger lasts three seconds), or what the member is told instead of the form."""
    return {"type": "modal", "title": _TITLE, "close": {"type": "plain_text", "text": "Close"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": shorten(text, 3000)}}]}


LOADING = notice_modal("Looking up your limits and images…")


def booking_modal(
    service: BookingService, engine: ConversationEngine, account: Account
) -> dict[str, Any]:
    maximum = service.limits_of(account)
    initial_request = engine.default_resources(account)  # the core's default, capped
    images = service.config.images
    default_image = account.image if account.image in images.allowed else images.default
    options = [{"text": {"type": "plain_text", "text": shorten(name, 75)}, "value": name[:150]}
               for name in images.allowed[:100]]
    initial = next((o for o in options if o["value"] == default_image), options[0])
    meta = ModalMeta(account.name, account.timezone, maximum)
    return {
        "type": "modal", "callback_id": CALLBACK_ID, "private_metadata": meta.dumps(),
        "title": _TITLE,
        "submit": {"type": "plain_text", "text": "Book"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _number_input("cpus", "CPUs", f"Your maximum: {maximum.cpus:g}",
                          f"{initial_request.cpus:g}", True),
            _number_input("memory", "Memory (GB, RAM + swap)", f"Your maximum: {maximum.memory}",
                          str(int(initial_request.memory)), False),
            _number_input("gpus", "GPUs", f"Your maximum: {maximum.gpus}",
                          str(int(initial_request.gpus)), False),
            _text_input("start", "Start", f"{FORMATS_HELP}.", initial="now"),
            _text_input("end", "End", "3-day, 1-week (counted from the start), or a date.",
                        initial="1-day"),
            {"type": "input", "block_id": "image", "label": {"type": "plain_text", "text": "Image"},
             "element": {"type": "static_select", "action_id": _VALUE, "options": options,
                         "initial_option": initial}},
            _text_input("command", "Extra command", "Run in the container, e.g. jupyter lab.",
                        optional=True),
        ],
    }


def field_error(message: str) -> str:
    """A refusal as a field's error: plain text, and within Slack's 150 characters."""
    return clip(plain(message), MAX_FIELD_ERROR)


def _field(values: dict[str, Any], block_id: str) -> str:
    element = values.get(block_id, {}).get(_VALUE, {})
    if element.get("type") == "static_select":
        return str((element.get("selected_option") or {}).get("value") or "")
    return str(element.get("value") or "").strip()


def read_submission(
    service: BookingService, view: dict[str, Any]
) -> tuple[BookingRequest | None, dict[str, str]]:
    """The request a submission asks for, or the errors to show on its fields."""
    meta = ModalMeta.loads(view["private_metadata"])
    values = view["state"]["values"]
    errors: dict[str, str] = {}
    numbers: dict[str, float] = {}
    for key, whole, maximum in (("cpus", False, meta.maximum.cpus),
                                ("memory", True, meta.maximum.memory),
                                ("gpus", True, meta.maximum.gpus)):
        text = _field(values, key)
        try:
            number = float(text)
        except ValueError:
            errors[key] = "Enter a number."
            continue
        lowest = 0 if key == "gpus" else 1
        if whole and not number.is_integer():
            errors[key] = "Enter a whole number."
        elif number < lowest:
            errors[key] = f"At least {lowest}."
        elif number > maximum:
            errors[key] = f"Your maximum is {maximum:g}."
        numbers[key] = number
    member = Account(name=meta.account, timezone=meta.timezone)
    start, end = _field(values, "start"), _field(values, "end")
    try:
        service.parse_start(member, start)
        try:
            service.parse_window(member, start, end)
        except Refusal as refusal:
            errors["end"] = field_error(refusal.message)
    except Refusal as refusal:
        errors["start"] = field_error(refusal.message)
    image = _field(values, "image")
    if image not in service.config.images.allowed:
        errors["image"] = "Choose one of the listed images."
    if errors:
        return None, errors
    request = BookingRequest(
        user=meta.account,
        resources=Resources(numbers["cpus"], int(numbers["memory"]), int(numbers["gpus"])),
        start=start, end=end, image=image, command=_field(values, "command") or None,
    )
    return request, {}
