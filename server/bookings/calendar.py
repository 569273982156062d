"""A room's bookings as an RFC 5545 calendar feed, for calendar apps.

The feed's URL carries a per-room secret instead of a bearer token, since calendar apps
cannot send one. Each bookable room has two: `calendar_key` shows busy times only
(`Zajęte / Busy`, no names, titles or member ids), `staff_calendar_key` shows each
booking's title and holder. Staff rotate both at once; the old keys stop working."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.bookings.roomkeys import bookable_room, key_matches, new_key
from server.db import models
from server.errors import Forbidden
from server.site import SiteConfig

# Bookings the feed carries, around the time it is fetched.
WINDOW_BEFORE = timedelta(days=30)
WINDOW_AFTER = timedelta(days=180)
# Statuses of a room that was (or will be) in use; released and cancelled ones are not.
BUSY_STATUSES = ("booked", "checked_in", "completed")
BUSY = "Zajęte / Busy"
PRODID = "-//spacehub//room calendar//PL"

Audience = Literal["public", "staff"]


def room_keys(session: Session, *, site: SiteConfig, room_id: str) -> tuple[models.Room, bool]:
    """The room with both calendar keys, and whether a key was drawn just now (first
    use)."""
    room = bookable_room(session, site=site, room_id=room_id)
    if room.calendar_key is not None and room.staff_calendar_key is not None:
        return room, False
    room.calendar_key = room.calendar_key or new_key()
    room.staff_calendar_key = room.staff_calendar_key or new_key()
    session.flush()
    return room, True


def rotate_keys(session: Session, *, site: SiteConfig, room_id: str) -> models.Room:
    """Draw new public and staff keys for the room; the old ones stop working at once."""
    room = bookable_room(session, site=site, room_id=room_id)
    room.calendar_key = new_key()
    room.staff_calendar_key = new_key()
    session.flush()
    return room


def feed_url(room_id: str, key: str) -> str:
    """The feed's URL, relative to the server."""
    return f"/api/rooms/{room_id}/calendar.ics?key={key}"


def audience(room: models.Room, key: str | None) -> Audience:
    """Whom `key` opens the room's feed to; Forbidden for a wrong or missing key."""
    # Both compared every time, so the answer's timing does not say which one nearly matched.
    public = key_matches(key, room.calendar_key)
    staff = key_matches(key, room.staff_calendar_key)
    if staff:
        return "staff"
    if public:
        return "public"
    raise Forbidden("invalid calendar key")


def room_feed(
    session: Session, *, site: SiteConfig, room_id: str, key: str | None, now: datetime
) -> bytes:
    """The room's calendar as iCalendar bytes: NotFound for an unknown room, Forbidden for
    a wrong key; bookings from WINDOW_BEFORE ago to WINDOW_AFTER ahead."""
    room = bookable_room(session, site=site, room_id=room_id)
    who = audience(room, key)
    B = models.Booking
    stmt = (
        select(B)
        .where(
            B.room_id == room_id,
            B.status.in_(BUSY_STATUSES),
            B.end > now - WINDOW_BEFORE,
            B.start < now + WINDOW_AFTER,
        )
        .order_by(B.start, B.id)
    )
    bookings = list(session.scalars(stmt))
    holders: dict[int, str] = {}
    if who == "staff" and bookings:
        ids = {b.member_id for b in bookings}
        rows = session.execute(
            select(models.Member.id, models.Member.name).where(models.Member.id.in_(ids))
        )
        holders = {member_id: name for member_id, name in rows}
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    name = f"{room.name} — {site.site.name}"
    cal.add("x-wr-calname", f"{name} (staff)" if who == "staff" else name)
    cal.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT15M")
    for booking in bookings:
        cal.add_component(_event(booking, who, holders.get(booking.member_id), now))
    return cal.to_ical()


def _event(booking: models.Booking, who: Audience, holder: str | None, now: datetime) -> Event:
    event = Event()
    event.add("uid", f"booking-{booking.id}@spacehub")
    event.add("dtstamp", booking.created_at or now)
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    event.add("transp", "OPAQUE")
    event.add("status", "CONFIRMED")
    if who == "staff":
        holder = holder or f"member {booking.member_id}"
        event.add("summary", f"{booking.title} ({holder})" if booking.title else holder)
        lines = [
            f"Rezerwujący / Holder: {holder} (#{booking.member_id})",
            f"Status: {booking.status}",
        ]
        if booking.title:
            lines.insert(0, booking.title)
        event.add("description", "\n".join(lines))
    else:
        event.add("summary", BUSY)
    return event
