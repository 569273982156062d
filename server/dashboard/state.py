"""A room's state in one word, as the dashboard shows it, from its occupancy and bookings.

A pure function of plain values, so the rule is tested without a database:

>>> room_state(occupied=True, people=None, capacity=12, bookable=True, current=None)
<RoomState.IN_USE_UNBOOKED: 'in_use_unbooked'>
"""

from __future__ import annotations

from enum import StrEnum

from server.occupancy.live import over_capacity


class RoomState(StrEnum):
    """What a receptionist needs to know about a room right now (worded in `i18n`)."""

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
