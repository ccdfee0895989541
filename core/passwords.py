"""Per-booking login passwords, never stored.

A booking's password is HMAC-SHA256(server secret, "booking-password:<id>"),
so the database (and the outbox) hold only a placeholder; the password is
rendered when a message is sent and when the container is (re)created, and is
the same every time for the same booking.

The secret comes from the environment (BOOKING_SECRET) or a file made once,
readable only by the service's user (0600), under the data folder.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

PASSWORD_PLACEHOLDER = "[[password]]"
SECRET_FILE_NAME = "booking-secret"
_PASSWORD_CHARS = 16  # base32 characters: 80 bits


class PasswordDeriver:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the booking secret must be at least 16 bytes")
        self._secret = secret

    def password_for(self, booking_id: int) -> str:
        digest = hmac.new(
            self._secret, f"booking-password:{booking_id}".encode(), hashlib.sha256
        ).digest()
        # Lower-case base32 without padding: no characters that shells or chat mangle.
        return base64.b32encode(digest).decode().rstrip("=").lower()[:_PASSWORD_CHARS]

    def render(self, text: str, booking_id: int | None) -> str:
        """`text` with the placeholder replaced by the booking's password."""
        if booking_id is None or PASSWORD_PLACEHOLDER not in text:
            return text
        return text.replace(PASSWORD_PLACEHOLDER, self.password_for(booking_id))


def load_secret(env_value: str | None, data_dir: Path) -> bytes:
    """The server secret: BOOKING_SECRET if set, else <data_dir>/booking-secret (made once)."""
    if env_value:
        return env_value.encode()
    path = data_dir / SECRET_FILE_NAME
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _read_secret(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    log.info("created the booking secret %s (mode 0600)", path)
    return value


def _read_secret(path: Path) -> bytes:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("%s is readable by others (mode %o); chmod 600 it", path, mode)
    value = path.read_bytes().strip()
    if not value:
        raise ValueError(f"{path} is empty; delete it to make a new secret")
    return value
