"""Weekly booking quotas per member category (`[bookings.quotas]` of the site file).

A member of a category with a quota may hold at most that many hours of bookings in one
ISO week (Monday 00:00 to Monday 00:00 in the site's time zone). What counts is every
booking they hold that is `booked`, `checked_in` or `completed` and starts in that week,
by its length; cancelled and released bookings give their hours back. A category without
a quota has no limit. `create_booking`, `create_series` and accepting a waitlist offer
check it (server.bookings.rules, server.waitlist.offers); walk-ins at the door do not.

>>> week_of(datetime(2026, 3, 4, 12, tzinfo=UTC), ZoneInfo("Europe/Warsaw"))
datetime.date(2026, 3, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.durations import format_duration
from server.bookings.store import OCCUPYING, Interval
from server.db import models
from server.errors import Conflict
from server.site import SiteConfig


class QuotaExceeded(Conflict):
    """A booking would take a member past their category's weekly quota (409); the
    message names the limit and what is left, and so do the attributes."""

    def __init__(self, *, category: str, limit: float, left: float, week: date) -> None:
        super().__init__(
            f"the weekly quota of {category} members is {format_duration(limit)} of bookings; "
            f"{format_duration(left) if left else 'nothing'} left in the week of "
            f"{week.isoformat()}"
        )
        self.category = category
        self.limit = limit  # seconds a week
        self.left = left  # seconds still free in that week
        self.week = week  # its Monday (local)


@dataclass(frozen=True)
class Usage:
    """A member's quota in one week: the limit (None: none), what is held, what is left."""

    week: date
    limit: float | None
    used: float

    @property
    def left(self) -> float | None:
        return None if self.limit is None else max(0.0, self.limit - self.used)


def limit_of(site: SiteConfig, category: str) -> float | None:
    """The weekly quota of a member category in seconds; None when it has none."""
    return site.bookings.quotas.get(category)  # type: ignore[call-overload, no-any-return]


def week_of(at: datetime, zone: ZoneInfo) -> date:
    """The Monday (local) of the ISO week in which `at` falls."""
    day = at.astimezone(zone).date()
    return day - timedelta(days=day.weekday())


def _week_span(monday: date, zone: ZoneInfo) -> Interval:
    start = datetime.combine(monday, time(0), zone).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(0), zone).astimezone(UTC)
    return start, end


def used(session: Session, *, site: SiteConfig, member_id: int, week: date) -> float:
    """Seconds of bookings the member holds that start in the week of Monday `week`."""
    start, end = _week_span(week, ZoneInfo(site.site.timezone))
    B = models.Booking
    rows = session.execute(
        select(B.start, B.end).where(
            B.member_id == member_id,
            B.status.in_(OCCUPYING),
            B.start >= start,
            B.start < end,
        )
    ).all()
    return sum((e - s).total_seconds() for s, e in rows)


def usage(session: Session, *, site: SiteConfig, member: models.Member, at: datetime) -> Usage:
    """The member's quota in the week of `at`."""
    week = week_of(at, ZoneInfo(site.site.timezone))
    return Usage(
        week=week,
        limit=limit_of(site, member.category),
        used=used(session, site=site, member_id=member.id, week=week),
    )


def within_quota(
    session: Session, *, site: SiteConfig, member: models.Member, spans: Sequence[Interval]
) -> bool:
    """Whether booking `spans` keeps the member within their weekly quota."""
    try:
        check_quota(session, site=site, member=member, spans=spans)
    except QuotaExceeded:
        return False
    return True


def check_quota(
    session: Session, *, site: SiteConfig, member: models.Member, spans: Sequence[Interval]
) -> None:
    """QuotaExceeded when booking `spans` would take the member past their weekly quota
    in any week (the spans of one week are added up)."""
    limit = limit_of(site, member.category)
    if limit is None:
        return
    # one member's bookings are counted and added one transaction at a time (PostgreSQL:
    # the member's row locked, FOR NO KEY UPDATE, so a row that only refers to the member
    # does not wait for it; SQLite's writer already serialises every writer)
    mine = select(models.Member.id).where(models.Member.id == member.id)
    session.execute(mine.with_for_update(key_share=True))
    zone = ZoneInfo(site.site.timezone)
    asked: dict[date, float] = {}
    for start, end in spans:
        week = week_of(start, zone)
        asked[week] = asked.get(week, 0.0) + (end - start).total_seconds()
    for week, seconds in sorted(asked.items()):
        held = used(session, site=site, member_id=member.id, week=week)
        if held + seconds > limit:
            raise QuotaExceeded(
                category=member.category, limit=limit, left=max(0.0, limit - held), week=week
            )
