"""Secret per-member tokens for the calendar feed's URL, never stored.

A member's token is HMAC-SHA256(server secret, "calendar-feed:<account name>"), the
same secret booking passwords come from (core/domain/passwords.py), so no new storage:
the token is the same across restarts, and changing the secret changes every link.
A token is checked for any name asked for, known or not, in constant time, so a wrong
token says nothing about whether the member exists.
"""

from __future__ import annotations

import hmac

from core.domain.passwords import MIN_SECRET_BYTES, derived_code

_TOKEN_CHARS = 32  # base32 characters: 160 bits


class FeedTokens:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the booking secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def token_for(self, account: str) -> str:
        return derived_code(self._secret, f"calendar-feed:{account}", _TOKEN_CHARS)

    def matches(self, account: str, token: str) -> bool:
        """Whether `token` is `account`'s, compared in constant time."""
        return hmac.compare_digest(self.token_for(account).encode(), token.encode("utf-8", "replace"))
