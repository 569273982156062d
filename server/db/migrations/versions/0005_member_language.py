"""a member's language; a notification's message parameters

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Members so far are told things in Polish, as every site so far speaks it.
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lang", sa.String(length=2), nullable=False, server_default="pl")
        )
    # Messages so far have their Polish and English words only (params stays NULL).
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("params")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("lang")
