"""Domain types of the booking service. Standard library only."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    BOOKED = "booked"
    STARTING = "starting"
    RUNNING = "running"
    ENDING = "ending"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A booking holds resources until its container is gone. `ending` still holds
# them: the container exists while its files are backed up.
HOLDING = frozenset({Status.BOOKED, Status.STARTING, Status.RUNNING, Status.ENDING})


def new_password_salt() -> str:
    """16 random bytes as hex: a booking's password salt."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Resources:
    cpus: float
    memory: int  # GB, RAM + swap
    gpus: int

    def describe(self) -> str:
        cpus = f"{self.cpus:g}"
        return f"cpus={cpus} memory={self.memory} gpus={self.gpus}"


@dataclass(frozen=True)
class Window:
    """A half-open time interval [start, end) in UTC."""

    start: datetime
    end: datetime

    def overlaps(self, other: Window) -> bool:
        return self.start < other.end and other.start < self.end

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass
class Account:
    name: str  # the lab id, e.g. a student id
    display_name: str = ""
    is_admin: bool = False
    slack_id: str | None = None
    discord_id: str | None = None
    # Per-member maxima set by an admin: values are numbers or "max".
    limits: dict[str, float | int | str] = field(default_factory=dict)
    preferred_port: int | None = None
    image: str | None = None
    command: str | None = None
    ssh_keys: str = ""
    timezone: str | None = None
    id: int | None = None


@dataclass
class Booking:
    account: str
    start: datetime
    end: datetime
    resources: Resources
    gpu_ids: tuple[int, ...]
    port: int
    image: str
    command: str | None = None
    status: Status = Status.BOOKED
    id: int | None = None
    # The server's name (config `server.name` / `servers[].name`); "" until stored.
    server: str = field(default="", compare=False)
    # Random and new for every booking; the login password is derived from it
    # (core/domain/passwords.py), so two bookings never share a password, even with the
    # same id in two databases. None only for bookings that were running when
    # migration 0003 ran: they keep the password they were given.
    password_salt: str | None = field(default_factory=new_password_salt,
                                      repr=False, compare=False)

    @property
    def window(self) -> Window:
        return Window(self.start, self.end)

    @property
    def holds_resources(self) -> bool:
        return self.status in HOLDING


class ErrorCode(StrEnum):
    BAD_TIME = "bad_time"
    OVER_LIMIT = "over_limit"
    NO_CAPACITY = "no_capacity"
    OVERLAP = "overlap"
    PORT_TAKEN = "port_taken"
    BAD_IMAGE = "bad_image"
    UNKNOWN_USER = "unknown_user"
    NOT_FOUND = "not_found"
    NOT_OWNER = "not_owner"
    NOT_RUNNING = "not_running"  # the action needs a running booking
    PENDING = "pending"  # the same request is already on its way
    OVERTAKEN = "overtaken"  # a newer request of the same kind came first (an old button)
    BAD_INPUT = "bad_input"


class Refusal(Exception):
    """The service said no. `message` says why and what would work."""

    def __init__(
        self, code: ErrorCode, message: str, *, earliest_start: datetime | None = None,
        reason: str | None = None, server: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.earliest_start = earliest_start
        # `message` without the offer (refusals.with_offer), and the server the offer is on
        # (a pool of servers; None: the server the request was for).
        self.reason = reason if reason is not None else message
        self.server = server


class LinkConflict(Refusal):
    """Linking would take an account or a chat user away from whom it is linked to
    now: it happens only when confirmed (`confirm=True`), and both are told."""

    def __init__(
        self, message: str, *, account: str, platform: str, chat_id: str,
        current_chat_id: str | None, current_account: str | None,
    ) -> None:
        super().__init__(ErrorCode.BAD_INPUT, message)
        self.account = account  # the account being linked
        self.platform = platform
        self.chat_id = chat_id  # the chat user being linked to it
        self.current_chat_id = current_chat_id  # who `account` is linked to now, if another
        self.current_account = current_account  # the account `chat_id` is linked to now, if another


@dataclass(frozen=True)
class Event:
    """Something that happened to a booking, kept in its history."""

    booking_id: int
    at: datetime
    kind: str
    actor: str | None
    detail: dict[str, Any]
