"""Slack's documented Block Kit limits, checked on what the app sends."""

from __future__ import annotations

from typing import Any

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}


class BlockKitError(AssertionError):
    pass


def check_blocks(blocks: list[dict[str, Any]], surface: str = "message") -> None:
    if len(blocks) > MAX_BLOCKS[surface]:
        raise BlockKitError(f"{len(blocks)} blocks in a {surface}; at most {MAX_BLOCKS[surface]}")
    action_ids: list[str] = []
    for block in blocks:
        kind = block["type"]
        if kind == "section":
            text = block["text"]["text"]
            if not 1 <= len(text) <= 3000:
                raise BlockKitError(f"section text of {len(text)} characters")
            menu = block.get("accessory")
            if menu and menu["type"] == "overflow":
                if not 1 <= len(menu["options"]) <= 5:
                    raise BlockKitError(f"{len(menu['options'])} options in an overflow menu")
                for option in menu["options"]:
                    if len(option["text"]["text"]) > 75 or len(option["value"]) > 150:
                        raise BlockKitError(f"overflow option {option!r} too long")
                action_ids.append(menu["action_id"])
        if kind == "header" and len(block["text"]["text"]) > 150:
            raise BlockKitError("header text over 150 characters")
        if kind == "actions":
            if not 1 <= len(block["elements"]) <= 25:
                raise BlockKitError(f"{len(block['elements'])} elements in an actions block")
            for element in block["elements"]:
                if element["type"] == "button":
                    if len(element["text"]["text"]) > 75:
                        raise BlockKitError(f"button text {element['text']['text']!r} over 75")
                    if len(element.get("value", "")) > 2000:
                        raise BlockKitError("button value over 2000 characters")
                    if element.get("style") not in (None, "primary", "danger"):
                        raise BlockKitError(f"button style {element['style']!r}")
                action_ids.append(element["action_id"])
        if kind == "input":
            check_input(block)
            action_ids.append(block["element"]["action_id"])
        if kind == "context":
            if not 1 <= len(block["elements"]) <= 10:
                raise BlockKitError(f"{len(block['elements'])} elements in a context block")
            for part in block["elements"]:
                if part["type"] in ("mrkdwn", "plain_text") and not 1 <= len(part["text"]) <= 3000:
                    raise BlockKitError("context text over 3000 characters")
    for action_id in action_ids:
        if not 1 <= len(action_id) <= 255:
            raise BlockKitError(f"action_id {action_id!r} length")
    if surface == "message" and len(set(action_ids)) != len(action_ids):
        raise BlockKitError(f"action_ids repeat in one message: {action_ids}")


def check_input(block: dict[str, Any]) -> None:
    """An input block: label and hint, and its element's own limits."""
    if not 1 <= len(block["label"]["text"]) <= 2000:
        raise BlockKitError("input label over 2000 characters")
    if len(block.get("hint", {}).get("text", "")) > 2000:
        raise BlockKitError("input hint over 2000 characters")
    element = block["element"]
    kind = element["type"]
    if kind == "static_select":
        options = element["options"]
        if not 1 <= len(options) <= 100:
            raise BlockKitError(f"{len(options)} options in a select")
        for option in options:
            if len(option["text"]["text"]) > 75 or len(option["value"]) > 150:
                raise BlockKitError(f"select option {option!r} too long")
        if "initial_option" in element and element["initial_option"] not in options:
            raise BlockKitError("a select's initial option is not one of its options")
    if kind == "number_input":
        low, high = float(element.get("min_value", "-inf")), float(element.get("max_value", "inf"))
        if low > high:
            raise BlockKitError(f"number input min {low} over max {high}")
        initial = element.get("initial_value")
        if initial is not None and not low <= float(initial) <= high:
            raise BlockKitError(f"number input initial {initial} outside {low}..{high}")
        if not element.get("is_decimal_allowed") and initial is not None and "." in initial:
            raise BlockKitError("a whole-number input with a decimal initial value")
    if kind == "datetimepicker" and not isinstance(element.get("initial_date_time", 0), int):
        raise BlockKitError("a datetimepicker's initial_date_time is not Unix seconds")
    if kind == "plain_text_input" and len(element.get("initial_value", "")) > 3000:
        raise BlockKitError("a text input's initial value over 3000 characters")


def check_view(view: dict[str, Any]) -> None:
    check_blocks(view["blocks"], view["type"])
    if view["type"] == "modal":
        if len(view["title"]["text"]) > 24:
            raise BlockKitError("modal title over 24 characters")
        if len(view.get("private_metadata", "")) > 3000:
            raise BlockKitError("private_metadata over 3000 characters")
        block_ids = [b.get("block_id") for b in view["blocks"] if b.get("block_id")]
        if len(set(block_ids)) != len(block_ids):
            raise BlockKitError("block_ids repeat in a modal")


def check_everything_sent(calls: list[Any]) -> int:
    """Every message, view and response the app sent; returns how many were checked."""
    checked = 0
    for call in calls:
        if call.method in ("chat.postMessage", "response_url") and "blocks" in call.args:
            check_blocks(call.args["blocks"])
            checked += 1
        elif call.method in ("views.open", "views.update", "views.publish"):
            check_view(call.args["view"])
            checked += 1
    return checked
