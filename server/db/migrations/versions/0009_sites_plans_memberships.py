"""several sites: each membership of a site's plan; the sites' plans with their partners

A membership so far is of the one site in `sites` (every plan so far was its plan). The
`plans` table holds each site's plans (synced from its site file, server.db.inventory)
with the partner sites their holders also enter.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_memberships_site_id_sites"


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("partners", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.PrimaryKeyConstraint("site_id", "id"),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.String(length=64), nullable=True))
    _backfill()
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.alter_column("site_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_foreign_key(FOREIGN_KEY, "sites", ["site_id"], ["id"])


def _backfill() -> None:
    """Existing memberships are of the one site; with none there is nothing to decide."""
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT COUNT(*) FROM memberships")).scalar_one() == 0:
        return
    sites = conn.execute(sa.text("SELECT id FROM sites ORDER BY id")).scalars().all()
    if len(sites) != 1:
        raise RuntimeError(
            "migration 0009: memberships exist, and the database holds "
            f"{len(sites)} sites ({', '.join(sites) or 'none'}), not one: "
            "which site's plans they are cannot be told"
        )
    conn.execute(sa.text("UPDATE memberships SET site_id = :site"), {"site": sites[0]})


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch_op.drop_column("site_id")
    op.drop_table("plans")
