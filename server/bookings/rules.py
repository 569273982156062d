"""Booking with the API's rules: one booking, or a weekly series all or nothing.

The rules (length, horizon, hours, suspension, attendees, title) are checked here, then
the booking is inserted through `server.bookings.store`, in the caller's transaction. A
room's bookable hours and the weekly repeat are reasoned about in the site's time zone."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.durations import format_duration
from protocol.policy import WEEKDAYS
from server.bookings.availability import inside_hours
from server.bookings.store import Interval, insert_booking, lock_room, overlapping
from server.db import models
from server.errors import Conflict, Forbidden, Invalid
from server.site import Room, SiteConfig
from server.timefmt import format_utc

# A start this far in the past is still accepted (a form filled in slowly, clocks apart).
PAST_TOLERANCE = timedelta(minutes=5)
MAX_TITLE = 200


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
        raise Invalid(f"a booking may last at most {format_duration(longest.total_seconds())}")
    if room.hours is not None and not inside_hours(room.hours, site.site.timezone, start, end):
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


def _hours_listed(hours: dict[str, list[str]]) -> str:
    return "; ".join(f"{day} {', '.join(hours[day])}" for day in WEEKDAYS if hours.get(day))
