"""The notifier port: how the service's own messages reach a member.

The scheduler records each message in an outbox before it is sent and marks
it sent afterwards, so a message is delivered once across restarts. Chat
adapters (bot/) implement `Notifier`; with none configured, messages go to the
service's standard output and log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from core.domain.model import Account


class MessageKind(StrEnum):
    READY = "ready"  # the container is up: host, port, user, password, ssh command
    REMINDER = "reminder"  # the end is near; how to extend
    ENDED = "ended"
    FAILED = "failed"
    ADMIN = "admin"  # for the admins: a failure, a quota problem
    INFO = "info"


@dataclass(frozen=True)
class Message:
    kind: MessageKind
    text: str
    booking_id: int | None = None
    # What the member can do next, as the chat layer stored it (core/chat/actions.py,
    # `Action.to_dict`): strings only, so the outbox keeps them and a restart changes nothing.
    actions: tuple[Mapping[str, str], ...] = ()


class Notifier(Protocol):
    def deliver(self, account: Account, message: Message) -> bool:
        """Send `message` to `account`; True when this channel delivered it.

        Raise on a transient failure (the outbox retries); return False when
        this channel cannot reach the account (for example, no linked id).
        """
