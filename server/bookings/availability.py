"""A room's free time: its bookable hours (in the site's time zone) less the bookings that
hold it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.hours import day_spans
from server.bookings.store import OCCUPYING, Interval, site_room
from server.db import models
from server.errors import Invalid
from server.site import Room, SiteConfig

# The longest range `availability` answers for.
MAX_AVAILABILITY_RANGE = timedelta(days=31)


# --- a room's bookable hours -----------------------------------------------------------


def bookable_windows(
    site: SiteConfig, room: Room, start: datetime, end: datetime
) -> list[Interval]:
    """The parts of [start, end) in which the room may be booked, in order."""
    if room.hours is None:
        return [(start, end)]
    tz = ZoneInfo(site.site.timezone)
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    out = []
    while day <= last:
        for lo, hi in day_spans(room.hours, day, tz):
            lo, hi = max(lo, start), min(hi, end)
            if lo < hi:
                out.append((lo, hi))
        day += timedelta(days=1)
    return sorted(out)


# --- free intervals --------------------------------------------------------------------


def availability(
    session: Session, *, site: SiteConfig, room_id: str, start: datetime, end: datetime
) -> list[Interval]:
    """The free intervals of a room in [start, end): inside its bookable hours and held by
    no booking. A room that cannot be booked has none. NotFound for an unknown room."""
    room = site_room(site, room_id=room_id)
    if end <= start:
        raise Invalid("to must be after from")
    if end - start > MAX_AVAILABILITY_RANGE:
        raise Invalid(f"the range may span at most {MAX_AVAILABILITY_RANGE.days} days")
    if not room.bookable:
        return []
    # Only the two times, through ix_bookings_room_time (room_id = ?, start < ?).
    busy = session.execute(
        select(models.Booking.start, models.Booking.end)
        .where(
            models.Booking.room_id == room_id,
            models.Booking.start < end,
            models.Booking.end > start,
            models.Booking.status.in_(OCCUPYING),
        )
        .order_by(models.Booking.start)
    ).all()
    return subtract(bookable_windows(site, room, start, end), [(b[0], b[1]) for b in busy])


def subtract(windows: Sequence[Interval], busy: Sequence[Interval]) -> list[Interval]:
    """The parts of sorted, disjoint `windows` that no interval of `busy` (sorted by start)
    covers."""
    free: list[Interval] = []
    i = 0
    for lo, hi in windows:
        while i < len(busy) and busy[i][1] <= lo:
            i += 1
        cursor = lo
        j = i
        while j < len(busy) and busy[j][0] < hi:
            if busy[j][0] > cursor:
                free.append((cursor, busy[j][0]))
            cursor = max(cursor, busy[j][1])
            j += 1
        if cursor < hi:
            free.append((cursor, hi))
    return free
