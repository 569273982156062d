"""Booking with the API's rules: one booking, or a weekly series all or nothing.

The rules (length, horizon, hours, suspension, attendees, title) are checked here, then
the booking is inserted through `server.bookings.store`, in the caller's transaction. A
room's bookable hours and the weekly repeat are reasoned about in the site's time zone;
the rules a door shares (hours, may-book, how far in the past a start may lie) are
`protocol.hours` and `protocol.bookingrules`."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.bookingrules import Bar, booking_bar, past_horizon, start_in_past
from protocol.durations import format_duration
from protocol.hours import WEEKDAYS, within_one_span
from server.bookings.quotas import check_quota
from server.bookings.store import Interval, insert_booking, lock_room, overlapping
from server.db import models
from server.errors import Conflict, Forbidden, Invalid
from server.notify import mails
from server.site import Room, SiteConfig
from server.timefmt import format_utc

MAX_TITLE = 200


@dataclass(frozen=True)
class BookingRequest:
    """What a member asks to book: a room for [start, end), and what the booking says."""

    room_id: str
    member_id: int
    start: datetime
    end: datetime
    title: str | None = None
    attendees: Sequence[int] = ()
    public: bool = False


def create_booking(
    session: Session, *, site: SiteConfig, request: BookingRequest, now: datetime
) -> models.Booking:
    """Book a room for a member after checking the site's booking rules.

    Invalid (422) for a bad time, room, member, attendee or title; Forbidden (403) for a
    member who is suspended or may not book; Conflict (409) when it overlaps."""
    room = _check_room(site, request.room_id)
    _check_times(site, room, request.start, request.end)
    _check_window(site, request.start, now)
    _check_request(session, site, request, [(request.start, request.end)], now=now)
    booking = _insert(
        session, site=site, request=request, span=(request.start, request.end), now=now
    )
    mails.booking_confirmed(session, [booking], now=now)
    return booking


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
    session: Session, *, site: SiteConfig, request: BookingRequest, weekly: int, now: datetime
) -> list[models.Booking]:
    """Book `weekly` occurrences, a week apart at the same local time, all or nothing.

    The first occurrence obeys the booking horizon (the series may run past it, up to
    `bookings.max_occurrences`). Across a daylight-saving change the wall-clock time stays
    and the UTC time moves. Any clash raises SeriesConflictError naming every occurrence
    that clashes, and nothing is booked."""
    limit = site.bookings.max_occurrences
    if not 2 <= weekly <= limit:
        raise Invalid(f"repeat.weekly must be from 2 to {limit}")
    room = _check_room(site, request.room_id)
    _check_window(site, request.start, now)
    occurrences = weekly_occurrences(site, request.start, request.end, weekly)
    for occ_start, occ_end in occurrences:
        _check_times(site, room, occ_start, occ_end)
    _check_request(session, site, request, occurrences, now=now)

    lock_room(session, room_id=room.id)
    conflicts = [
        SeriesConflict(start=s, end=e, booking_id=b.id)
        for s, e in occurrences
        for b in overlapping(session, room_id=room.id, start=s, end=e)
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
    made = [
        _insert(session, site=site, request=request, span=span, now=now, series_id=series_id)
        for span in occurrences
    ]
    mails.booking_confirmed(session, made, now=now)
    return made


def audit_detail(made: Sequence[models.Booking]) -> dict[str, object]:
    """What the audit log keeps of a booking made, or of a series (every booking's id)."""
    first = made[0]
    return {
        "room_id": first.room_id,
        "member_id": first.member_id,
        "start": format_utc(first.start),
        "end": format_utc(first.end),
        "bookings": [b.id for b in made],
    }


def _insert(
    session: Session,
    *,
    site: SiteConfig,
    request: BookingRequest,
    span: Interval,
    now: datetime,
    series_id: str | None = None,
) -> models.Booking:
    return insert_booking(
        session,
        site=site,
        room_id=request.room_id,
        member_id=request.member_id,
        start=span[0],
        end=span[1],
        now=now,
        title=request.title,
        attendees=request.attendees,
        public=request.public,
        series_id=series_id,
    )


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
        raise Invalid(f"a booking may last at most {format_duration(longest.total_seconds())}")
    tz = ZoneInfo(site.site.timezone)
    if room.hours is not None and not within_one_span(room.hours, tz, start, end):
        raise Invalid(
            f"room {room.id!r} may be booked only inside its hours ({_hours_listed(room.hours)}, "
            f"{site.site.timezone}); the whole booking must fall inside one interval"
        )


def _check_window(site: SiteConfig, start: datetime, now: datetime) -> None:
    if start_in_past(start, now):
        raise Invalid("start is in the past")
    horizon = timedelta(seconds=site.bookings.horizon)
    if past_horizon(start, now, horizon):
        raise Invalid(f"start may be at most {horizon.days} days ahead")


def check_may_book(member: models.Member, now: datetime) -> None:
    """Forbidden (403) for a member who may not book at `now`: suspended, or suspended
    from booking after repeated no-shows (`protocol.bookingrules.booking_bar`)."""
    barred = booking_bar(member.suspended_until, member.booking_suspended_until, now)
    if barred is None:
        return
    until = format_utc(barred.until)
    if barred.bar is Bar.SUSPENDED:
        raise Forbidden(f"member {member.id} is suspended until {until}")
    raise Forbidden(
        f"member {member.id} may not book until {until}: booking suspended after repeated no-shows"
    )


def _check_request(
    session: Session,
    site: SiteConfig,
    request: BookingRequest,
    spans: Sequence[Interval],
    *,
    now: datetime,
) -> None:
    """The holder exists, may book and has `spans` left of their weekly quota, the
    attendees exist, the title fits."""
    member_id, attendees = request.member_id, request.attendees
    member = session.get(models.Member, member_id)
    if member is None:
        raise Invalid(f"member {member_id} does not exist")
    check_may_book(member, now)
    check_quota(session, site=site, member=member, spans=spans)
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
    if request.title is not None and len(request.title) > MAX_TITLE:
        raise Invalid(f"title may be at most {MAX_TITLE} characters")


def _hours_listed(hours: dict[str, list[str]]) -> str:
    return "; ".join(f"{day} {', '.join(hours[day])}" for day in WEEKDAYS if hours.get(day))
