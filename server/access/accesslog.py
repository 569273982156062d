"""The access log as the API, the dashboard and the live stream show it (one row per tap),
read a page at a time, and the name a door's display may show.

The log is newest first by when the server received a tap (its row id breaks ties), read
with a cursor: `before` is the row id of the last row of the page before, so a page
costs the same however deep it is, and rows added meanwhile never shift the pages.

    page = access_page(session, LogFilter(door="main", granted=True), limit=100)
    older = access_page(session, LogFilter(door="main", granted=True), before=page.next)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, or_, select
from sqlalchemy.orm import Session

from protocol.messages import format_time
from server.db import models, scope
from server.errors import Invalid
from server.people.members import list_members

MAX_PAGE = 1000
# How many members a name search may match (a search that matches more is too vague).
MAX_NAMED = 500


def display_name(name: str) -> str:
    """What a door's display may show: `Anna Kowalska` → `Anna K.`."""
    parts = name.split()
    if len(parts) < 2:
        return name[:40]
    return f"{parts[0]} {parts[-1][0]}."


def member_name(session: Session, member_id: int | None) -> str | None:
    """A member's name, if the member is known."""
    member = session.get(models.Member, member_id) if member_id else None
    return member.name if member is not None else None


def outcome(event: models.AccessEvent) -> tuple[bool, str | None]:
    """(granted, by) of a tap: what the door reported doing wins over the decision sent;
    `by` is `expired` when the door applied none (nobody answered in time)."""
    if event.result_applied is None:
        return event.granted, event.by
    by = "expired" if event.result_applied == "none" else event.result_applied
    return bool(event.result_granted), by


def access_event(event: models.AccessEvent, *, member_name: str | None = None) -> dict:
    """An access-log row as the API and the live stream show it (door's Result first)."""
    granted, by = outcome(event)
    return {
        "id": event.event_id,
        "device": event.device_id,
        "door": event.door_id,
        "ts": event.ts and format_time(event.ts),
        "received": format_time(event.received),
        "granted": granted,
        "reason": event.reason,
        "by": by,
        "member_id": event.member_id,
        "name": member_name,
    }


# -- when: local days and instants --------------------------------------------------------


def parse_when(value: object) -> object:
    """A `from`/`to` of a query: a local date `YYYY-MM-DD` (a `date`), or an ISO date-time
    with an offset (a `datetime` in UTC); anything else is a ValueError."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if len(text) > 40:
        raise ValueError("is too long for a date-time")
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError("is not a date (YYYY-MM-DD)") from None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a date-time (ISO 8601 with an offset)") from None
    if instant.tzinfo is None:
        raise ValueError("a date-time needs an offset (Z or +01:00)")
    try:
        return instant.astimezone(UTC)
    except OverflowError:
        raise ValueError("time is out of range") from None


def local_start(day: date, zone: ZoneInfo, at: time = time(0)) -> datetime:
    """The instant (UTC) a local day's `at` begins (a day of 23 or 25 hours around a DST
    change begins at its own midnight)."""
    try:
        return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
    except OverflowError:
        raise Invalid("the date is out of range") from None


def span(
    start: date | datetime | None, end: date | datetime | None, zone: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """The UTC instants of `from` (inclusive) and `to` (exclusive): a local date as
    `from` is the start of that day, as `to` its end (the next day's start)."""
    lo = start if isinstance(start, datetime) or start is None else local_start(start, zone)
    if isinstance(end, datetime) or end is None:
        hi = end
    else:
        try:
            hi = local_start(end + timedelta(days=1), zone)
        except OverflowError:
            raise Invalid("to: the date is out of range") from None
    if lo is not None and hi is not None and lo >= hi:
        raise Invalid("from must be before to")
    return lo, hi


# -- the log, a page at a time --------------------------------------------------------------


@dataclass(frozen=True)
class LogFilter:
    """Which taps: received in [start, end) (UTC), at a device of the site `site` (None:
    of any site), at a device or door, by a member (or members whose name or e-mail holds
    `name`), admitted or refused."""

    start: datetime | None = None
    end: datetime | None = None
    device: str | None = None
    door: str | None = None
    member_id: int | None = None
    name: str | None = None
    granted: bool | None = None
    site: str | None = None


@dataclass(frozen=True)
class LogRow:
    event: models.AccessEvent
    member_name: str | None  # None: an unknown card, or no member


@dataclass(frozen=True)
class LogPage:
    rows: list[LogRow]
    next: int | None  # `before` of the next (older) page; None on the last one


def access_page(
    session: Session, where: LogFilter, *, before: int | None = None, limit: int = 100
) -> LogPage:
    """A page of the log, newest first, with each member's name; `before`: the rows
    after the row of that id (a page's `next`)."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be 1 to {MAX_PAGE}")
    E, M = models.AccessEvent, models.Member
    stmt = (
        _filtered(session, select(E, M.name).outerjoin(M, M.id == E.member_id), where)
        .order_by(E.received.desc(), E.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        stmt = stmt.where(_older_than(session, before))
    found = [LogRow(event, name) for event, name in session.execute(stmt)]
    more = len(found) > limit
    rows = found[:limit]
    return LogPage(rows=rows, next=rows[-1].event.id if more else None)


def access_events(
    session: Session,
    *,
    device: str | None = None,
    member_id: int | None = None,
    limit: int = 100,
    site: str | None = None,
) -> list[models.AccessEvent]:
    """The newest taps first (by when the server received them), at the site's devices
    (`site`; None: at every site's)."""
    where = LogFilter(device=device, member_id=member_id, site=site)
    page = access_page(session, where, limit=limit)
    return [row.event for row in page.rows]


def _filtered(session: Session, stmt: Select, where: LogFilter) -> Select:  # type: ignore[type-arg]
    E = models.AccessEvent
    if where.start is not None:
        stmt = stmt.where(E.received >= where.start)
    if where.end is not None:
        stmt = stmt.where(E.received < where.end)
    if where.site is not None:
        stmt = stmt.where(E.device_id.in_(scope.devices(where.site)))
    if where.device is not None:
        stmt = stmt.where(E.device_id == where.device)
    if where.door is not None:
        stmt = stmt.where(E.door_id == where.door)
    if where.member_id is not None:
        stmt = stmt.where(E.member_id == where.member_id)
    if where.name:
        named = list_members(session, query=where.name, limit=MAX_NAMED)
        stmt = stmt.where(E.member_id.in_([m.id for m in named]))
    if where.granted is not None:
        # the door's Result first, as `outcome` says
        shown = case((E.result_applied.is_not(None), E.result_granted), else_=E.granted)
        stmt = stmt.where(shown == where.granted)
    return stmt


def _older_than(session: Session, row_id: int):  # type: ignore[no-untyped-def]
    """Rows after the row `row_id` in the log's order (received, then id, descending);
    by id alone when that row is gone (purged)."""
    E = models.AccessEvent
    received = session.scalar(select(E.received).where(E.id == row_id))
    if received is None:
        return E.id < row_id
    return and_(E.received <= received, or_(E.received < received, E.id < row_id))
