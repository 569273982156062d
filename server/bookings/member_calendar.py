"""A member's own bookings as an RFC 5545 calendar feed, for their calendar app.

The feed's URL (`/api/me/calendar.ics?key=...`) carries the member's `calendar_key`
instead of a bearer token, since calendar apps cannot send one; the key is drawn on first
use and a new one can be drawn at any time, after which the old URL finds nothing. The
feed has the bookings the member holds or attends (not cancelled or released), with the
same event UIDs as the rooms' feeds and the booking e-mails, so a calendar keeps one
event per booking."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.bookings import roomkeys
from server.bookings.calendar import BUSY_STATUSES, WINDOW_AFTER, WINDOW_BEFORE
from server.db import models, scope
from server.errors import NotFound
from server.site import SiteConfig

PRODID = "-//spacehub//member calendar//PL"
MIN_KEY = 16  # shorter keys are never drawn, so never looked up


def feed_url(key: str) -> str:
    """The feed's URL, relative to the server."""
    return f"/api/me/calendar.ics?key={key}"


def calendar_key(session: Session, *, member_id: int) -> str:
    """The member's feed key, drawn on first use."""
    member = _member(session, member_id)
    if member.calendar_key is None:
        member.calendar_key = roomkeys.new_key()
        session.flush()
    return member.calendar_key


def new_key(session: Session, *, member_id: int) -> str:
    """Draw a new feed key for the member; the old URL stops working at once."""
    member = _member(session, member_id)
    member.calendar_key = roomkeys.new_key()
    session.flush()
    return member.calendar_key


def member_feed(session: Session, *, site: SiteConfig, key: str | None, now: datetime) -> bytes:
    """The calendar of the member whose key is `key` (NotFound for any other key), with
    their bookings at the site from WINDOW_BEFORE ago to WINDOW_AFTER ahead."""
    if not key or len(key) < MIN_KEY:
        raise NotFound("no calendar has this key")
    M = models.Member
    member = session.scalars(
        select(M).where(M.calendar_key == key, M.erased_at.is_(None)).limit(1)
    ).first()
    if member is None or not roomkeys.key_matches(key, member.calendar_key):
        raise NotFound("no calendar has this key")
    B = models.Booking
    attends = select(models.BookingAttendee.booking_id).where(
        models.BookingAttendee.member_id == member.id
    )
    bookings = session.scalars(
        select(B)
        .where(
            or_(B.member_id == member.id, B.id.in_(attends)),
            B.room_id.in_(scope.rooms(site.id)),
            B.status.in_(BUSY_STATUSES),
            B.end > now - WINDOW_BEFORE,
            B.start < now + WINDOW_AFTER,
        )
        .order_by(B.start, B.id)
    )
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", site.site.name)
    cal.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT15M")
    for booking in bookings:
        room = site.room(booking.room_id)
        where = room.name if room is not None else booking.room_id
        event = Event()
        event.add("uid", f"booking-{booking.id}@spacehub")
        event.add("dtstamp", booking.created_at or now)
        event.add("sequence", booking.sequence)
        event.add("dtstart", booking.start)
        event.add("dtend", booking.end)
        event.add("summary", f"{booking.title} — {where}" if booking.title else where)
        event.add("location", f"{where}, {site.site.name}")
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    return cal.to_ical()  # type: ignore[no-any-return]


def _member(session: Session, member_id: int) -> models.Member:
    member = session.get(models.Member, member_id)
    if member is None:
        raise NotFound(f"member {member_id} not found")
    return member
