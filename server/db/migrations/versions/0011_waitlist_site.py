"""several sites: each waitlist entry of the site where it was made

An entry is its site's: only that site's rooms are offered to it, and only that site's
server lists, shows and cancels it. An entry for a room is of the room's site; one for
any room of a kind (no room) was made at the one site in `sites`.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_waitlist_site_id_sites"
INDEX = "ix_waitlist_site_id"


def upgrade() -> None:
    with op.batch_alter_table("waitlist", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.String(length=64), nullable=True))
    _backfill()
    with op.batch_alter_table("waitlist", schema=None) as batch_op:
        batch_op.alter_column("site_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_foreign_key(FOREIGN_KEY, "sites", ["site_id"], ["id"])
        batch_op.create_index(INDEX, ["site_id"], unique=False)


def _backfill() -> None:
    """An entry for a room is of the room's site; the others of the one site, which must
    be one when there are any."""
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE waitlist SET site_id = "
            "(SELECT rooms.site_id FROM rooms WHERE rooms.id = waitlist.room_id) "
            "WHERE room_id IS NOT NULL"
        )
    )
    left = conn.execute(sa.text("SELECT COUNT(*) FROM waitlist WHERE site_id IS NULL"))
    if left.scalar_one() == 0:
        return
    sites = conn.execute(sa.text("SELECT id FROM sites ORDER BY id")).scalars().all()
    if len(sites) != 1:
        raise RuntimeError(
            "migration 0011: waitlist entries for any room of a kind exist, and the "
            f"database holds {len(sites)} sites ({', '.join(sites) or 'none'}), not one: "
            "at which site they were made cannot be told"
        )
    conn.execute(
        sa.text("UPDATE waitlist SET site_id = :site WHERE site_id IS NULL"), {"site": sites[0]}
    )


def downgrade() -> None:
    with op.batch_alter_table("waitlist", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch_op.drop_column("site_id")
