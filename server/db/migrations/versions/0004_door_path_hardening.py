"""dead letters, audit, the command counter, taps' boot, memory-hard emergency hashes

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.Column("handled_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_dead_letters_status", "dead_letters", ["status", "received"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_ts", "audit", ["ts"])
    with op.batch_alter_table("meta", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("command_n", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("boot", sa.String(length=64), nullable=True))
    # Emergency lists move from one SHA-256 to scrypt (protocol.cards.EMERGENCY_KDF): the
    # old hashes cannot be converted without the card numbers, which the server never
    # keeps; each staff card is hashed again at its next tap or registration.
    op.execute("DELETE FROM emergency_hashes")


def downgrade() -> None:
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.drop_column("boot")
    with op.batch_alter_table("meta", schema=None) as batch_op:
        batch_op.drop_column("command_n")
    op.drop_index("ix_audit_ts", table_name="audit")
    op.drop_table("audit")
    op.drop_index("ix_dead_letters_status", table_name="dead_letters")
    op.drop_table("dead_letters")
