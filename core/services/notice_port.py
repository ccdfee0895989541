"""The words of the notices the booking service leaves for a member when someone
else (an admin) changed their booking or their chat link. core/chat/notice_words.py
says them; bot/ injects it (tests too), since services never import core.chat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Protocol

from core.domain.maintenance import MaintenanceWindow
from core.domain.model import Booking
from core.services.notifier import Message


class NoticeWords(Protocol):
    def changed_by_someone_else(self, change: str, booking: Booking, actor: str, zone: tzinfo,
                                reason: str | None = None) -> str:
        """`change`: the event recorded (cancelled, ended_early, extended, restart_requested)."""

    def linked_to_you(self, account: str, instead_of: str | None, admins: Sequence[str]) -> str:
        """To the chat user an admin linked to `account` (away from `instead_of`, if any)."""

    def unlinked_from(self, account: str, platform: str, admins: Sequence[str]) -> str:
        """To the chat user `account` was linked to before an admin linked another."""

    def maintenance_ahead(self, window: MaintenanceWindow, booking: Booking,
                          alternative: datetime | None, zone: tzinfo, actor: str) -> Message:
        """To a member whose booking a new maintenance window meets: the window, and the
        earliest start after it where the same booking fits (None: none), as a button."""
