"""booking start and end as integer microseconds, generated; the holding index on them

Revision ID: 0006
Revises: 0005

A booking decision sweeps the holding bookings that overlap a window as integers
(microseconds since the Unix epoch). Until now storage/uow.py converted every row's
start and end (SQLite text, PostgreSQL timestamptz) in Python, the larger part of a
decision among many bookings. start_us and end_us are generated columns: the database
computes them from start_at and end_at, on every write, whoever writes (SQLite: virtual,
PostgreSQL: stored). The partial index of holding bookings (0004) is rebuilt on them,
with the id the read also needs, so PostgreSQL can answer it from the index alone. On
SQLite a second one, of their lengths, gives the longest at once, which bounds the range
of ends the read goes through.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# As storage.tables.MICROS_SQL, HOLDING_LENGTH_SQL, HOLDING_STATUS_SQL and
# HOLDING_INDEX_COLUMNS when this was written.
_MICROS = {
    "sqlite": "CAST(strftime('%s', {0}) AS INTEGER) * 1000000 + CAST(substr({0}, 21, 6) AS INTEGER)",
    "postgresql": "(EXTRACT(EPOCH FROM {0} - TIMESTAMPTZ '1970-01-01 00:00:00+00') * 1000000)::bigint",
}
_LENGTH = "(end_us - start_us)"
_WHERE = "status IN ('booked', 'ending', 'running', 'starting')"
_COLUMNS = ["server_id", "end_us", "start_us", "account_id", "cpus", "memory", "gpu_ids", "port",
            "id"]
_COLUMNS_0004 = ["server_id", "end_at", "start_at", "account_id", "cpus", "memory", "gpu_ids",
                 "port"]


def _holding_index(columns: list[str]) -> None:
    op.create_index(
        "ix_booking_holding", "booking", columns, unique=False,
        sqlite_where=sa.text(_WHERE), postgresql_where=sa.text(_WHERE),
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, source in (("start_us", "start_at"), ("end_us", "end_at")):
        # SQLite adds only virtual generated columns to an existing table.
        generated = sa.Computed(_MICROS[dialect].format(source), persisted=dialect != "sqlite")
        op.add_column("booking", sa.Column(name, sa.BigInteger(), generated))
    op.drop_index("ix_booking_holding", table_name="booking")
    _holding_index(_COLUMNS)
    if dialect == "sqlite":  # only SQLite's read uses it (storage/uow.py, _SPANS_SQLITE)
        op.create_index(
            "ix_booking_holding_length", "booking", ["server_id", sa.text(_LENGTH)], unique=False,
            sqlite_where=sa.text(_WHERE),
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_booking_holding_length", table_name="booking")
    op.drop_index("ix_booking_holding", table_name="booking")
    _holding_index(_COLUMNS_0004)
    op.drop_column("booking", "end_us")
    op.drop_column("booking", "start_us")
