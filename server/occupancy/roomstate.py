"""A room's state in one word, from its occupancy and bookings: what the dashboard's room
card and the room's door panel show.

`room_state` is a pure function of plain values, so the rule is tested without a
database; `room_now` reads those values for one room (its occupancy, its current and next
bookings) and applies it:

>>> room_state(occupied=True, people=None, capacity=12, bookable=True, current=None)
<RoomState.IN_USE_UNBOOKED: 'in_use_unbooked'>
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from server.bookings import store
from server.db import models
from server.occupancy.live import Evidence, in_use_evidence, over_capacity
from server.occupancy.schemas import RoomOut
from server.occupancy.state import vacancy
from server.site import SiteConfig


class RoomState(StrEnum):
    """What a receptionist needs to know about a room right now (worded in the catalogue's
    `state.*`)."""

    FREE = "free"
    BOOKED_WAITING = "booked_waiting"
    IN_USE = "in_use"
    IN_USE_UNBOOKED = "in_use_unbooked"
    CHECKED_IN_UNSEEN = "checked_in_unseen"
    RELEASED = "released"
    OVER_CAPACITY = "over_capacity"


def room_state(
    *,
    occupied: bool,  # server.occupancy.live.in_use_evidence found people or motion
    people: int | None,
    capacity: int | None,
    bookable: bool,
    current: str | None,
    released_now: bool = False,
    arrived_early: bool = False,
) -> RoomState:
    """The state of a room from its live occupancy and the status of its current booking
    (`booked`, `checked_in` or None; `arrived_early`: the next booking is checked in
    before its start, which counts as a checked-in current one), first match wins:

    - over capacity: more people counted than the room holds;
    - in use: occupied while a booking holds the room (checked in, or not yet: people are
      there), or occupied and not bookable (the coworking zone, the entrance: nobody books
      them, so being in use without a booking is normal there);
    - in use without booking: occupied, bookable, and no booking holds it;
    - checked in, nobody seen: a checked-in booking holds it and neither people nor
      motion are seen now (a break, or they left): never "in use" without evidence;
    - booked and waiting: a booking holds it and its holder has not arrived;
    - released: empty, and a booking of this time was released (a no-show, or given back);
    - free: empty and not held.
    """
    if current is None and arrived_early:
        current = "checked_in"
    if over_capacity(people, capacity):
        return RoomState.OVER_CAPACITY
    if occupied:
        if current is not None or not bookable:
            return RoomState.IN_USE
        return RoomState.IN_USE_UNBOOKED
    if current == "checked_in":
        return RoomState.CHECKED_IN_UNSEEN
    if current == "booked":
        return RoomState.BOOKED_WAITING
    if released_now:
        return RoomState.RELEASED
    return RoomState.FREE


# -- one room, now ------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomNow:
    """A room's state now, with why (`evidence`) and the first booking after now that
    still holds its time (`later`: booked, or checked in early)."""

    state: RoomState
    evidence: Evidence | None
    later: models.Booking | None


def room_now(session: Session, *, site: SiteConfig, room: RoomOut, now: datetime) -> RoomNow:
    """The state of `room` (as server.occupancy.rooms reads it: occupancy and current
    booking) at `now`."""
    current = room.current_booking
    later = next_booking(session, room_id=room.id, now=now)
    seen = room.occupancy
    evidence = in_use_evidence(
        occupied=seen.occupied,
        people=seen.people,
        last_motion=seen.last_motion,
        now=now,
        vacancy_timeout=vacancy(site),
    )
    state = room_state(
        occupied=evidence is not None,
        people=seen.people,
        capacity=room.capacity,
        bookable=room.bookable,
        current=current.status if current else None,
        released_now=current is None and released_now(session, room_id=room.id, now=now),
        arrived_early=later is not None and later.status == "checked_in",
    )
    return RoomNow(state=state, evidence=evidence, later=later)


def upcoming_bookings(
    session: Session, *, room_id: str, now: datetime, limit: int = 2
) -> list[models.Booking]:
    """The first bookings of the room that start after `now` and still hold their time
    (booked, or already checked in by an early arrival), by start."""
    later = store.list_bookings(session, room_id=room_id, start_from=now, limit=20)
    return [b for b in later if b.start > now and b.status in store.CURRENT][:limit]


def next_booking(session: Session, *, room_id: str, now: datetime) -> models.Booking | None:
    """The first of `upcoming_bookings`, or None."""
    found = upcoming_bookings(session, room_id=room_id, now=now, limit=1)
    return found[0] if found else None


def released_now(session: Session, *, room_id: str, now: datetime) -> bool:
    """A booking of the room whose slot holds `now` was released."""
    just = now + timedelta(microseconds=1)
    released = store.list_bookings(
        session, room_id=room_id, status="released", start_from=now, end_to=just, limit=1
    )
    return bool(released)
