"""The utilisation report a municipal hub sends its funders: per bookable room and ISO week
(Monday to Sunday in the site's time zone), booked, used, no-show and re-taken hours, split
by the member category of the booking's holder.

Pure functions over plain values (intervals, sensor samples, booking spans) do the work;
`load_utilisation` is the one that reads the database. Intervals are half-open
`[start, end)` pairs of aware UTC datetimes.

- booked: bookings that were not cancelled (`booked`, `checked_in`, `completed`,
  `released`), each clipped to the week; a completed booking counts until it ended.
- used: when the room's sensors saw it occupied (motion within the site's vacancy timeout,
  or a people count above zero); the room's total, and the part inside each booking that
  holds the room, for that booking holder's category.
- no-show: released bookings, from start to end.
- re-taken: the part of a released booking's slot covered by a walk-in or waitlist booking
  of the same room; counted for the released holder's category, so that it reads as
  "of which taken again" next to that category's no-show hours.

    >>> from datetime import UTC, datetime
    >>> t = lambda h: datetime(2026, 3, 2, h, tzinfo=UTC)
    >>> union([(t(9), t(11)), (t(10), t(12)), (t(14), t(15))]) == [(t(9), t(12)), (t(14), t(15))]
    True
    >>> hours(intersect([(t(9), t(12))], [(t(11), t(15))]))
    1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocol.policy import WEEKDAYS, Category, _parse_interval
from server import models
from server.errors import Invalid
from server.site import SiteConfig

Interval = tuple[datetime, datetime]

CATEGORIES: tuple[str, ...] = get_args(Category)
# Statuses in which a booking holds its room's time (as `bookings.OCCUPYING`).
HOLDING = ("booked", "checked_in", "completed")
# Booked hours are those of every booking that was not cancelled.
BOOKED = (*HOLDING, "released")
# Bookings that take a freed slot again.
RETAKING_SOURCES = ("walk_in", "waitlist")
# The longest range one report covers, in days (a leap year).
MAX_DAYS = 366
# Days a report may start and end on: far enough from datetime's limits that a local day
# and the days around it always convert to UTC.
FIRST_DAY, LAST_DAY = date(1971, 1, 1), date(9998, 12, 31)


# --- interval arithmetic ------------------------------------------------------------------


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering the same time; empty ones dropped, touching
    ones merged."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """The time covered by both `a` and `b`, as sorted disjoint intervals."""
    left, right = union(a), union(b)
    out: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            out.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of `intervals` inside `[start, end)`, in their order; empty ones dropped."""
    out: list[Interval] = []
    for lo, hi in intervals:
        lo, hi = max(lo, start), min(hi, end)
        if lo < hi:
            out.append((lo, hi))
    return out


def hours(intervals: Iterable[Interval]) -> float:
    """The summed length in hours; a plain sum, so `union` first if they may overlap."""
    return sum((end - start).total_seconds() for start, end in intervals) / 3600


# --- weeks in the site's time zone --------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """An ISO week, or the part of one that a report's range covers."""

    label: str  # "2026-W10"
    first_day: date  # local days, both included
    last_day: date
    start: datetime  # UTC: local midnight of `first_day`
    end: datetime  # UTC: local midnight after `last_day`

    @property
    def hours(self) -> float:
        """168 for a whole week; 167 or 169 in a week of a daylight-saving change."""
        return hours([(self.start, self.end)])


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the local `day` begins."""
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def weeks(first_day: date, last_day: date, tz: ZoneInfo) -> list[Week]:
    """The ISO weeks that `[first_day, last_day]` touches, each cut to the range."""
    out: list[Week] = []
    monday = first_day - timedelta(days=first_day.weekday())
    while monday <= last_day:
        lo, hi = max(monday, first_day), min(monday + timedelta(days=6), last_day)
        year, number, _ = monday.isocalendar()
        out.append(
            Week(
                label=f"{year}-W{number:02d}",
                first_day=lo,
                last_day=hi,
                start=local_midnight(lo, tz),
                end=local_midnight(hi + timedelta(days=1), tz),
            )
        )
        monday += timedelta(days=7)
    return out


def default_range(today: date) -> tuple[date, date]:
    """The last four full ISO weeks before the week of `today`."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=4), monday - timedelta(days=1)


def check_range(first_day: date, last_day: date) -> None:
    """Invalid (422) unless `first_day <= last_day` and the range is at most a year."""
    if last_day < first_day:
        raise Invalid("`to` is before `from`")
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise Invalid(f"a report covers at most {MAX_DAYS} days")
    if first_day < FIRST_DAY or last_day > LAST_DAY:
        raise Invalid(f"a report covers days from {FIRST_DAY} to {LAST_DAY}")


def closing_times(
    opening: Mapping[str, Sequence[str]], first_day: date, last_day: date, tz: ZoneInfo
) -> list[datetime]:
    """When the site closes on the days of `[first_day, last_day]` (UTC): the end of each
    open day's last opening interval; a closed day has none. The people counts start again
    from zero then, because beam counters drift (as `server.occupancy` does live)."""
    out: list[datetime] = []
    day = first_day
    while day <= last_day:
        ends = [_parse_interval(i)[1] for i in opening.get(WEEKDAYS[day.weekday()], [])]
        if None in ends:  # open until midnight
            out.append(local_midnight(day + timedelta(days=1), tz))
        elif ends:
            last = max(e for e in ends if e is not None)
            out.append(datetime.combine(day, last, tz).astimezone(UTC))
        day += timedelta(days=1)
    return out


