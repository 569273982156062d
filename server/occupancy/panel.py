"""What a room's door panel shows: free, booked or in use, the current and next bookings
(their titles and times, never who holds them) and, while the holder of the current
booking has not checked in, when it will be released.

The three words come from the room's state as the dashboard tells it
(server.occupancy.roomstate): a booking waiting for its holder is `booked`; people seen,
or a booking checked in, is `in use`; anything else (a released slot included) is
`free`. The release time is the no-show rule's (protocol.bookingrules.release_at): the
sweep releases the booking then, unless somebody checks in first.

    state = panel_state(session, site=site, room_id="sala-a", now=now)
    state.status, state.release_at   # PanelStatus.BOOKED, 09:15 for a booking of 09:00
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from protocol.bookingrules import release_at
from server.bookings.schemas import BookingOut
from server.db import models
from server.occupancy.rooms import get_room
from server.occupancy.roomstate import RoomState, room_now, upcoming_bookings
from server.occupancy.state import vacancy
from server.site import SiteConfig


class PanelStatus(StrEnum):
    """What a passer-by needs to know: may I go in?"""

    FREE = "free"
    BOOKED = "booked"  # held by a booking whose holder has not come yet
    IN_USE = "in_use"


PANEL_STATUS = {
    RoomState.FREE: PanelStatus.FREE,
    RoomState.RELEASED: PanelStatus.FREE,
    RoomState.BOOKED_WAITING: PanelStatus.BOOKED,
    RoomState.IN_USE: PanelStatus.IN_USE,
    RoomState.IN_USE_UNBOOKED: PanelStatus.IN_USE,
    RoomState.CHECKED_IN_UNSEEN: PanelStatus.IN_USE,
    RoomState.OVER_CAPACITY: PanelStatus.IN_USE,
}


@dataclass(frozen=True)
class PanelBooking:
    """A booking as a door panel shows it: its title (None: untitled) and times, no holder."""

    title: str | None
    start: datetime
    end: datetime
    checked_in: bool


@dataclass(frozen=True)
class PanelState:
    """A room's door panel at `now`. `release_at`: when the current booking is released
    unless checked in (None when it is checked in, public, or there is none); `changes_at`:
    the next time the panel changes with the clock alone (a booking starts or ends, motion
    grows old, the day turns), without any event to say so."""

    room_id: str
    room_name: str
    status: PanelStatus
    current: PanelBooking | None
    next: PanelBooking | None
    release_at: datetime | None
    changes_at: datetime
    now: datetime


def panel_state(session: Session, *, site: SiteConfig, room_id: str, now: datetime) -> PanelState:
    """The room's door panel now (NotFound for an unknown room)."""
    room = get_room(session, site=site, room_id=room_id, now=now)
    known = room_now(session, site=site, room=room, now=now)
    later = upcoming_bookings(session, room_id=room_id, now=now, limit=2)
    current: BookingOut | models.Booking | None = room.current_booking
    if current is None and later and later[0].status == "checked_in":
        current, later = later[0], later[1:]  # checked in early: it holds the room now
    grace = timedelta(seconds=site.access.no_show_grace)
    releases = (
        release_at(current.start, grace)
        if current is not None and current.status == "booked" and not current.public
        else None
    )
    upcoming = later[0] if later else None
    motion_ends = (
        room.occupancy.last_motion + vacancy(site)
        if known.evidence is not None and room.occupancy.last_motion is not None
        else None
    )
    return PanelState(
        room_id=room.id,
        room_name=room.name,
        status=PANEL_STATUS[known.state],
        current=_shown(current),
        next=_shown(upcoming),
        release_at=releases,
        changes_at=min(
            t
            for t in (
                current.end if current else None,
                upcoming.start if upcoming else None,
                releases,
                motion_ends,
                _next_midnight(now, ZoneInfo(site.site.timezone)),
            )
            if t is not None and t > now
        ),
        now=now,
    )


def _shown(booking: BookingOut | models.Booking | None) -> PanelBooking | None:
    if booking is None:
        return None
    return PanelBooking(
        title=booking.title or None,
        start=booking.start,
        end=booking.end,
        checked_in=booking.status == "checked_in",
    )


def _next_midnight(now: datetime, zone: ZoneInfo) -> datetime:
    """The start of the next local day."""
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(), zone)
