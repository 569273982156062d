"""Check-in: a booking's `booked -> checked_in`, as one conditional UPDATE.

A check-in and a no-show release race on the same row; whichever commits first wins, and
the loser's UPDATE matches nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from server import models, policy


def check_in(session: Session, *, booking_id: int, now: datetime) -> bool:
    """Check a booking in; False when it is no longer `booked` (released, cancelled...)."""
    result = session.execute(
        update(models.Booking)
        .where(models.Booking.id == booking_id, models.Booking.status == "booked")
        .values(status="checked_in", checked_in_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    policy.bump(session)
    return True
