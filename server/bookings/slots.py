"""A room's day as the portal offers it: hour-long slots inside its bookable hours, each
free (nothing holds any of it) or taken (a member may wait for it instead).

>>> from datetime import UTC
>>> t = lambda h: datetime(2026, 3, 2, h, tzinfo=UTC)
>>> [(s.start.hour, s.free) for s in hourly([(t(9), t(12))], [(t(10), t(12))], now=t(8))]
[(9, False), (10, True), (11, True)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server.bookings.availability import availability, bookable_windows
from server.bookings.store import Interval, site_room
from server.site import SiteConfig

STEP = timedelta(hours=1)


@dataclass(frozen=True)
class Slot:
    """One hour of a room: [start, end) in UTC, and whether all of it is free."""

    start: datetime
    end: datetime
    free: bool


def hourly(windows: Sequence[Interval], free: Sequence[Interval], *, now: datetime) -> list[Slot]:
    """The hour-long slots that lie wholly inside one of `windows` (a room's bookable
    hours) and start at `now` or later, on the hour; free when one free interval holds it."""
    slots = []
    for lo, hi in windows:
        start = lo.replace(minute=0, second=0, microsecond=0)
        if start < lo:
            start += STEP
        while start + STEP <= hi:
            if start >= now:
                end = start + STEP
                slots.append(Slot(start, end, any(a <= start and end <= b for a, b in free)))
            start += STEP
    return slots


def day_slots(
    session: Session, *, site: SiteConfig, room_id: str, day: date, now: datetime
) -> list[Slot]:
    """The slots of a room on a local day (NotFound for an unknown room; none for a room
    that cannot be booked)."""
    room = site_room(site, room_id=room_id)
    if not room.bookable:
        return []
    zone = ZoneInfo(site.site.timezone)
    lo = datetime.combine(day, time(0), zone).astimezone(UTC)
    hi = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    free = availability(session, site=site, room_id=room_id, start=lo, end=hi)
    return hourly(bookable_windows(site, room, lo, hi), free, now=now)
