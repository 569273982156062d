"""PostgreSQL: the bookings' overlap rule as an exclusion constraint

On PostgreSQL two bookings of one room that hold its time (booked, checked in or
completed: server.bookings.store.OCCUPYING) can never overlap, whoever writes them: an
exclusion constraint over the room and the range [start, end), with btree_gist for the
room's equality. SQLite has no such constraint; there every writer holds the database's
write lock while it checks and inserts (server.bookings.store.insert_booking).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CONSTRAINT = "bookings_no_overlap"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        f"ALTER TABLE bookings ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist "
        '(room_id WITH =, tsrange(start, "end") WITH &&) '
        "WHERE (status IN ('booked', 'checked_in', 'completed'))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE bookings DROP CONSTRAINT {CONSTRAINT}")
