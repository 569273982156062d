"""The reminder before a booking's start, with its one-click cancel link: the scheduler
calls `remind_starts` every pass (server.adapters.scheduler).

A booking still `booked` whose start is within `bookings.remind_before_start` is marked
(`start_reminded_at`, by a conditional UPDATE, so two replicas never both remind) and its
mail queued, once; one made within that time already is marked without a mail (its
confirmation, just sent, has the same cancel link). Not the check-in reminder before a
no-show release (`reminded_at`, server.noshows.release).

    remind_starts(session, site=site, now=now)   # the ids of the bookings reminded
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.db import models
from server.db.scope import own_rooms
from server.notify import mails
from server.site import SiteConfig

BATCH = 100


def remind_starts(session: Session, *, site: SiteConfig, now: datetime) -> list[int]:
    """Remind the holders of bookings of the site's rooms starting within the site's
    `remind_before_start` of `now` that were not reminded yet (and were booked before that
    window); the ids of those reminded."""
    B = models.Booking
    ahead = timedelta(seconds=site.bookings.remind_before_start)
    due = session.scalars(
        select(B.id)
        .where(
            B.status == "booked",
            B.start > now,
            B.start <= now + ahead,
            B.start_reminded_at.is_(None),
            B.room_id.in_(own_rooms(session, site.id)),
        )
        .order_by(B.start, B.id)
        .limit(BATCH)
    ).all()
    reminded = []
    for booking_id in due:
        marked = session.execute(
            update(B)
            .where(B.id == booking_id, B.status == "booked", B.start_reminded_at.is_(None))
            .values(start_reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another replica reminded it, or it was cancelled meanwhile
        booking = session.get(B, booking_id)
        if booking is not None and booking.created_at <= booking.start - ahead:
            mails.start_reminder(session, booking, now=now)
            reminded.append(booking_id)
    return reminded
