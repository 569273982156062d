"""A slot freed before its end goes to the waitlist.

`server.bookings` changes a booking's status and stops there: it never calls the waitlist,
so the waitlist may book through it. What frees a slot calls here (or `offer_freed_slot`
itself, as the no-show sweep and staff's release do, each in a savepoint of its own)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.bookings import lifecycle
from server.db import models
from server.site import SiteConfig
from server.waitlist import offers


def cancel_booking(
    session: Session, *, site: SiteConfig, booking_id: int, now: datetime
) -> models.Booking:
    """Cancel a booking that is still `booked` (Conflict otherwise) and offer the freed
    time, if any is left, to the first member waiting for the room."""
    booking = lifecycle.cancel_booking(session, booking_id=booking_id, now=now)
    if booking.end > now:
        offers.offer_freed_slot(
            session,
            site=site,
            room_id=booking.room_id,
            start=max(now, booking.start),
            end=booking.end,
            now=now,
        )
    return booking
