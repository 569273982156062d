"""Bookings: the domain service behind the bookings and rooms API.

Plain functions over a Session; the caller owns the transaction (a writer session, which
is `BEGIN IMMEDIATE` on SQLite). Every change calls `policy.bump` in that transaction, since
the current booking of a room decides who may enter it. Times are aware UTC datetimes;
a room's bookable hours and the weekly repeat are reasoned about in the site's time zone.

A booking occupies its room while it is `booked`, `checked_in` or `completed` (a completed
booking did hold its past time); `cancelled` and `released` ones free it."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from protocol.policy import WEEKDAYS, _parse_interval
from server import models, policy
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.site import Room, SiteConfig
from server.timefmt import format_utc

# Statuses in which a booking holds its room's time.
OCCUPYING = ("booked", "checked_in", "completed")
# Statuses of a booking that holds the room right now.
CURRENT = ("booked", "checked_in")
STATUSES = ("booked", "checked_in", "completed", "released", "cancelled")

# A start this far in the past is still accepted (a form filled in slowly, clocks apart).
PAST_TOLERANCE = timedelta(minutes=5)
MAX_TITLE = 200
# The longest range `availability` answers for.
MAX_AVAILABILITY_RANGE = timedelta(days=31)

Interval = tuple[datetime, datetime]


# --- the two primitives every booking path uses -------------------------------------------


def overlapping(
    session: Session,
    *,
    room_id: str,
    start: datetime,
    end: datetime,
    exclude_id: int | None = None,
) -> list[models.Booking]:
    """Bookings of the room that hold any of [start, end), by start."""
    stmt = (
        select(models.Booking)
        .where(
            models.Booking.room_id == room_id,
            models.Booking.start < end,
            models.Booking.end > start,
            models.Booking.status.in_(OCCUPYING),
        )
        .order_by(models.Booking.start, models.Booking.id)
    )
    if exclude_id is not None:
        stmt = stmt.where(models.Booking.id != exclude_id)
    return list(session.scalars(stmt))


def lock_room(session: Session, *, room_id: str) -> models.Room:
    """Take the room's write lock for this transaction, or Invalid for an unknown room.

    SQLite: the writer's `BEGIN IMMEDIATE` already serialises every writer, so this is a
    plain read. PostgreSQL: `SELECT ... FOR UPDATE` on the room row serialises the bookings
    of one room (an overlap check and its insert cannot interleave with another's)."""
    room = session.scalars(
        select(models.Room).where(models.Room.id == room_id).with_for_update()
    ).first()
    if room is None:
        raise Invalid(f"unknown room {room_id!r}")
    return room


def insert_booking(
    session: Session,
    *,
    site: SiteConfig,
    room_id: str,
    member_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    title: str | None = None,
    attendees: Sequence[int] = (),
    public: bool = False,
    status: str = "booked",
    source: str = "api",
    series_id: str | None = None,
) -> models.Booking:
    """Insert a booking after locking its room and checking that nothing overlaps it.

    No booking rules are checked here (length, horizon, hours, suspension): callers apply
    their own (`create_booking` the API's, the tap path walk-in's, the waitlist an offer's).
    Raises Conflict naming the bookings in the way.

    Exactly one of several concurrent requests for one slot wins: the room is locked
    (`lock_room`) before the overlap check, and the insert commits in the same
    transaction. On PostgreSQL an exclusion constraint over (room_id, tstzrange(start, end))
    for occupying statuses would be the database-level guard as well; it is not added yet.
    """
    lock_room(session, room_id=room_id)
    clashes = overlapping(session, room_id=room_id, start=start, end=end)
    if clashes:
        raise Conflict(f"room {room_id} is already booked: {_describe(clashes)}")
    member = session.get(models.Member, member_id)
    if member is None:
        raise Invalid(f"member {member_id} does not exist")
    booking = models.Booking(
        room_id=room_id,
        member_id=member_id,
        start=start,
        end=end,
        status=status,
        title=title,
        source=source,
        public=public,
        price=price(site, member.category, start, end),
        series_id=series_id,
        created_at=now,
    )
    booking.attendees = [models.BookingAttendee(member_id=m) for m in attendees]
    session.add(booking)
    policy.bump(session)
    session.flush()
    return booking


def _describe(bookings: Iterable[models.Booking]) -> str:
    return ", ".join(
        f"booking {b.id} from {format_utc(b.start)} to {format_utc(b.end)}" for b in bookings
    )


# --- creating with the API's rules -------------------------------------------------------


def create_booking(
    session: Session,
    *,
    site: SiteConfig,
    room_id: str,
    member_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    title: str | None = None,
    attendees: Sequence[int] = (),
    public: bool = False,
) -> models.Booking:
    """Book a room for a member after checking the site's booking rules.

    Invalid (422) for a bad time, room, member, attendee or title; Forbidden (403) for a
    member who is suspended or may not book; Conflict (409) when it overlaps."""
    room = _check_room(site, room_id)
    _check_times(site, room, start, end)
    _check_window(site, start, now)
    _check_people(session, member_id=member_id, attendees=attendees, now=now)
    _check_title(title)
    return insert_booking(
        session,
        site=site,
        room_id=room_id,
        member_id=member_id,
        start=start,
        end=end,
        now=now,
        title=title,
        attendees=attendees,
        public=public,
    )


@dataclass(frozen=True)
class SeriesConflict:
    """An occurrence of a weekly series that overlaps an existing booking."""

    start: datetime
    end: datetime
    booking_id: int


class SeriesConflictError(Conflict):
    """Occurrences of a series clash; `conflicts` lists each (the message says the same)."""

    def __init__(self, message: str, conflicts: list[SeriesConflict]) -> None:
        super().__init__(message)
        self.conflicts = conflicts


def create_series(
    session: Session,
    *,
    site: SiteConfig,
    room_id: str,
    member_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    weekly: int,
    title: str | None = None,
    attendees: Sequence[int] = (),
    public: bool = False,
) -> list[models.Booking]:
    """Book `weekly` occurrences, a week apart at the same local time, all or nothing.

    The first occurrence obeys the booking horizon (the series may run past it, up to
    `bookings.max_occurrences`). Across a daylight-saving change the wall-clock time stays
    and the UTC time moves. Any clash raises SeriesConflictError naming every occurrence
    that clashes, and nothing is booked."""
    limit = site.bookings.max_occurrences
    if not 2 <= weekly <= limit:
        raise Invalid(f"repeat.weekly must be from 2 to {limit}")
    room = _check_room(site, room_id)
    _check_window(site, start, now)
    occurrences = weekly_occurrences(site, start, end, weekly)
    for occ_start, occ_end in occurrences:
        _check_times(site, room, occ_start, occ_end)
    _check_people(session, member_id=member_id, attendees=attendees, now=now)
    _check_title(title)

    lock_room(session, room_id=room_id)
    conflicts = [
        SeriesConflict(start=s, end=e, booking_id=b.id)
        for s, e in occurrences
        for b in overlapping(session, room_id=room_id, start=s, end=e)
    ]
    if conflicts:
        listed = "; ".join(
            f"{format_utc(c.start)} to {format_utc(c.end)} (booking {c.booking_id})"
            for c in conflicts
        )
        clashing = len({c.start for c in conflicts})
        raise SeriesConflictError(
            f"{clashing} of {weekly} occurrences conflict, nothing was booked: {listed}",
            conflicts,
        )
    series_id = secrets.token_hex(8)
    return [
        insert_booking(
            session,
            site=site,
            room_id=room_id,
            member_id=member_id,
            start=s,
            end=e,
            now=now,
            title=title,
            attendees=attendees,
            public=public,
            series_id=series_id,
        )
        for s, e in occurrences
    ]


def weekly_occurrences(
    site: SiteConfig, start: datetime, end: datetime, count: int
) -> list[Interval]:
    """`count` intervals a week apart at the same local wall-clock times as [start, end)."""
    tz = ZoneInfo(site.site.timezone)
    local_start = start.astimezone(tz).replace(tzinfo=None)
    local_end = end.astimezone(tz).replace(tzinfo=None)
    out = []
    for week in range(count):
        shift = timedelta(weeks=week)
        out.append((_utc(local_start + shift, tz), _utc(local_end + shift, tz)))
    return out


def _utc(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC)


def _check_room(site: SiteConfig, room_id: str) -> Room:
    room = site.room(room_id)
    if room is None:
        known = ", ".join(r.id for r in site.rooms if r.bookable) or "none"
        raise Invalid(f"unknown room {room_id!r} (bookable rooms: {known})")
    if not room.bookable:
        raise Invalid(f"room {room_id!r} cannot be booked")
    return room


def _check_times(site: SiteConfig, room: Room, start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("start and end need a time zone offset")
    if end <= start:
        raise Invalid("end must be after start")
    longest = timedelta(seconds=site.bookings.max_length)
    if end - start > longest:
        raise Invalid(f"a booking may last at most {_hours_text(longest)}")
    if room.hours is not None and not _inside_hours(room.hours, site.site.timezone, start, end):
        raise Invalid(
            f"room {room.id!r} may be booked only inside its hours ({_hours_listed(room.hours)}, "
            f"{site.site.timezone}); the whole booking must fall inside one interval"
        )


def _check_window(site: SiteConfig, start: datetime, now: datetime) -> None:
    if start < now - PAST_TOLERANCE:
        raise Invalid("start is in the past")
    horizon = timedelta(seconds=site.bookings.horizon)
    if start > now + horizon:
        raise Invalid(f"start may be at most {horizon.days} days ahead")


def _check_people(
    session: Session, *, member_id: int, attendees: Sequence[int], now: datetime
) -> None:
    member = session.get(models.Member, member_id)
    if member is None:
        raise Invalid(f"member {member_id} does not exist")
    if member.suspended_until is not None and member.suspended_until > now:
        raise Forbidden(
            f"member {member_id} is suspended until {format_utc(member.suspended_until)}"
        )
    if member.booking_suspended_until is not None and member.booking_suspended_until > now:
        raise Forbidden(
            f"member {member_id} may not book until {format_utc(member.booking_suspended_until)}"
            ": booking suspended after repeated no-shows"
        )
    if len(set(attendees)) != len(attendees):
        raise Invalid("attendees must not repeat a member")
    if member_id in attendees:
        raise Invalid("the booking's holder is not one of its attendees")
    if attendees:
        found = set(
            session.scalars(select(models.Member.id).where(models.Member.id.in_(attendees)))
        )
        missing = [a for a in attendees if a not in found]
        if missing:
            raise Invalid(f"attendee {', '.join(map(str, missing))} does not exist")


def _check_title(title: str | None) -> None:
    if title is not None and len(title) > MAX_TITLE:
        raise Invalid(f"title may be at most {MAX_TITLE} characters")


def _hours_text(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60}h" + (f"{minutes % 60:02d}m" if minutes % 60 else "")


def _hours_listed(hours: dict[str, list[str]]) -> str:
    return "; ".join(f"{day} {', '.join(hours[day])}" for day in WEEKDAYS if hours.get(day))


# --- a room's bookable hours -----------------------------------------------------------


def _day_intervals(hours: dict[str, list[str]], day: date, tz: ZoneInfo) -> list[Interval]:
    """The bookable intervals of one local day, in UTC."""
    out = []
    for text in hours.get(WEEKDAYS[day.weekday()], []):
        begin, finish = _parse_interval(text)
        lo = datetime.combine(day, begin, tz)
        if finish is None:  # "24:00": the next local midnight
            hi = datetime.combine(day + timedelta(days=1), time(0), tz)
        else:
            hi = datetime.combine(day, finish, tz)
        out.append((lo.astimezone(UTC), hi.astimezone(UTC)))
    return out


def _inside_hours(hours: dict[str, list[str]], zone: str, start: datetime, end: datetime) -> bool:
    tz = ZoneInfo(zone)
    day = start.astimezone(tz).date()
    return any(lo <= start and end <= hi for lo, hi in _day_intervals(hours, day, tz))


def _bookable_windows(
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
        for lo, hi in _day_intervals(room.hours, day, tz):
            lo, hi = max(lo, start), min(hi, end)
            if lo < hi:
                out.append((lo, hi))
        day += timedelta(days=1)
    return sorted(out)


# --- cancelling ----------------------------------------------------------------------------


def cancel_booking(
    session: Session, *, site: SiteConfig, booking_id: int, now: datetime
) -> models.Booking:
    """Cancel a booking that is still `booked` (Conflict otherwise) and offer the freed
    time, if any is left, to the first member waiting for the room."""
    result = session.execute(
        update(models.Booking)
        .where(models.Booking.id == booking_id, models.Booking.status == "booked")
        .values(status="cancelled", cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    booking = session.get(models.Booking, booking_id, populate_existing=True)
    if result.rowcount == 0:  # type: ignore[attr-defined]
        if booking is None:
            raise NotFound(f"booking {booking_id} not found")
        raise Conflict(f"booking {booking_id} is {booking.status}")
    assert booking is not None
    policy.bump(session)
    session.flush()
    if booking.end > now:
        from server.waitlist import offer_freed_slot

        offer_freed_slot(
            session,
            site=site,
            room_id=booking.room_id,
            start=max(now, booking.start),
            end=booking.end,
            now=now,
        )
    return booking


# --- reading ---------------------------------------------------------------------------


def get_booking(session: Session, *, booking_id: int) -> models.Booking:
    """The booking, or NotFound."""
    booking = session.get(models.Booking, booking_id)
    if booking is None:
        raise NotFound(f"booking {booking_id} not found")
    return booking


def list_bookings(
    session: Session,
    *,
    room_id: str | None = None,
    member_id: int | None = None,
    status: str | None = None,
    start_from: datetime | None = None,
    end_to: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[models.Booking]:
    """Bookings by start; `start_from`/`end_to` keep those overlapping [from, to)."""
    stmt = (
        select(models.Booking)
        .order_by(models.Booking.start, models.Booking.id)
        .limit(limit)
        .offset(offset)
    )
    if room_id is not None:
        stmt = stmt.where(models.Booking.room_id == room_id)
    if member_id is not None:
        stmt = stmt.where(models.Booking.member_id == member_id)
    if status is not None:
        stmt = stmt.where(models.Booking.status == status)
    if start_from is not None:
        stmt = stmt.where(models.Booking.end > start_from)
    if end_to is not None:
        stmt = stmt.where(models.Booking.start < end_to)
    return list(session.scalars(stmt))


def site_room(site: SiteConfig, *, room_id: str) -> Room:
    """A room of the site file, or NotFound."""
    room = site.room(room_id)
    if room is None:
        raise NotFound(f"room {room_id} not found")
    return room


def current_bookings(
    session: Session, *, room_ids: Sequence[str], now: datetime
) -> dict[str, models.Booking]:
    """The booking holding each room at `now` (booked or checked in), by room id."""
    stmt = (
        select(models.Booking)
        .where(
            models.Booking.room_id.in_(room_ids),
            models.Booking.start <= now,
            models.Booking.end > now,
            models.Booking.status.in_(CURRENT),
        )
        .order_by(models.Booking.start.desc(), models.Booking.id)
    )
    found: dict[str, models.Booking] = {}
    for booking in session.scalars(stmt):
        found.setdefault(booking.room_id, booking)
    return found


def current_booking(session: Session, *, room_id: str, now: datetime) -> models.Booking | None:
    """The booking holding the room at `now`, or None."""
    return current_bookings(session, room_ids=[room_id], now=now).get(room_id)


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
    return subtract(_bookable_windows(site, room, start, end), [(b[0], b[1]) for b in busy])


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


# --- price -------------------------------------------------------------------------------


def price(site: SiteConfig, category: str, start: datetime, end: datetime) -> Decimal:
    """The site's hourly rate for the member category times the hours, to 0.01."""
    rate = Decimal(str(site.rates.get(category, 0)))  # type: ignore[call-overload]
    hours = Decimal(int((end - start).total_seconds())) / Decimal(3600)
    return (rate * hours).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
