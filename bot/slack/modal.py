"""The `/book` modal: its view, and reading a submission without the database.

The member's zone and maxima travel in the view's private metadata, so a
submission is checked field by field inside Slack's three seconds even while
the database is busy; the booking itself is made after the acknowledgement.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from bot.slack.blocks import Block, clip, marked, plain, shorten
from core.chat.actions import seed_time
from core.chat.conversation import ConversationEngine
from core.chat.window_free import free_for_window
from core.domain.model import Account, Refusal, Resources
from core.services.booking import BookingService
from core.services.capacity import BookingRequest

CALLBACK_ID = "book_modal"
# The context block that says what is free for the window chosen so far.
FREE_BLOCK = "free"
_VALUE = "value"
FORM_FIELD = _VALUE  # the action_id of every field; a change redraws what is free
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


def _number_input(block_id: str, label: str, initial: float, lowest: int, highest: float,
                  decimal: bool) -> Block:
    """A number Slack itself keeps between the member's minimum and maximum."""
    initial = min(max(initial, lowest), max(highest, lowest))  # what Slack would accept back
    text = f"{initial:g}" if decimal else str(int(initial))
    return {
        "type": "input", "block_id": block_id, "dispatch_action": True,
        "label": {"type": "plain_text", "text": label},
        "hint": {"type": "plain_text", "text": f"Your maximum: {highest:g}"},
        "element": {"type": "number_input", "action_id": _VALUE, "is_decimal_allowed": decimal,
                    "initial_value": text, "min_value": str(lowest),
                    "max_value": f"{max(highest, lowest):g}",
                    "dispatch_action_config": {"trigger_actions_on": ["on_character_entered"]}},
    }


def _text_input(block_id: str, label: str, hint: str, *, initial: str = "",
                optional: bool = False) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": _VALUE}
    if initial:
        element["initial_value"] = initial
    return {"type": "input", "block_id": block_id, "optional": optional,
            "label": {"type": "plain_text", "text": label},
            "hint": {"type": "plain_text", "text": clip(plain(hint), 2000)}, "element": element}


def _picker(block_id: str, label: str, hint: str, initial: int | None) -> Block:
    element: Block = {"type": "datetimepicker", "action_id": _VALUE}
    if initial is not None:
        element["initial_date_time"] = initial
    return {"type": "input", "block_id": block_id, "optional": True, "dispatch_action": True,
            "label": {"type": "plain_text", "text": label},
            "hint": {"type": "plain_text", "text": hint}, "element": element}


def _option(text: str, value: str) -> Block:
    return {"text": {"type": "plain_text", "text": shorten(text, 75)}, "value": value[:150]}


def _select(block_id: str, label: str, options: list[Block], chosen: str) -> Block:
    initial = next((o for o in options if o["value"] == chosen), options[0])
    return {"type": "input", "block_id": block_id, "dispatch_action": True,
            "label": {"type": "plain_text", "text": label},
            "element": {"type": "static_select", "action_id": _VALUE, "options": options,
                        "initial_option": initial}}


