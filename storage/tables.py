"""SQLModel tables. Times are aware datetimes, stored in UTC (SQLModel's UTCDateTime)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from core.domain.model import HOLDING

# Statuses that hold resources (core.domain.model.HOLDING), as the partial index's condition.
HOLDING_STATUS_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(HOLDING)))
HOLDING_INDEX_COLUMNS = (
    "server_id", "end_at", "start_at", "account_id", "cpus", "memory", "gpu_ids", "port",
)
# Accounts with an own port, and the columns the read of other members' ports needs.
OWN_PORT_SQL = "preferred_port IS NOT NULL"
OWN_PORT_INDEX_COLUMNS = ("preferred_port", "name")


class ServerRow(SQLModel, table=True):
    __tablename__ = "server"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)


class AccountRow(SQLModel, table=True):
    __tablename__ = "account"
    __table_args__ = (
        # Other members' own ports (storage/uow.py, reserved_ports) read from the index
        # alone (migration 0005).
        Index(
            "ix_account_own_port", *OWN_PORT_INDEX_COLUMNS,
            sqlite_where=text(OWN_PORT_SQL), postgresql_where=text(OWN_PORT_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)
    display_name: str = Field(default="", max_length=200)
    slack_id: str | None = Field(default=None, unique=True, max_length=64)
    discord_id: str | None = Field(default=None, unique=True, max_length=64)
    is_admin: bool = False
    limits: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    preferred_port: int | None = None
    image: str | None = Field(default=None, max_length=300)
    command: str | None = Field(default=None, max_length=2000)
    ssh_keys: str = Field(default="", max_length=20000)
    timezone: str | None = Field(default=None, max_length=64)


class BookingRow(SQLModel, table=True):
    __tablename__ = "booking"
    __table_args__ = (
        # Overlap queries look up holding bookings by server and end: past
        # bookings fall outside the range scan, so history does not slow them.
        Index("ix_booking_server_end", "server_id", "end_at"),
        Index("ix_booking_account_end", "account_id", "end_at"),
        # The booking decision's read (storage/uow.py, spans_between): holding bookings
        # only, with every column it needs, so finished, cancelled and failed bookings are
        # not in it at all and the table itself is never visited (migration 0004).
        Index(
            "ix_booking_holding", *HOLDING_INDEX_COLUMNS,
            sqlite_where=text(HOLDING_STATUS_SQL), postgresql_where=text(HOLDING_STATUS_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id")
    account_id: int = Field(foreign_key="account.id")
    status: str = Field(max_length=16)
    start_at: datetime
    end_at: datetime
    cpus: float
    memory: int
    gpus: int
    gpu_ids: str = Field(default="", max_length=200)  # "0,1"
    port: int
    image: str = Field(max_length=300)
    command: str | None = Field(default=None, max_length=2000)
    created_at: datetime
    # Random per booking; the password is derived from it and the server secret
    # (core/domain/passwords.py) and never stored. NULL only for bookings that were live
    # when migration 0003 added it.
    password_salt: str | None = Field(default=None, max_length=64)


class BookingEventRow(SQLModel, table=True):
    __tablename__ = "booking_event"

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", index=True)
    at: datetime
    kind: str = Field(max_length=32)
    actor: str | None = Field(default=None, max_length=64)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ConversationRow(SQLModel, table=True):
    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128)
    state: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime


class OutboxRow(SQLModel, table=True):
    """A member's message, recorded in the transaction that caused it; sent later."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id")
    recipient: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    text: str = Field(max_length=8000)
    booking_id: int | None = Field(default=None, index=True)
    actions: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None = None
    channel: str | None = Field(default=None, max_length=32)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
