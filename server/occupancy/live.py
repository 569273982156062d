"""The pure derivation of a room's occupancy from what its sensors reported:

>>> t = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
>>> live = with_motion(Live(), motion=False, at=t)
>>> derive(live, now=t + timedelta(minutes=10), vacancy_timeout=timedelta(minutes=15)).occupied
True
>>> derive(live, now=t + timedelta(minutes=15), vacancy_timeout=timedelta(minutes=15)).occupied
False
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from protocol.hours import closing as daily_closing


@dataclass(frozen=True)
class Live:
    """What a room's sensors reported, as plain values (a RoomState row)."""

    people: int | None = None  # None: no counter watches the room
    last_motion: datetime | None = None
    motion: bool = False  # the last Motion said motion goes on
    counted_since: datetime | None = None  # the last reset of `people`
    last_activity: datetime | None = None  # the last sensor event applied


@dataclass(frozen=True)
class RoomOccupancy:
    occupied: bool
    people: int | None
    last_motion: datetime | None


def derive(live: Live, *, now: datetime, vacancy_timeout: timedelta) -> RoomOccupancy:
    """The room's occupancy at `now`."""
    recent = live.last_motion is not None and now - live.last_motion < vacancy_timeout
    occupied = (live.people or 0) > 0 or live.motion or recent
    return RoomOccupancy(occupied=occupied, people=live.people, last_motion=live.last_motion)


@dataclass(frozen=True)
class Evidence:
    """What shows that somebody is in a room now: people its counter counts inside, or
    motion its sensor saw (`motion_minutes` ago; 0 while motion goes on)."""

    people: int | None = None
    motion_minutes: int | None = None


def in_use_evidence(
    *,
    occupied: bool,
    people: int | None,
    last_motion: datetime | None,
    now: datetime,
    vacancy_timeout: timedelta,
) -> Evidence | None:
    """Why a room counts as in use now, or None when nothing shows anybody there: a
    booking checked in is no evidence by itself (its holders may have gone), nor a
    capacity. People counted come first; otherwise the motion that keeps it occupied
    (still occupied past the vacancy timeout: the sensor says motion goes on, so now).

    >>> t, quarter = datetime(2026, 3, 2, 9, 0, tzinfo=UTC), timedelta(minutes=15)
    >>> in_use_evidence(occupied=True, people=3, last_motion=None, now=t, vacancy_timeout=quarter)
    Evidence(people=3, motion_minutes=None)
    >>> two = t - timedelta(minutes=2)
    >>> in_use_evidence(occupied=True, people=0, last_motion=two, now=t, vacancy_timeout=quarter)
    Evidence(people=None, motion_minutes=2)
    """
    if people:
        return Evidence(people=people)
    if not occupied or last_motion is None:
        return None
    ago = now - last_motion
    going_on = ago >= vacancy_timeout
    return Evidence(motion_minutes=0 if going_on else max(0, int(ago.total_seconds() // 60)))


def with_motion(live: Live, *, motion: bool, at: datetime) -> Live:
    """A Motion event seen at `at`: motion was there then (until then, when it stopped).
    An older event delivered late does not undo what a newer one said."""
    newest = live.last_motion is None or at >= live.last_motion
    # A no-motion report ends motion seen before it; with none before (a sensor's first
    # reading after a start), it says nobody has been seen, and sets no time.
    saw_motion = motion or live.motion
    return replace(
        live,
        last_motion=at if newest and saw_motion else live.last_motion,
        motion=motion if newest else live.motion,
        last_activity=later(live.last_activity, at),
    )


def with_count(live: Live, *, entered: int, left: int, at: datetime) -> Live:
    """A Count event seen at `at`: people in the room, never below zero, never capped.
    Crossings from before the last reset belong to a day already closed."""
    if live.counted_since is not None and at < live.counted_since:
        return live
    people = max(0, (live.people or 0) + entered - left)
    return replace(live, people=people, last_activity=later(live.last_activity, at))


def with_reset(live: Live, *, closing: datetime | None) -> Live:
    """The people count back to zero once the site has closed since its last reset."""
    if live.people is None or closing is None:
        return live
    if live.counted_since is not None and live.counted_since >= closing:
        return live
    return replace(live, people=0, counted_since=closing)


def vacant_for(live: Live, *, since: datetime, now: datetime, timeout: timedelta) -> bool:
    """Whether nobody has been seen in the room for `timeout`, counting from `since` at
    the earliest (a walk-in's start)."""
    if (live.people or 0) > 0 or live.motion:
        return False
    seen = [t for t in (since, live.last_motion, live.last_activity) if t is not None]
    return now - max(seen) >= timeout


def over_capacity(people: int | None, capacity: int | None) -> bool:
    return people is not None and capacity is not None and people > capacity


def last_closing(hours: dict[str, list[str]], zone: ZoneInfo, now: datetime) -> datetime | None:
    """The latest daily closing time (end of a day's last opening interval) at or before
    `now`, within the past week; None for a site without opening hours."""
    today = now.astimezone(zone).date()
    for back in range(8):
        closing = daily_closing(hours, today - timedelta(days=back), zone)
        if closing is not None and closing <= now:
            return closing
    return None


def later(a: datetime | None, b: datetime) -> datetime:
    """The later of two times, `a` possibly unknown."""
    return b if a is None else max(a, b)