def notice_modal(text: str) -> dict[str, Any]:
    """The modal with one message and no form: opened at once while the form is made
    (a trigger lasts three seconds), or what the member is told instead of the form."""
    return {"type": "modal", "title": _TITLE, "close": {"type": "plain_text", "text": "Close"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": shorten(text, 3000)}}]}


LOADING = notice_modal("Looking up your limits and images…")

UNTIL = "until"


def length_options(max_days: int) -> list[Block]:
    """How long, as the core reads it from the start; "until" for an end of one's own."""
    lengths = [(f"{n} day{'s' if n > 1 else ''}", f"{n}-day") for n in (1, 2, 3, 5) if n <= max_days]
    lengths += [(f"{n} week{'s' if n > 1 else ''}", f"{n}-week") for n in (1, 2) if 7 * n <= max_days]
    return [_option(text, value) for text, value in lengths] + [
        _option("Until the end chosen below", UNTIL)]


@dataclass(frozen=True)
class FormValues:
    """What the form shows: its defaults, or what the member submitted."""

    resources: Resources
    image: str
    start: int | None = None  # a moment (Unix seconds); None: now
    length: str = "1-day"
    until: int | None = None
    command: str = ""
    server: str = ""  # a pool's server chosen; "": any server


ANY_SERVER = "any"  # the server menu's first entry (a pool): placed where it fits


def _server_block(service: BookingService, chosen: str) -> list[Block]:
    """A pool's server menu ("Any server" first); nothing for one server."""
    names = service.config.server_names
    if len(names) < 2:
        return []
    options = [_option("Any server", ANY_SERVER)] + [_option(n, n) for n in names[:99]]
    return [_select("server", "Server", options, chosen if chosen in names else ANY_SERVER)]


def booking_modal(
    service: BookingService, engine: ConversationEngine, account: Account,
    values: FormValues | None = None, notice: list[Block] | None = None,
) -> dict[str, Any]:
    """The form, filled with `values` (the member's defaults when None); `notice` on top
    (why it was not booked, and the offer)."""
    maximum = service.limits_of(account)
    images = service.config.images
    default_image = account.image if account.image in images.allowed else images.default
    values = values or FormValues(engine.default_resources(account), default_image)
    options = [_option(name, name) for name in images.allowed[:100]]
    meta = ModalMeta(account.name, account.timezone, maximum)
    slot = service.config.booking.slot_minutes
    blocks: list[Block] = list(notice or [])
    blocks += [
        _number_input("cpus", "CPUs", values.resources.cpus, 1, maximum.cpus, True),
        _number_input("memory", "Memory (GB, RAM + swap)", values.resources.memory, 1,
                      maximum.memory, False),
        _number_input("gpus", "GPUs", values.resources.gpus, 0, maximum.gpus, False),
        *_server_block(service, values.server),
        _picker("start", "Start", f"Leave it empty to start now; starts go in steps of {slot} "
                "minutes.", values.start),
        _select("length", "How long", length_options(service.config.booking.max_days),
                values.length),
        _picker("until", "Until", "Only with “Until the end chosen below”.", values.until),
        _select("image", "Image", options, values.image),
        _text_input("command", "Extra command", "Run in the container, e.g. jupyter lab.",
                    initial=values.command, optional=True),
        free_block(service, account, values),
    ]
    return {
        "type": "modal", "callback_id": CALLBACK_ID, "private_metadata": meta.dumps(),
        "title": _TITLE,
        "submit": {"type": "plain_text", "text": "Book"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def field_error(message: str) -> str:
    """A refusal as a field's error: plain text, and within Slack's 150 characters."""
    return clip(plain(message), MAX_FIELD_ERROR)


def _field(values: dict[str, Any], block_id: str) -> str:
    element = values.get(block_id, {}).get(_VALUE, {})
    if element.get("type") == "static_select":
        return str((element.get("selected_option") or {}).get("value") or "")
    if element.get("type") == "datetimepicker":
        return str(element.get("selected_date_time") or "")
    return str(element.get("value") or "").strip()


def _moment(values: dict[str, Any], block_id: str) -> datetime | None:
    """A picker's moment; None for none, or for what no picker sends (not a time at all)."""
    chosen = _field(values, block_id)
    try:
        return datetime.fromtimestamp(int(chosen), UTC) if chosen.isdecimal() else None
    except (ValueError, OverflowError, OSError):
        return None


def form_values(view: dict[str, Any]) -> FormValues:
    """What the form holds now (fields left empty or unreadable as the defaults)."""
    values = view["state"]["values"]

    def number(key: str, default: float) -> float:
        try:
            found = float(_field(values, key))
        except ValueError:
            return default
        return found if math.isfinite(found) else default
    start, until = _moment(values, "start"), _moment(values, "until")
    return FormValues(
        Resources(number("cpus", 1), int(number("memory", 1)), int(number("gpus", 0))),
        _field(values, "image"), int(start.timestamp()) if start else None,
        _field(values, "length") or "1-day", int(until.timestamp()) if until else None,
        _field(values, "command"), _chosen_server(values))


def _chosen_server(values: dict[str, Any]) -> str:
    chosen = _field(values, "server")
    return "" if chosen == ANY_SERVER else chosen


def window_texts(zone: tzinfo, values: dict[str, Any]) -> tuple[str, str]:
    """The start and end as the core reads them: the pickers' moments in the old CLI's
    form in the member's zone, "now" for no start, a length counted from the start."""
    start, until = _moment(values, "start"), _moment(values, "until")
    start_text = seed_time(start, zone) if start else "now"
    length = _field(values, "length")
    if until is not None and length in (UNTIL, ""):
        return start_text, seed_time(until, zone)
    return start_text, length if length != UNTIL else ""


def free_block(service: BookingService, account: Account, values: FormValues) -> Block:
    """What is free for the window chosen so far; redrawn as the form changes."""
    zone = service.zone_of(account)
    start = datetime.fromtimestamp(values.start, UTC) if values.start else None
    end: datetime | str = values.length
    if values.length == UNTIL:
        end = datetime.fromtimestamp(values.until, UTC) if values.until else "1-day"
    words = free_for_window(service, start, end, values.resources, zone, values.server)
    return {"type": "context", "block_id": FREE_BLOCK,
            "elements": [{"type": "mrkdwn", "text": shorten(marked(words, zone), 3000)}]}


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
            number = math.nan
        if not math.isfinite(number):
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
    start, end = window_texts(service.zone_of(member), values)
    try:
        service.parse_start(member, start)
        if not end:
            errors["until"] = "Choose when it should end, or a length above."
        else:
            try:
                service.parse_window(member, start, end)
            except Refusal as refusal:
                errors["until" if _moment(values, "until") else "length"] = field_error(
                    refusal.message)
    except Refusal as refusal:
        errors["start"] = field_error(refusal.message)
    image = _field(values, "image")
    if image not in service.config.images.allowed:
        errors["image"] = "Choose one of the listed images."
    server = _chosen_server(values)
    if server and server not in service.config.server_names:
        errors["server"] = "Choose one of the listed servers."
    if errors:
        return None, errors
    request = BookingRequest(
        user=meta.account,
        resources=Resources(numbers["cpus"], int(numbers["memory"]), int(numbers["gpus"])),
        start=start, end=end, image=image, command=_field(values, "command") or None,
        server=server or None,
    )
    return request, {}
