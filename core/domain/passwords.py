"""Per-booking login passwords, never stored.

A booking's password is HMAC-SHA256(server secret, "booking-password:<id>:<salt>"),
where the salt is random and new for every booking (Booking.password_salt,
stored with it). The password is therefore fresh and random per booking (a
database reset that reuses booking #1 does not reuse its password), yet the
database and the outbox hold only the salt and a placeholder: the password is
rendered when a message is sent and when the container is (re)created, and is
the same every time for the same booking, across restarts of the service.

Bookings that were running when migration 0003 added the salt have none; they
keep the password they were given, HMAC(secret, "booking-password:<id>").

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

from core.domain.config import ConfigError
from core.domain.model import Booking

log = logging.getLogger(__name__)

PASSWORD_PLACEHOLDER = "[[password]]"
PASSWORD_UNAVAILABLE = "(not available: ask an admin)"
# In place of the password wherever a message goes to the log of last resort (stdout,
# the journal): readable by more people than the member.
PASSWORD_WITHHELD = ("(not written here: log in with your SSH key, or ask an admin, who "
                     "can show it with `booking login {booking_id}` on the server)")
SECRET_FILE_NAME = "booking-secret"
MIN_SECRET_BYTES = 16
_PASSWORD_CHARS = 16  # base32 characters: 80 bits


class PasswordDeriver:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the booking secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def password_for(self, booking: Booking) -> str:
        if booking.id is None:
            raise ValueError("a booking has a password only once it is stored")
        label = f"booking-password:{booking.id}"
        if booking.password_salt is not None:
            label += f":{booking.password_salt}"
        digest = hmac.new(self._secret, label.encode(), hashlib.sha256).digest()
        # Lower-case base32 without padding: no characters that shells or chat mangle.
        return base64.b32encode(digest).decode().rstrip("=").lower()[:_PASSWORD_CHARS]

    @staticmethod
    def withhold(text: str, booking_id: int | None) -> str:
        """`text` with the placeholder replaced by where to get the password instead."""
        return text.replace(PASSWORD_PLACEHOLDER, PASSWORD_WITHHELD.format(booking_id=booking_id))

    def render(self, text: str, booking: Booking | None) -> str:
        """`text` with the placeholder replaced by the booking's password."""
        if PASSWORD_PLACEHOLDER not in text:
            return text
        if booking is None or booking.id is None:
            log.error("a message holds a password placeholder but its booking is unknown")
            return text.replace(PASSWORD_PLACEHOLDER, PASSWORD_UNAVAILABLE)
        return text.replace(PASSWORD_PLACEHOLDER, self.password_for(booking))


_WHAT_WORKS = (f"at least {MIN_SECRET_BYTES} random bytes, for example the output of "
               "`openssl rand -hex 32`")


def load_secret(env_value: str | None, data_dir: Path) -> bytes:
    """The server secret: BOOKING_SECRET if set, else <data_dir>/booking-secret (made once).

    Raises ConfigError, in one line naming the variable or file, when it is unusable."""
    if env_value:
        value = env_value.encode()
        if len(value) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"BOOKING_SECRET is too short ({len(value)} bytes): set it to {_WHAT_WORKS}, "
                f"or unset it to use a secret file made under BOOKING_DATA_DIR"
            )
        return value
    path = data_dir / SECRET_FILE_NAME
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    value = secrets.token_hex(32).encode()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _read_secret(path)
    except OSError as exc:
        raise ConfigError(
            f"cannot make the booking secret {path} ({exc.strerror}): set BOOKING_DATA_DIR to "
            f"a writable folder, or set BOOKING_SECRET to {_WHAT_WORKS}"
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    log.info("created the booking secret %s (mode 0600)", path)
    return value


def _read_secret(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode & 0o777
        value = path.read_bytes().strip()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigError(
            f"cannot read the booking secret {path} ({exc.strerror}): make it readable by the "
            f"service's user, or set BOOKING_SECRET to {_WHAT_WORKS}"
        ) from None
    if mode & 0o077:
        log.warning("%s is readable by others (mode %o); chmod 600 it", path, mode)
    if not value:
        raise ConfigError(
            f"the booking secret {path} is empty: delete it and a new one is made on the next "
            f"start, or set BOOKING_SECRET to {_WHAT_WORKS}"
        )
    if len(value) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"the booking secret {path} is too short ({len(value)} bytes): put {_WHAT_WORKS} "
            f"in it, or set BOOKING_SECRET"
        )
    return value
