"""A booking's status changes, each one conditional UPDATE (`... WHERE status = 'booked'`):
`booked -> checked_in` (`check_in`), `booked -> cancelled` (`cancel_booking`),
`booked -> released` (`release_booking`), and a walk-in's `checked_in -> completed` when
its room stands vacant (`end_walk_in`).

A check-in and a no-show release race on the same row; whichever commits first wins, and
the loser's UPDATE matches nothing. What a freed slot means for the waitlist is not
decided here: whoever frees one offers it (server.waitlist)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from server.db import models
from server.db.meta import bump
from server.errors import Conflict, NotFound


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
    bump(session)
    return True


def cancel_booking(session: Session, *, booking_id: int, now: datetime) -> models.Booking:
    """`booked -> cancelled`; NotFound for no booking, Conflict for one no longer `booked`.
    The time it frees is for the caller to offer (server.waitlist.freed.cancel_booking)."""
    result = session.execute(
        update(models.Booking)
        .where(models.Booking.id == booking_id, models.Booking.status == "booked")
        .values(status="cancelled", cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    booking = session.get(models.Booking, booking_id, populate_existing=True)
    if result.rowcount == 0:  # type: ignore[attr-defined]
        if booking is None:
            raise NotFound(f"booking {booking_id} not found")
        raise Conflict(f"booking {booking_id} is {booking.status}")
    assert booking is not None
    bump(session)
    session.flush()
    return booking


def release_booking(session: Session, *, booking_id: int, now: datetime) -> bool:
    """`booked -> released` as one conditional UPDATE; False when the booking is no longer
    `booked` (a check-in or a cancellation committed first)."""
    B = models.Booking
    result = session.execute(
        update(B)
        .where(B.id == booking_id, B.status == "booked")
        .values(status="released", released_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def end_walk_in(session: Session, *, booking_id: int, now: datetime) -> bool:
    """A walk-in `checked_in -> completed` with its end moved to `now`, so the rest of its
    slot is free: one conditional UPDATE; False when it is no longer a running walk-in."""
    B = models.Booking
    result = session.execute(
        update(B)
        .where(B.id == booking_id, B.status == "checked_in", B.source == "walk_in", B.end > now)
        .values(status="completed", end=now, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    bump(session)
    return True
