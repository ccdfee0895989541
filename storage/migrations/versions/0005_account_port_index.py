"""partial covering index of members' own ports, for booking decisions

Revision ID: 0005
Revises: 0004

A booking decision may read every other member's own port (storage/uow.py,
reserved_ports). This index holds only accounts that have one, with the name the
read leaves out, so the read never visits the account table (whose rows carry SSH
keys and settings).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# As storage.tables.OWN_PORT_SQL and OWN_PORT_INDEX_COLUMNS when this was written.
_WHERE = "preferred_port IS NOT NULL"
_COLUMNS = ["preferred_port", "name"]


def upgrade() -> None:
    op.create_index(
        "ix_account_own_port", "account", _COLUMNS, unique=False,
        sqlite_where=sa.text(_WHERE), postgresql_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_account_own_port", table_name="account")
