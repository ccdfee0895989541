"""Slack users as booking accounts, with their Slack time zone and DM channel."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.domain.model import Account
from core.services.booking import BookingService

log = logging.getLogger(__name__)

PROFILE_TTL_S = 3600.0  # a profile (name, time zone) is read again after an hour


@dataclass(frozen=True)
class Profile:
    name: str
    timezone: str | None


class Members:
    """Slack profiles (read again hourly) and DM channels (kept) of the members."""

    def __init__(self, service: BookingService, client: WebClient) -> None:
        self._service = service
        self._client = client
        self._profiles: dict[str, tuple[Profile, float]] = {}  # and when it was read
        self._zones_seen: dict[str, str] = {}  # the profile zone each member had last
        self._channels: dict[str, str] = {}
        self._lock = threading.Lock()
        self.profile_ttl_s = PROFILE_TTL_S

    def profile(self, user_id: str) -> Profile:
        with self._lock:
            known, read_at = self._profiles.get(user_id, (None, 0.0))
        if known is not None and time.monotonic() - read_at < self.profile_ttl_s:
            return known
        try:
            user = self._client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            # Without the profile the account still works, in the server's zone.
            log.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            return Profile(user_id, None)
        profile = Profile(user.get("name") or user_id, user.get("tz"))
        with self._lock:
            self._profiles[user_id] = (profile, time.monotonic())
        return profile

    def account(self, user_id: str) -> Account:
        """The member's account; raises Refusal for an unknown user when registration is closed."""
        profile = self.profile(user_id)
        account = self._service.chat_account("slack", user_id, profile.name)
        zone = profile.timezone
        if not zone:
            return account
        with self._lock:
            seen = self._zones_seen.get(user_id)
            self._zones_seen[user_id] = zone
        # The latest choice wins: the profile's zone when the account has none or the
        # profile's zone changed (they travelled); a zone chosen with `timezone` stays
        # while the profile's zone stays what it was.
        if account.timezone != zone and (account.timezone is None
                                         or (seen is not None and seen != zone)):
            account = self._service.set_timezone(account.name, zone)
        return account

    def profile_changed(self, user: dict[str, Any]) -> None:
        """A `user_change` event: its profile replaces the one read before, and a member
        with an account gets the new zone as `account` would give it (a zone chosen with
        `timezone` stays unless the profile's zone changed). Others are not registered."""
        user_id = user.get("id")
        if not isinstance(user_id, str) or not user_id:
            return
        profile = Profile(str(user.get("name") or user_id), user.get("tz"))
        with self._lock:
            self._profiles[user_id] = (profile, time.monotonic())
        if self._service.linked_account("slack", user_id) is not None:
            self.account(user_id)

    def zone_of(self, account: Account) -> tzinfo:
        """The zone the core writes the member's times in."""
        return self._service.zone_of(account)

    def dm_channel(self, user_id: str) -> str:
        with self._lock:
            known = self._channels.get(user_id)
        if known is not None:
            return known
        channel = str(self._client.conversations_open(users=user_id)["channel"]["id"])
        with self._lock:
            self._channels[user_id] = channel
        return channel
