"""maintenance windows: spans an admin takes the whole server, or some GPUs, out of booking

Revision ID: 0007
Revises: 0006

A window holds what a booking would: the whole server (gpu_ids empty) or the named GPU
ids, from start to end. The booking decision reads the windows that overlap a request
(storage/uow.py, SqlMaintenance.spans_between) by server and a range of ends, as integer
microseconds the database generates from start_at and end_at, as for bookings (0006).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# As storage.tables.MICROS_SQL when this was written.
_MICROS = {
    "sqlite": "CAST(strftime('%s', {0}) AS INTEGER) * 1000000 + CAST(substr({0}, 21, 6) AS INTEGER)",
    "postgresql": "(EXTRACT(EPOCH FROM {0} - TIMESTAMPTZ '1970-01-01 00:00:00+00') * 1000000)::bigint",
}


def upgrade() -> None:
    micros = _MICROS[op.get_bind().dialect.name]
    op.create_table(
        "maintenance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("end_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("start_us", sa.BigInteger(), sa.Computed(micros.format("start_at"), persisted=True)),
        sa.Column("end_us", sa.BigInteger(), sa.Computed(micros.format("end_at"), persisted=True)),
        sa.Column("gpu_ids", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["server_id"], ["server.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_maintenance_server_end", "maintenance", ["server_id", "end_us", "start_us"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_maintenance_server_end", table_name="maintenance")
    op.drop_table("maintenance")
