"""staff per site: the site an account may sign in at

`users.site_id` NULL: every site of the deployment (administrators, network staff, and
every member account, which is never bound); a site's id: that site's servers only.
Existing accounts stay NULL (they signed in everywhere until now).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key("fk_users_site_id_sites", "sites", ["site_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("fk_users_site_id_sites", type_="foreignkey")
        batch_op.drop_column("site_id")
