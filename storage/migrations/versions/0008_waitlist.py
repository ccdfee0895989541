"""waitlist: requests refused for lack of room whose members asked to be told when they fit

Revision ID: 0008
Revises: 0007

One row per waiting request: its member, resources, image and command, the window as
asked (a booking of its length may start anywhere in it), whether to book it for the
member, and the start last offered. Read by server and end (entries whose window ended
are dropped), and by member.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waitlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("cpus", sa.Float(), nullable=False),
        sa.Column("memory", sa.Integer(), nullable=False),
        sa.Column("gpus", sa.Integer(), nullable=False),
        sa.Column("start_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("end_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("image", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("command", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("auto", sa.Boolean(), nullable=False),
        sa.Column("offered_start", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["server_id"], ["server.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_waitlist_server_end", "waitlist", ["server_id", "end_at"], unique=False)
    op.create_index("ix_waitlist_account_id", "waitlist", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_waitlist_account_id", table_name="waitlist")
    op.drop_index("ix_waitlist_server_end", table_name="waitlist")
    op.drop_table("waitlist")
