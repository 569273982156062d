"""administrator-token sessions per site: the site whose server a browser signed in at

`auth_sessions.site_id`: for a browser signed in with the administrator token (no user),
the one site where its cookie works; NULL for a user's session (their account's
`site_id` says where they may act). The administrator token's sessions open now were
opened at the one site in `sites`, if there is one; else they are left without a site,
which signs them out (they sign in again with the token).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_auth_sessions_site_id_sites"


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(FOREIGN_KEY, "sites", ["site_id"], ["id"])
    conn = op.get_bind()
    sites = conn.execute(sa.text("SELECT id FROM sites")).scalars().all()
    if len(sites) == 1:
        conn.execute(
            sa.text("UPDATE auth_sessions SET site_id = :site WHERE user_id IS NULL"),
            {"site": sites[0]},
        )


def downgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch_op.drop_column("site_id")
