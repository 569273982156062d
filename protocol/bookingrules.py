"""The booking rules a door, the gateway and the server share, as pure functions of plain
values and an explicit `now` (aware datetimes, counted in real time, so a rule lasts its
length however the wall clock jumps).

- the check-in window: a booking may be checked in (by a tap, or by motion) from
  `early` before its start until its grace ends, and never once it has ended;
- the no-show rule: a booking still `booked` when its grace has passed is due for
  release, whether or not the server's sweep has run yet;
- may-book: a member suspended (from everything, or from booking after repeated
  no-shows) may not book, and a start may lie a little in the past, no further.

>>> start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
>>> early = grace = timedelta(minutes=15)
>>> opens, closes = checkin_window(start, start + timedelta(hours=1), early, grace)
>>> (opens.strftime("%H:%M"), closes.strftime("%H:%M"))
('08:45', '09:15')
>>> no_show_due(start, grace, now=start + timedelta(minutes=15))
True
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

# A start this far in the past is still accepted, by a booking and by a waitlist entry
# alike (a form filled in slowly, clocks a little apart).
PAST_TOLERANCE = timedelta(minutes=5)


# -- the check-in window ------------------------------------------------------------------


def checkin_window(
    start: datetime, end: datetime, early: timedelta, grace: timedelta
) -> tuple[datetime, datetime]:
    """[opens, closes): when a booking of [start, end) may be checked in: from `early`
    before its start until its grace ends, or its end if that comes first."""
    return start - early, min(start + grace, end)


def in_checkin_window(
    start: datetime, end: datetime, early: timedelta, grace: timedelta, at: datetime
) -> bool:
    """Whether `at` is inside the booking's check-in window."""
    opens, closes = checkin_window(start, end, early, grace)
    return opens <= at < closes


def checkin_starts(at: datetime, early: timedelta, grace: timedelta) -> tuple[datetime, datetime]:
    """(after, until): the bookings whose check-in window holds `at` are those that start
    in (after, until] and end after `at`; for a query that filters on the window."""
    return at - grace, at + early


# -- the no-show rule ---------------------------------------------------------------------


def release_at(start: datetime, grace: timedelta) -> datetime:
    """When a booking nobody checked in is released: its start plus the grace."""
    return start + grace


def no_show_due(start: datetime, grace: timedelta, now: datetime) -> bool:
    """Whether a booking still `booked` is due for release at `now`."""
    return now >= release_at(start, grace)


def release_due_before(now: datetime, grace: timedelta) -> datetime:
    """The latest start a booking due for release at `now` may have: still `booked` with
    `start <= release_due_before(now, grace)` is a no-show; for a query."""
    return now - grace


# -- may-book -------------------------------------------------------------------------------


def suspended(until: datetime | None, now: datetime) -> bool:
    """Whether a suspension that lasts `until` (None: none) still holds at `now`."""
    return until is not None and until > now


class Bar(StrEnum):
    """Why a member may not book now."""

    SUSPENDED = "suspended"  # suspended by staff: no doors, no bookings
    BOOKING_SUSPENDED = "booking_suspended"  # suspended from booking after no-shows


class Barred(NamedTuple):
    bar: Bar
    until: datetime


def booking_bar(
    suspended_until: datetime | None, booking_suspended_until: datetime | None, now: datetime
) -> Barred | None:
    """What keeps a member from booking at `now`, with its end; None when nothing does.
    A suspension by staff comes first."""
    if suspended_until is not None and suspended(suspended_until, now):
        return Barred(Bar.SUSPENDED, suspended_until)
    if booking_suspended_until is not None and suspended(booking_suspended_until, now):
        return Barred(Bar.BOOKING_SUSPENDED, booking_suspended_until)
    return None


def may_book(
    suspended_until: datetime | None, booking_suspended_until: datetime | None, now: datetime
) -> bool:
    """Whether a member with these suspensions may book (or be offered a slot) at `now`."""
    return booking_bar(suspended_until, booking_suspended_until, now) is None


def start_in_past(start: datetime, now: datetime) -> bool:
    """Whether `start` lies further in the past than a booking may start."""
    return start < now - PAST_TOLERANCE


def past_horizon(start: datetime, now: datetime, horizon: timedelta) -> bool:
    """Whether `start` lies further ahead than bookings may be made."""
    return start > now + horizon
