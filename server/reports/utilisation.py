"""The report's figures: each booking's span and each room's occupied time, summed per room,
week and member category; and the one function that reads them from the database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocol.policy import Category
from server.db import models
from server.reports.freed import nobody_came, reused
from server.reports.intervals import Interval, clip, hours, intersect, union
from server.reports.occupied import CountSample, MotionSample, count_intervals, motion_intervals
from server.reports.weeks import Week, check_range, closing_times, local_midnight, weeks
from server.site import SiteConfig

CATEGORIES: tuple[str, ...] = get_args(Category)
# Statuses in which a booking holds its room's time (as `server.bookings.store.OCCUPYING`).
HOLDING = ("booked", "checked_in", "completed")
# Booked hours are those of every booking that was not cancelled.
BOOKED = (*HOLDING, "released")
# Bookings that take a freed slot again.
RETAKING_SOURCES = ("walk_in", "waitlist")


@dataclass(frozen=True)
class Span:
    """What the report needs of one booking."""

    room_id: str
    category: str
    status: str
    source: str
    start: datetime
    end: datetime
    no_show: Interval | None = None  # nobody came: from its grace's end (`freed`)
    released: Interval | None = None  # the part of that given back to the pool

    @classmethod
    def of(
        cls,
        *,
        room_id: str,
        category: str,
        status: str,
        source: str,
        start: datetime,
        end: datetime,
        completed_at: datetime | None = None,
        released_at: datetime | None = None,
        grace: timedelta = timedelta(0),
        now: datetime | None = None,
    ) -> Span:
        """A booking's span; a completed one ends when it was completed, if that was
        before its end (a walk-in that ended because the room stood vacant). With `now`,
        the hours nobody came to and those released (`freed.nobody_came`, its `grace`)."""
        if status == "completed" and completed_at is not None:
            end = max(start, min(end, completed_at))
        no_show, released = (
            (None, None)
            if now is None
            else nobody_came(
                status=status, start=start, end=end, released_at=released_at, grace=grace, now=now
            )
        )
        return cls(room_id, category, status, source, start, end, no_show, released)

    @property
    def interval(self) -> Interval:
        return (self.start, self.end)


def _by_category() -> dict[str, float]:
    return dict.fromkeys(CATEGORIES, 0.0)


@dataclass
class RoomWeek:
    """One room's hours in one week, unrounded; per-category maps have every category."""

    room_id: str
    name: str
    booked: dict[str, float] = field(default_factory=_by_category)
    used_total: float = 0.0
    used_in_bookings: dict[str, float] = field(default_factory=_by_category)
    no_show: dict[str, float] = field(default_factory=_by_category)
    released: dict[str, float] = field(default_factory=_by_category)
    reused: dict[str, float] = field(default_factory=_by_category)


@dataclass
class WeekReport:
    week: Week
    rooms: list[RoomWeek]


@dataclass
class Utilisation:
    timezone: str
    first_day: date
    last_day: date
    weeks: list[WeekReport]


def room_week(
    *,
    room_id: str,
    name: str,
    spans: Sequence[Span],
    occupied: Sequence[Interval],
    start: datetime,
    end: datetime,
) -> RoomWeek:
    """One room's figures in `[start, end)` from its bookings and its occupied intervals."""
    out = RoomWeek(room_id=room_id, name=name)
    occupied = union(clip(occupied, start, end))
    out.used_total = hours(occupied)
    retakers = union(
        s.interval for s in spans if s.source in RETAKING_SOURCES and s.status in HOLDING
    )
    for span in spans:
        if span.category not in out.booked:
            continue  # not a member category the report knows
        inside = clip([span.interval], start, end)
        if not inside:
            continue
        if span.status in BOOKED:
            out.booked[span.category] += hours(inside)
        if span.status in HOLDING:
            out.used_in_bookings[span.category] += hours(intersect(occupied, inside))
        if span.no_show is not None:
            out.no_show[span.category] += hours(clip([span.no_show], start, end))
        if span.released is not None:
            released = clip([span.released], start, end)
            out.released[span.category] += hours(released)
            out.reused[span.category] += reused(released, retakers)
    return out


def utilisation(
    *,
    timezone: str,
    first_day: date,
    last_day: date,
    rooms: Sequence[tuple[str, str]],
    spans: Iterable[Span],
    occupied: Mapping[str, Sequence[Interval]],
) -> Utilisation:
    """The report over `[first_day, last_day]` for `rooms` (id, name), from every booking
    span and each room's occupied intervals."""
    tz = ZoneInfo(timezone)
    by_room: dict[str, list[Span]] = {room_id: [] for room_id, _ in rooms}
    for span in spans:
        if span.room_id in by_room:
            by_room[span.room_id].append(span)
    return Utilisation(
        timezone=timezone,
        first_day=first_day,
        last_day=last_day,
        weeks=[
            WeekReport(
                week=week,
                rooms=[
                    room_week(
                        room_id=room_id,
                        name=name,
                        spans=by_room[room_id],
                        occupied=occupied.get(room_id, ()),
                        start=week.start,
                        end=week.end,
                    )
                    for room_id, name in rooms
                ],
            )
            for week in weeks(first_day, last_day, tz)
        ],
    )


