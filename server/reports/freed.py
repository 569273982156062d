"""Hours nobody came to, and what became of them: the one rule the utilisation report and
`spacehub simulate` count by.

- no-show: a booking nobody came to (released without a check-in, or still `booked`
  once its grace has passed), from the end of its grace to its end: the grace is the
  holder's, and nobody else could have had those minutes;
- released: the part of those hours given back to the pool, from the booking's release
  (never before its grace ended) to its end;
- reused: the part of the released hours a walk-in or a waitlist booking of the same
  room holds (`reused`).

>>> from datetime import UTC, datetime
>>> t = lambda h, m=0: datetime(2026, 3, 2, h, m, tzinfo=UTC)
>>> grace = timedelta(minutes=15)
>>> nobody_came(status="released", start=t(10), end=t(12), released_at=t(10, 15),
...             grace=grace, now=t(13)) == ((t(10, 15), t(12)), (t(10, 15), t(12)))
True
>>> nobody_came(status="completed", start=t(10), end=t(12), released_at=None,
...             grace=grace, now=t(13))
(None, None)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from protocol.bookingrules import release_at
from server.reports.intervals import Interval, hours, intersect

NoShow = tuple[Interval | None, Interval | None]


def nobody_came(
    *,
    status: str,
    start: datetime,
    end: datetime,
    released_at: datetime | None,
    grace: timedelta,
    now: datetime,
) -> NoShow:
    """(no-show, released) intervals of one booking; (None, None) for a booking somebody
    came to, a cancelled one, or one whose grace has not passed by `now`."""
    lost_from = release_at(start, grace)
    if status not in ("released", "booked") or lost_from >= end:
        return None, None
    if status == "booked" and now < lost_from:
        return None, None  # its holder may still come
    no_show = (lost_from, end)
    if status != "released" or released_at is None:
        return no_show, None  # past its grace, never given back (the sweep did not run)
    freed_from = max(released_at, lost_from)
    return no_show, ((freed_from, end) if freed_from < end else None)


def reused(released: Iterable[Interval], retakers: Iterable[Interval]) -> float:
    """Hours of `released` time that walk-ins and waitlist bookings (`retakers`) hold."""
    return hours(intersect(released, retakers))
