"""emergency hashes and gateway decisions

Revision ID: 0003
Revises: 0002
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emergency_hashes",
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("door_id", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["cards.id"],
        ),
        sa.ForeignKeyConstraint(
            ["door_id"],
            ["doors.id"],
        ),
        sa.PrimaryKeyConstraint("card_id", "door_id"),
    )
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("other_by", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("other_granted", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("other_reason", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("booking_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_access_events_booking_id_bookings", "bookings", ["booking_id"], ["id"]
        )

    with op.batch_alter_table("doors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("emergency_salt", sa.String(length=64), nullable=True))

    # Every door that exists already gets its own salt now; new doors get one from the
    # model's default when they are inserted.
    doors = sa.table("doors", sa.column("id", sa.String), sa.column("emergency_salt", sa.String))
    bind = op.get_bind()
    for (door_id,) in bind.execute(sa.select(doors.c.id)).all():
        bind.execute(
            doors.update().where(doors.c.id == door_id).values(emergency_salt=secrets.token_hex(16))
        )


def downgrade() -> None:
    with op.batch_alter_table("doors", schema=None) as batch_op:
        batch_op.drop_column("emergency_salt")

    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.drop_constraint("fk_access_events_booking_id_bookings", type_="foreignkey")
        batch_op.drop_column("booking_id")
        batch_op.drop_column("other_reason")
        batch_op.drop_column("other_granted")
        batch_op.drop_column("other_by")

    op.drop_table("emergency_hashes")
