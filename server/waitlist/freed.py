"""A slot freed before its end goes to the waitlist: `free_slot`, the one place that says
what freeing a slot means, and the changes that free one: a cancellation, staff's release
(`release_now`) and a booking ended early (`end_booking`).

`server.bookings` changes a booking's status and stops there: it never calls the waitlist,
so the waitlist may book through it. Whatever frees a slot (a cancellation, a no-show
release, staff's release) calls `free_slot` in the same transaction. A site's server frees
its own site's slots only: another site's booking is NotFound here, as in its lists.

The offer is made in a savepoint, so the release or cancellation stands whatever becomes
of it: a failing offer is logged and undone, and the change that freed the slot commits
without it. (Offering after the commit instead would lose the offer to a crash between
the two transactions, and the slot would wait for nobody.)"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server.bookings import lifecycle
from server.bookings.store import get_booking
from server.db import models
from server.live.kinds import BookingEvent, By
from server.notify import mails
from server.notify.notifications import notify
from server.site import SiteConfig
from server.waitlist import offers

log = logging.getLogger(__name__)


def free_slot(
    session: Session,
    *,
    site: SiteConfig,
    room_id: str,
    span: tuple[datetime, datetime],
    now: datetime,
) -> models.Offer | None:
    """A booking's [start, end) of a room is free from `now`: offer it to the first member
    waiting for a time in it (`offers.offered_part`), even one that has begun (a no-show's
    slot is freed after its grace, when the time its waiting members wanted has started:
    they are offered the rest, `offers.accept`). The offer made, or None (nothing left, nobody
    waiting, or the offer failed: logged, undone, and the caller's change stands)."""
    start, end = span
    if end <= max(start, now):
        return None
    try:
        with session.begin_nested():
            return offers.offer_freed_slot(
                session, site=site, room_id=room_id, start=start, end=end, now=now
            )
    except Exception:
        log.exception("offering the freed slot of %s from %s to %s failed", room_id, start, end)
        return None


def cancel_booking(
    session: Session, *, site: SiteConfig, booking_id: int, now: datetime, by: By
) -> tuple[models.Booking, BookingEvent]:
    """Cancel a booking that is still `booked` (Conflict otherwise) and offer the freed
    time, if any is left, to the first member waiting for the room: the booking and the
    event to publish once the transaction has committed."""
    get_booking(session, booking_id=booking_id, site_id=site.id)
    booking, event = lifecycle.cancel_booking(session, booking_id=booking_id, now=now, by=by)
    mails.booking_cancelled(session, booking, now=now)
    free_slot(
        session, site=site, room_id=booking.room_id, span=(booking.start, booking.end), now=now
    )
    return booking, event


def end_booking(
    session: Session, *, site: SiteConfig, booking_id: int, now: datetime, by: By
) -> tuple[models.Booking, BookingEvent]:
    """End a checked-in booking now (Conflict unless it is checked in and running) and
    offer the rest of its slot to the first member waiting for the room: the booking, as
    it ended, and the event to publish once the transaction has committed."""
    slot_end = get_booking(session, booking_id=booking_id, site_id=site.id).end
    event = lifecycle.end_early(session, booking_id=booking_id, now=now, by=by)
    booking = lifecycle.changed(session, booking_id=booking_id, event=event)
    assert event is not None
    free_slot(session, site=site, room_id=booking.room_id, span=(now, slot_end), now=now)
    return booking, event


def release_now(
    session: Session, *, site: SiteConfig, booking_id: int, now: datetime
) -> tuple[models.Booking, BookingEvent]:
    """Staff give a booked room back now (the holder called to say they will not come):
    `booked -> released` with no no-show strike, the holder is told, and the rest of the
    slot is offered to the first member waiting for it (server.waitlist.freed.free_slot).
    The booking and the event to publish after the commit; NotFound, or Conflict unless
    still `booked`."""
    get_booking(session, booking_id=booking_id, site_id=site.id)
    event = lifecycle.release_booking(session, booking_id=booking_id, now=now, by="staff")
    booking = lifecycle.changed(session, booking_id=booking_id, event=event)
    assert event is not None
    zone = ZoneInfo(site.site.timezone)
    room = site.room(booking.room_id)
    notify(
        session,
        member_id=booking.member_id,
        kind="released_by_staff",
        booking_id=booking.id,
        now=now,
        params={
            "room": room.name if room else booking.room_id,
            "start": booking.start.astimezone(zone),
            "end": booking.end.astimezone(zone),
        },
    )
    free_slot(
        session, site=site, room_id=booking.room_id, span=(booking.start, booking.end), now=now
    )
    return booking, event
