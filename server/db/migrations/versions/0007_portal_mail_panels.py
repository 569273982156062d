"""the member portal, mail with HTML and an attachment, door panels

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("attachment_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("attachment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("booking_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_mail_booking_id", ["booking_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_mail_booking_id_bookings", "bookings", ["booking_id"], ["id"]
        )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("start_reminded_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("panel_key", sa.String(length=64), nullable=True))
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("calendar_key")
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_column("panel_key")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("sequence")
        batch_op.drop_column("start_reminded_at")
    with op.batch_alter_table("mail", schema=None) as batch_op:
        batch_op.drop_constraint("fk_mail_booking_id_bookings", type_="foreignkey")
        batch_op.drop_index("ix_mail_booking_id")
        batch_op.drop_column("booking_id")
        batch_op.drop_column("attachment")
        batch_op.drop_column("attachment_name")
        batch_op.drop_column("html")