# --- occupancy from sensor samples --------------------------------------------------------


@dataclass(frozen=True)
class Motion:
    """A PIR's report: motion started (`motion=True`) or stopped."""

    device_id: str
    ts: datetime
    motion: bool


@dataclass(frozen=True)
class Count:
    """A people counter's report: `entered - left` since its previous one."""

    ts: datetime
    delta: int


def motion_intervals(samples: Iterable[Motion], *, vacancy_timeout: timedelta) -> list[Interval]:
    """When motion was seen within `vacancy_timeout` (DESIGN.md, Occupancy), as a union.

    A PIR sees motion from a `motion` report until its next `no_motion`; the room stays
    occupied for the vacancy timeout after that. A `motion` not followed by a `no_motion`
    of the same device (a lost message, a sensor that went away) counts as motion seen at
    its own time only, so a missing report never stretches an occupancy.

    >>> from datetime import UTC, datetime, timedelta
    >>> t = lambda m: datetime(2026, 3, 2, 10, m, tzinfo=UTC)
    >>> got = motion_intervals([Motion("pir", t(0), True), Motion("pir", t(30), False)],
    ...                        vacancy_timeout=timedelta(minutes=15))
    >>> got == [(t(0), t(45))]
    True
    """
    by_device: dict[str, list[Motion]] = {}
    for sample in samples:
        by_device.setdefault(sample.device_id, []).append(sample)
    out: list[Interval] = []
    for series in by_device.values():
        series.sort(key=lambda s: (s.ts, not s.motion))
        for sample, after in zip(series, [*series[1:], None], strict=True):
            if not sample.motion:
                continue
            seen_until = after.ts if after is not None and not after.motion else sample.ts
            out.append((sample.ts, seen_until + vacancy_timeout))
    return union(out)


def count_intervals(
    samples: Iterable[Count], *, resets: Iterable[datetime], until: datetime
) -> list[Interval]:
    """When a room's people total (the running sum of its counters' deltas, never below
    zero, back to zero at each of `resets`) was above zero, up to `until`."""
    marks = sorted([(s.ts, 1, s.delta) for s in samples] + [(r, 0, 0) for r in resets])
    out: list[Interval] = []
    people, since = 0, None
    for ts, is_count, delta in marks:
        if ts >= until:
            break
        people = max(0, people + delta) if is_count else 0
        if people > 0 and since is None:
            since = ts
        elif people == 0 and since is not None:
            out.append((since, ts))
            since = None
    if since is not None:
        out.append((since, until))
    return union(out)


# --- bookings and the figures -------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """What the report needs of one booking."""

    room_id: str
    category: str
    status: str
    source: str
    start: datetime
    end: datetime

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
    ) -> Span:
        """A booking's span; a completed one ends when it was completed, if that was
        before its end (a walk-in that ended because the room stood vacant)."""
        if status == "completed" and completed_at is not None:
            end = max(start, min(end, completed_at))
        return cls(room_id, category, status, source, start, end)

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
    retaken: dict[str, float] = field(default_factory=_by_category)


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
        if span.status == "released":
            out.no_show[span.category] += hours(inside)
            out.retaken[span.category] += hours(intersect(retakers, inside))
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
    session: Session, *, site: SiteConfig, first_day: date, last_day: date
) -> Utilisation:
    """The report of the site's bookable rooms over the local days `[first_day, last_day]`;
    Invalid for a range `check_range` refuses."""
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
    occupied: dict[str, list[Interval]] = {}
    for room_id in room_ids:
        motion = motion_intervals(
            _motion(session, room_id=room_id, start=start, end=end), vacancy_timeout=timeout
        )
        counts = count_intervals(
            _counts(session, room_id=room_id, start=counted_from, end=end),
            resets=resets,
            until=end,
        )
        occupied[room_id] = union(motion + counts)
    return utilisation(
        timezone=site.site.timezone,
        first_day=first_day,
        last_day=last_day,
        rooms=rooms,
        spans=_spans(session, room_ids=room_ids, start=start, end=end),
        occupied=occupied,
    )


def _spans(session: Session, *, room_ids: list[str], start: datetime, end: datetime) -> list[Span]:
    B, M = models.Booking, models.Member
    rows = session.execute(
        select(B.room_id, M.category, B.status, B.source, B.start, B.end, B.completed_at)
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
        )  # fmt: skip
        for room_id, category, status, source, b_start, b_end, completed_at in rows
    ]


def _motion(session: Session, *, room_id: str, start: datetime, end: datetime) -> list[Motion]:
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
    return [Motion(device_id=d, ts=ts, motion=event == "motion") for d, ts, event in rows]


def _counts(session: Session, *, room_id: str, start: datetime, end: datetime) -> list[Count]:
    E = models.DeviceEvent
    rows = session.execute(
        select(E.ts, E.entered, E.left).where(
            E.room_id == room_id, E.kind == "count", E.ts >= start, E.ts < end
        )
    )
    return [Count(ts=ts, delta=entered - left) for ts, entered, left in rows]
