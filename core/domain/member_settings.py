"""A member's own settings, checked: SSH keys, port, image, command, time zone."""

from __future__ import annotations

import base64
import binascii
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.domain.model import ErrorCode, Refusal

KEY_TYPES = (
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
)


MAX_SSH_KEYS = 32  # per member: every container start writes them all
MAX_KEY_CHARS = 8192  # a 16384-bit RSA key with a long comment fits
MAX_KEYS_CHARS = 20000  # all of a member's keys: as long as storage's account.ssh_keys


def check_ssh_key(line: str) -> str:
    """One OpenSSH public key line (`type base64 [comment]`), normalised."""
    if len(line) > MAX_KEY_CHARS:
        raise Refusal(
            ErrorCode.BAD_INPUT,
            f"That key line is {len(line)} characters; a public key is at most {MAX_KEY_CHARS}. "
            "Paste one line of your `~/.ssh/id_ed25519.pub`.",
        )
    parts = line.split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise Refusal(
            ErrorCode.BAD_INPUT,
            "That is not an SSH public key. Paste one line of your `~/.ssh/id_ed25519.pub`, "
            "starting with `ssh-ed25519` (or ssh-rsa, ecdsa-...).",
        )
    try:
        base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise Refusal(ErrorCode.BAD_INPUT, "The key's middle part is not valid base64.") from None
    return " ".join(parts)


def check_ssh_keys(text: str) -> str:
    """Several keys, one a line; blank lines and `#` comments are dropped."""
    lines = [line.strip() for line in text.splitlines()]
    keys = [line for line in lines if line and not line.startswith("#")]
    return "\n".join(check_key_count([check_ssh_key(line) for line in keys[:MAX_SSH_KEYS + 1]]))


def check_key_count(keys: list[str]) -> list[str]:
    """A member's keys: at most MAX_SSH_KEYS of them, MAX_KEYS_CHARS together (what the
    account's row holds)."""
    if len(keys) > MAX_SSH_KEYS or sum(len(k) + 1 for k in keys) > MAX_KEYS_CHARS:
        raise Refusal(
            ErrorCode.BAD_INPUT,
            f"You can keep at most {MAX_SSH_KEYS} SSH keys ({MAX_KEYS_CHARS} characters in all); "
            "remove some first "
            "(`keys` lists them, `keys clear` removes them all).",
        )
    return keys


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str) -> str:
    """An IANA time zone name; anything else (too long, a folder such as `America`,
    a path) is refused before the zone database is opened."""
    if len(name) > 64:  # the longest IANA name has 32 characters
        raise Refusal(
            ErrorCode.BAD_INPUT,
            f"That time zone name is too long ({len(name)} characters); "
            "use a name like Asia/Taipei or UTC.",
        )
    try:
        if name not in _zone_names():
            raise ZoneInfoNotFoundError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise Refusal(
            ErrorCode.BAD_INPUT, f"Unknown time zone `{name}`; use a name like Asia/Taipei or UTC."
        ) from None
    return name
