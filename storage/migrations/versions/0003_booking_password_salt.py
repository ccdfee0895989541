"""a random password salt per booking

Revision ID: 0003
Revises: 0002

Passwords were HMAC(secret, booking id): the same id in a reset database gave
the same password. Each booking now has a random salt the password is derived
from (core/domain/passwords.py). Existing bookings get a random salt each, except
those whose container may already exist (starting, running, ending): their
member already has, or is about to be sent, the password the container was
made with, so they keep NULL and with it their old password.
"""

import secrets

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_LIVE = ("starting", "running", "ending")


def upgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("password_salt", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    booking = sa.table(
        "booking", sa.column("id", sa.Integer()), sa.column("status", sa.String()),
        sa.column("password_salt", sa.String()),
    )
    connection = op.get_bind()
    ids = connection.execute(
        sa.select(booking.c.id).where(booking.c.status.not_in(_LIVE))
    ).scalars().all()
    for booking_id in ids:  # a different random value for every row
        connection.execute(
            booking.update().where(booking.c.id == booking_id)
            .values(password_salt=secrets.token_hex(16))
        )


def downgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_column("password_salt")
