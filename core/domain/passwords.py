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


def derived_code(secret: bytes, label: str, chars: int) -> str:
    """`chars` characters of HMAC-SHA256(secret, label) in lower-case base32 without padding:
    no characters that shells, chat or URL paths mangle."""
    digest = hmac.new(secret, label.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()[:chars]


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
        return derived_code(self._secret, label, _PASSWORD_CHARS)

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
