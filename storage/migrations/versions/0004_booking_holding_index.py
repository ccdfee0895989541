"""partial covering index of holding bookings, for booking decisions

Revision ID: 0004
Revises: 0003

A booking decision reads the holding bookings that overlap a window
(storage/uow.py, spans_between). This index holds only bookings whose status
holds resources, with every column that read needs, so history (finished,
cancelled, failed bookings) is not scanned and the table is not visited.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# As storage.tables.HOLDING_STATUS_SQL and HOLDING_INDEX_COLUMNS when this was written.
_WHERE = "status IN ('booked', 'ending', 'running', 'starting')"
_COLUMNS = ["server_id", "end_at", "start_at", "account_id", "cpus", "memory", "gpu_ids", "port"]


def upgrade() -> None:
    op.create_index(
        "ix_booking_holding", "booking", _COLUMNS, unique=False,
        sqlite_where=sa.text(_WHERE), postgresql_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_booking_holding", table_name="booking")
