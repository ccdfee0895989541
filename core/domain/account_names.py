"""Account names (lab ids): one strict pattern, because a name becomes host folders.

Every way an account comes to exist or gets linked (`booking users add`, an
admin's link from chat, self-registration, the first local admin) checks its
name here, and the member folder code checks it again before it builds a path.
Standard library and core.domain.model only.
"""

from __future__ import annotations

import re

from core.domain.model import Account, ErrorCode, Refusal

MAX_LENGTH = 32
# Lowercase letters, digits, `_`, `.` and `-`; starts with a letter or digit;
# `..` anywhere is refused on its own (below), so `.`, `..`, `/` and NUL never pass.
_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")

RULE = (
    "1 to 32 characters: lowercase letters, digits, `_`, `.` and `-`, starting with a letter "
    "or digit, without `..` (for example r11922001)"
)

# Self-registered accounts are named `<platform>-<handle>`, so they never take a
# lab id an admin would give.
PLATFORM_PREFIXES = {"slack": "slack-", "discord": "discord-"}


def is_account_name(name: object) -> bool:
    return isinstance(name, str) and _PATTERN.fullmatch(name) is not None and ".." not in name


def check_account_name(name: str) -> str:
    """`name` when it is a valid account name; otherwise a Refusal (BAD_INPUT) that says what works."""
    if is_account_name(name):
        return name
    shown = f"`{name}`" if name.isprintable() and 0 < len(name) <= 64 and "`" not in name else "That"
    raise Refusal(ErrorCode.BAD_INPUT, f"{shown} cannot be an account name; use {RULE}.")


def registered_name_base(platform: str, handle: str, chat_id: str) -> str:
    """The name a self-registered chat user gets, before making it unique: the
    platform's prefix and the chat handle (or the chat id) reduced to the pattern.

    Leaves room for a number the caller may append (up to 4 digits).
    """
    prefix = PLATFORM_PREFIXES[platform]
    room = MAX_LENGTH - len(prefix) - 4
    for wanted in (handle, chat_id):
        text = re.sub(r"[^a-z0-9_.-]+", "-", wanted.strip().lower())
        text = re.sub(r"\.{2,}", ".", text)
        text = text[:room].strip("-_.")
        if text:
            return prefix + text
    return prefix + "member"


# ----- messages to a chat user who is linked to no account (any more) ------

_CHAT_ADDRESS = re.compile(r"(slack|discord):([A-Za-z0-9]{1,64})")


def chat_address(platform: str, chat_id: str) -> str:
    """An outbox recipient for a chat user rather than an account: `slack:U123`.

    A `:` never appears in an account name, so the two cannot be confused.
    """
    return f"{platform}:{chat_id}"


def recipient_account(recipient: str) -> Account:
    """The stand-in account the notifiers deliver to for an outbox recipient that
    names no stored account: a chat address reaches that chat user only."""
    found = _CHAT_ADDRESS.fullmatch(recipient)
    if found is None:
        return Account(name=recipient)
    platform, chat_id = found.groups()
    account = Account(name=recipient, display_name=recipient)
    setattr(account, f"{platform}_id", chat_id)
    return account
