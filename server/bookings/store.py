"""Bookings as stored: the two primitives every booking path uses (the overlap check, and
the insert behind the room's lock) and the reads.

Plain functions over a Session; the caller owns the transaction (a writer session, which
is `BEGIN IMMEDIATE` on SQLite and holds the writers' lock on PostgreSQL). Every change
calls `bump` (server.db.meta) in that transaction, since the current booking of a room
decides who may enter it. Times are aware UTC datetimes.

A booking occupies its room while it is `booked`, `checked_in` or `completed` (a completed
booking did hold its past time); `cancelled` and `released` ones free it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.bookings.pricing import price
from server.db import models, scope
from server.db.meta import bump
from server.errors import Conflict, Invalid, NotFound
from server.site import Room, SiteConfig
from server.timefmt import format_utc

# Statuses in which a booking holds its room's time.
OCCUPYING = ("booked", "checked_in", "completed")
# Statuses of a booking that holds the room right now.
CURRENT = ("booked", "checked_in")
STATUSES = ("booked", "checked_in", "completed", "released", "cancelled")

Interval = tuple[datetime, datetime]
# PostgreSQL's SQLSTATE for a row its exclusion constraint refuses (bookings_no_overlap).
EXCLUSION_VIOLATION = "23P01"


# --- the two primitives every booking path uses -------------------------------------------


def overlapping(
    session: Session,
    *,
    room_id: str,
    start: datetime,
    end: datetime,
    exclude_id: int | None = None,
) -> list[models.Booking]:
    """Bookings of the room that hold any of [start, end), by start."""
    stmt = (
        select(models.Booking)
        .where(
            models.Booking.room_id == room_id,
            models.Booking.start < end,
            models.Booking.end > start,
            models.Booking.status.in_(OCCUPYING),
        )
        .order_by(models.Booking.start, models.Booking.id)
    )
    if exclude_id is not None:
        stmt = stmt.where(models.Booking.id != exclude_id)
    return list(session.scalars(stmt))


def lock_room(session: Session, *, room_id: str) -> models.Room:
    """Take the room's write lock for this transaction, or Invalid for an unknown room.

    SQLite: the writer's `BEGIN IMMEDIATE` already serialises every writer, so this is a
    plain read. PostgreSQL: writer sessions hold the writers' lock too (server.db.engine),
    and `SELECT ... FOR NO KEY UPDATE` on the room row serialises the bookings of one room
    for any other transaction (an overlap check and its insert cannot interleave with
    another's), while a transaction that only refers to the room (a booking's foreign key)
    does not wait for it."""
    room = session.scalars(
        select(models.Room).where(models.Room.id == room_id).with_for_update(key_share=True)
    ).first()
    if room is None:
        raise Invalid(f"unknown room {room_id!r}")
    return room


def insert_booking(
    session: Session,
    *,
    site: SiteConfig,
    room_id: str,
    member_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    title: str | None = None,
    attendees: Sequence[int] = (),
    public: bool = False,
    status: str = "booked",
    source: str = "api",
    series_id: str | None = None,
) -> models.Booking:
    """Insert a booking after locking its room and checking that nothing overlaps it.

    No booking rules are checked here (length, horizon, hours, suspension): callers apply
    their own (`create_booking` the API's, the tap path walk-in's, the waitlist an offer's).
    Raises Conflict naming the bookings in the way.

    Exactly one of several concurrent requests for one slot wins: the room is locked
    (`lock_room`) before the overlap check, and the insert commits in the same
    transaction. On PostgreSQL an exclusion constraint over the room and [start, end) of
    occupying bookings (migration 0008) guards it as well, against any writer: a booking
    it refuses (one another writer added without this lock) is the same Conflict.
    """
    lock_room(session, room_id=room_id)
    clashes = overlapping(session, room_id=room_id, start=start, end=end)
    if clashes:
        raise Conflict(f"room {room_id} is already booked: {_describe(clashes)}")
    member = session.get(models.Member, member_id)
    if member is None:
        raise Invalid(f"member {member_id} does not exist")
    booking = models.Booking(
        room_id=room_id,
        member_id=member_id,
        start=start,
        end=end,
        status=status,
        title=title,
        source=source,
        public=public,
        price=price(site, member.category, start, end),
        series_id=series_id,
        created_at=now,
    )
    booking.attendees = [models.BookingAttendee(member_id=m) for m in attendees]
    session.add(booking)
    try:
        session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) != EXCLUSION_VIOLATION:
            raise
        raise Conflict(
            f"room {room_id} is already booked between {format_utc(start)} and {format_utc(end)}"
        ) from None
    bump(session)
    return booking


def _describe(bookings: Iterable[models.Booking]) -> str:
    return ", ".join(
        f"booking {b.id} from {format_utc(b.start)} to {format_utc(b.end)}" for b in bookings
    )


# --- reading ---------------------------------------------------------------------------


def get_booking(session: Session, *, booking_id: int, site_id: str | None = None) -> models.Booking:
    """The booking, or NotFound (also for a booking of a room of another site than
    `site_id`, when given: a site's server shows and changes its own bookings only)."""
    booking = session.get(models.Booking, booking_id)
    if booking is None or not scope.room_at(session, booking.room_id, site_id):
        raise NotFound(f"booking {booking_id} not found")
    return booking


def list_bookings(
    session: Session,
    *,
    room_id: str | None = None,
    member_id: int | None = None,
    status: str | None = None,
    start_from: datetime | None = None,
    end_to: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
    involving: int | None = None,
    site_id: str | None = None,
) -> list[models.Booking]:
    """Bookings by start; `start_from`/`end_to` keep those overlapping [from, to);
    `involving` those a member holds or attends; `site_id` those of the site's rooms
    (None: of every site)."""
    stmt = (
        select(models.Booking)
        .order_by(models.Booking.start, models.Booking.id)
        .limit(limit)
        .offset(offset)
    )
    if room_id is not None:
        stmt = stmt.where(models.Booking.room_id == room_id)
    if site_id is not None:
        stmt = stmt.where(models.Booking.room_id.in_(scope.rooms(site_id)))
    if member_id is not None:
        stmt = stmt.where(models.Booking.member_id == member_id)
    if involving is not None:
        attends = select(models.BookingAttendee.booking_id).where(
            models.BookingAttendee.member_id == involving
        )
        stmt = stmt.where(
            or_(models.Booking.member_id == involving, models.Booking.id.in_(attends))
        )
    if status is not None:
        stmt = stmt.where(models.Booking.status == status)
    if start_from is not None:
        stmt = stmt.where(models.Booking.end > start_from)
    if end_to is not None:
        stmt = stmt.where(models.Booking.start < end_to)
    return list(session.scalars(stmt))


def site_room(site: SiteConfig, *, room_id: str) -> Room:
    """A room of the site file, or NotFound."""
    room = site.room(room_id)
    if room is None:
        raise NotFound(f"room {room_id} not found")
    return room


def current_bookings(
    session: Session, *, room_ids: Sequence[str], now: datetime
) -> dict[str, models.Booking]:
    """The booking holding each room at `now` (booked or checked in), by room id."""
    stmt = (
        select(models.Booking)
        .where(
            models.Booking.room_id.in_(room_ids),
            models.Booking.start <= now,
            models.Booking.end > now,
            models.Booking.status.in_(CURRENT),
        )
        .order_by(models.Booking.start.desc(), models.Booking.id)
    )
    found: dict[str, models.Booking] = {}
    for booking in session.scalars(stmt):
        found.setdefault(booking.room_id, booking)
    return found


def current_booking(session: Session, *, room_id: str, now: datetime) -> models.Booking | None:
    """The booking holding the room at `now`, or None."""
    return current_bookings(session, room_ids=[room_id], now=now).get(room_id)
