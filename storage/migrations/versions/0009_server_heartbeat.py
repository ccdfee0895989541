"""server_heartbeat: when each server's `serve` was last heard from

Revision ID: 0009
Revises: 0008

One row per server of a pool, written by that host every few seconds: when (seen_at),
how many GPUs it read, its hostname, and when the admins and members were told it is
down (down_told_at; the pool watch clears it once the server is back).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_heartbeat",
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("gpus", sa.Integer(), nullable=True),
        sa.Column("nvlinks", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("down_told_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["server_id"], ["server.id"]),
        sa.PrimaryKeyConstraint("server_id"),
    )


def downgrade() -> None:
    op.drop_table("server_heartbeat")