# --- reading it from the database ---------------------------------------------------------


def load_utilisation(
    session: Session, *, site: SiteConfig, first_day: date, last_day: date, now: datetime
) -> Utilisation:
    """The report of the site's bookable rooms over the local days `[first_day, last_day]`
    as of `now`; Invalid for a range `check_range` refuses.

    A room is used only up to `now`: people counted in and not yet out, or motion whose
    vacancy timeout has not run out, are use until now, never until the closing time or
    the timeout (the future is not known yet). Booked hours are the plan, future ones too."""
    check_range(first_day, last_day)
    tz = ZoneInfo(site.site.timezone)
    start = local_midnight(first_day, tz)
    end = local_midnight(last_day + timedelta(days=1), tz)
    rooms = [(r.id, r.name) for r in site.rooms if r.bookable]
    room_ids = [room_id for room_id, _ in rooms]
    # People are counted from the last reset before the range (a week back finds it when
    # the site has opening hours; without them counts never reset, so from the range's start).
    resets = closing_times(site.site.hours, first_day - timedelta(days=7), last_day, tz)
    counted_from = max((r for r in resets if r <= start), default=start)
    timeout = timedelta(seconds=site.walk_in.vacancy_timeout)
    known_until = max(start, min(end, now))
    occupied: dict[str, list[Interval]] = {}
    for room_id in room_ids:
        motion = motion_intervals(
            _motion(session, room_id=room_id, start=start, end=end), vacancy_timeout=timeout
        )
        counts = count_intervals(
            _counts(session, room_id=room_id, start=counted_from, end=end),
            resets=resets,
            until=known_until,
        )
        occupied[room_id] = clip(union(motion + counts), start, known_until)
    return utilisation(
        timezone=site.site.timezone,
        first_day=first_day,
        last_day=last_day,
        rooms=rooms,
        spans=_spans(
            session,
            room_ids=room_ids,
            start=start,
            end=end,
            grace=timedelta(seconds=site.access.no_show_grace),
            now=now,
        ),
        occupied=occupied,
    )


def _spans(
    session: Session,
    *,
    room_ids: list[str],
    start: datetime,
    end: datetime,
    grace: timedelta,
    now: datetime,
) -> list[Span]:
    B, M = models.Booking, models.Member
    rows = session.execute(
        select(
            B.room_id,
            M.category,
            B.status,
            B.source,
            B.start,
            B.end,
            B.completed_at,
            B.released_at,
        )
        .join(M, M.id == B.member_id)
        .where(
            B.room_id.in_(room_ids),
            B.status.in_(BOOKED),
            B.start < end,
            B.end > start,
        )
    )
    return [
        Span.of(
            room_id=room_id,
            category=category,
            status=status,
            source=source,
            start=b_start,
            end=b_end,
            completed_at=completed_at,
            released_at=released_at,
            grace=grace,
            now=now,
        )  # fmt: skip
        for room_id, category, status, source, b_start, b_end, completed_at, released_at in rows
    ]


def _motion(
    session: Session, *, room_id: str, start: datetime, end: datetime
) -> list[MotionSample]:
    """The room's motion reports in `[start, end)`, and around it for each PIR: its last
    `motion` before the range with what followed it (a motion seen before the range may
    last into it), and its first report after (the `no_motion` ending one inside)."""
    E = models.DeviceEvent
    mine = (E.room_id == room_id, E.kind == "motion")
    last_on = (
        select(E.device_id, func.max(E.ts).label("ts"))
        .where(*mine, E.event == "motion", E.ts < start)
        .group_by(E.device_id)
        .subquery()
    )
    first_after = (
        select(E.device_id, func.min(E.ts).label("ts"))
        .where(*mine, E.ts >= end)
        .group_by(E.device_id)
        .subquery()
    )
    columns = (E.device_id, E.ts, E.event)
    rows = list(session.execute(select(*columns).where(*mine, E.ts >= start, E.ts < end)))
    rows += session.execute(
        select(*columns)
        .join(last_on, last_on.c.device_id == E.device_id)
        .where(*mine, E.ts >= last_on.c.ts, E.ts < start)
    )
    rows += session.execute(
        select(*columns)
        .join(first_after, (first_after.c.device_id == E.device_id) & (first_after.c.ts == E.ts))
        .where(*mine)
    )
    return [MotionSample(device_id=d, ts=ts, motion=event == "motion") for d, ts, event in rows]


def _counts(session: Session, *, room_id: str, start: datetime, end: datetime) -> list[CountSample]:
    E = models.DeviceEvent
    rows = session.execute(
        select(E.ts, E.entered, E.left).where(
            E.room_id == room_id, E.kind == "count", E.ts >= start, E.ts < end
        )
    )
    return [CountSample(ts=ts, delta=entered - left) for ts, entered, left in rows]
