"""No-show release: reminders, releases and completion of bookings.

`sweep` runs inside the caller's writer transaction (the scheduler's, every quarter of a
second). It selects only candidate rows through the `(status, start)` index and moves
each booking with one conditional UPDATE (`... WHERE status = 'booked'`), so a check-in
that committed first always wins and the release's UPDATE then matches nothing. A
released holder gets a strike (server.noshows.strikes), and the rest of the slot is
offered to the first member waiting for it (server.waitlist.freed.free_slot). Every status
change goes through server.bookings.lifecycle; the sweep's report carries their events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from protocol import bookingrules
from server.bookings import lifecycle
from server.db import models
from server.db.scope import own_rooms
from server.live.kinds import BookingEvent
from server.noshows.strikes import active_strikes, suspend
from server.notify.notifications import notify
from server.notify.texts import last_period
from server.site import SiteConfig
from server.waitlist.freed import free_slot


@dataclass
class SweepReport:
    """What one sweep changed, by id."""

    opened: list[int] = field(default_factory=list)  # public bookings checked in at start
    reminded: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)
    suspended: list[int] = field(default_factory=list)  # members newly suspended
    offered: list[int] = field(default_factory=list)  # waitlist offers made
    # one `booking` event per status change, to publish once the sweep has committed
    events: list[BookingEvent] = field(default_factory=list, compare=False)
    # more reminders or releases are due than the sweep's `limit` let it make
    more: bool = field(default=False, compare=False)

    def add(self, other: SweepReport) -> None:
        """Take in what a later sweep of the same pass changed."""
        for name in ("opened", "reminded", "released", "completed", "suspended", "offered"):
            getattr(self, name).extend(getattr(other, name))
        self.events.extend(other.events)
        self.more = other.more

    def booking_events(self) -> list[BookingEvent]:
        """What the live stream says of this sweep: one `booking` event per change."""
        return list(self.events)

    @property
    def changed_policy(self) -> bool:
        """True when doors must decide differently (a release or a completion)."""
        return bool(self.opened or self.released or self.completed)


@dataclass(frozen=True)
class _Sweep:
    """What the reminders' and releases' passes of one sweep work from, and its report."""

    site: SiteConfig
    ours: set[str]  # the site's rooms
    now: datetime
    grace: timedelta
    report: SweepReport


def sweep(
    session: Session,
    *,
    site: SiteConfig,
    now: datetime,
    reminders: int | None = None,
    releases: int | None = None,
) -> SweepReport:
    """Remind, release no-shows (strikes, notices, suspensions, waitlist offers) and
    complete checked-in bookings that ended, of the site's rooms; in the caller's writer
    transaction. At most `reminders` reminders and `releases` releases (`more` says when
    more are due: the caller sweeps again in a transaction of its own, so that no writer
    waits long behind the write lock)."""
    report = SweepReport()
    grace = timedelta(seconds=site.access.no_show_grace)
    # Candidates come by the (status, start) index alone, then those of the site's rooms
    # are kept: a condition on the room would lead PostgreSQL, before it has statistics
    # of the table, to scan the bookings by room.
    ours = set(own_rooms(session, site.id))
    _open_public(session, ours=ours, now=now, report=report)
    this = _Sweep(site=site, ours=ours, now=now, grace=grace, report=report)
    _remind(session, this, limit=reminders)
    _release(session, this, limit=releases)
    _complete(session, ours=ours, now=now, report=report)
    return report


def release_lag(session: Session, *, site: SiteConfig, now: datetime) -> float:
    """Seconds the oldest booking due for release at `now` has waited for a sweep to
    release it (0 when none waits): how far behind the sweep is."""
    grace = timedelta(seconds=site.access.no_show_grace)
    B = models.Booking
    ours = set(own_rooms(session, site.id))
    by_room = session.execute(
        select(B.room_id, func.min(B.start))
        .where(*_due_for_release(now, grace))
        .group_by(B.room_id)
    )
    oldest = min((start for room_id, start in by_room if room_id in ours), default=None)
    if oldest is None:
        return 0.0
    return max(0.0, (now - bookingrules.release_at(oldest, grace)).total_seconds())


def _due_for_release(now: datetime, grace: timedelta) -> tuple[ColumnElement[bool], ...]:
    """A booking nobody came to, due for release at `now` (protocol.bookingrules)."""
    B = models.Booking
    return (B.status == "booked", B.start <= bookingrules.release_due_before(now, grace))


# -- the passes -----------------------------------------------------------------------


def _open_public(session: Session, *, ours: set[str], now: datetime, report: SweepReport) -> None:
    """A public booking (an open workshop) holds its doors in passage mode: nobody taps
    in, so it is checked in at its start rather than released as a no-show."""
    B = models.Booking
    due = session.execute(
        select(B.id, B.room_id).where(B.status == "booked", B.start <= now, B.public.is_(True))
    ).all()
    for booking_id in (id_ for id_, room_id in due if room_id in ours):
        event = lifecycle.check_in(session, booking_id=booking_id, now=now, by="sweep")
        if event is not None:
            report.opened.append(booking_id)
            report.events.append(event)


def _remind(session: Session, this: _Sweep, limit: int | None) -> None:
    """Bookings whose reminder time has come but whose release is not yet due."""
    site, ours, now, grace, report = this.site, this.ours, this.now, this.grace, this.report
    remind_before = timedelta(seconds=site.bookings.reminder_before)
    due_before = bookingrules.release_due_before(now, grace)
    B = models.Booking
    rows = session.execute(
        select(B.id, B.member_id, B.room_id, B.start)
        .where(
            B.status == "booked",
            B.start > due_before,  # release not yet due: those get the notice instead
            B.start <= due_before + remind_before,
            B.reminded_at.is_(None),
        )
        .order_by(B.start, B.id)
    ).all()
    zone = ZoneInfo(site.site.timezone)
    for booking_id, member_id, room_id, start in _first(rows, ours, limit, report):
        marked = session.execute(
            update(B)
            .where(B.id == booking_id, B.status == "booked", B.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            continue
        notify(
            session,
            member_id=member_id,
            kind="reminder",
            booking_id=booking_id,
            now=now,
            params={
                "room": _room_name(site, room_id),
                "start": start.astimezone(zone),
                "release_at": bookingrules.release_at(start, grace).astimezone(zone),
            },
        )
        report.reminded.append(booking_id)


def _release(session: Session, this: _Sweep, limit: int | None) -> None:
    """Every booking still `booked` when its grace period has ended (a no-show, by
    `protocol.bookingrules.no_show_due`)."""
    site, ours, now, grace, report = this.site, this.ours, this.now, this.grace, this.report
    B = models.Booking
    rows = session.execute(
        select(B.id, B.member_id, B.room_id, B.start, B.end)
        .where(*_due_for_release(now, grace))
        .order_by(B.start, B.id)
    ).all()
    for booking_id, member_id, room_id, start, end in _first(rows, ours, limit, report):
        event = lifecycle.release_booking(session, booking_id=booking_id, now=now, by="sweep")
        if event is None:
            continue  # a check-in (or a cancellation) committed first: it wins
        report.released.append(booking_id)
        report.events.append(event)
        session.add(models.NoShow(member_id=member_id, booking_id=booking_id, at=now))
        session.flush()
        count = active_strikes(session, site=site, member_id=member_id, now=now)
        _released_notice(
            session,
            site=site,
            booking_id=booking_id,
            member_id=member_id,
            room_id=room_id,
            span=(start, end),
            now=now,
            grace=grace,
            count=count,
        )
        if count >= site.bookings.no_show_limit and suspend(
            session, site=site, member_id=member_id, now=now, count=count
        ):
            report.suspended.append(member_id)
        offer = free_slot(session, site=site, room_id=room_id, span=(start, end), now=now)
        if offer is not None:
            report.offered.append(offer.id)


def _complete(session: Session, *, ours: set[str], now: datetime, report: SweepReport) -> None:
    """Checked-in bookings whose end has come."""
    B = models.Booking
    rows = session.execute(
        # `start <= now` lets the (status, start) index bound the scan; end > start always.
        select(B.id, B.room_id)
        .where(B.status == "checked_in", B.start <= now, B.end <= now)
        .order_by(B.start, B.id)
    ).all()
    for booking_id in (id_ for id_, room_id in rows if room_id in ours):
        event = lifecycle.complete(session, booking_id=booking_id, now=now)
        if event is not None:
            report.completed.append(booking_id)
            report.events.append(event)


def _first(
    rows: Sequence[Any], ours: set[str], limit: int | None, report: SweepReport
) -> list[Any]:
    """The first `limit` rows of the site's rooms (their third column); the report's
    `more` notes when there were more."""
    mine = [row for row in rows if row[2] in ours]
    if limit is not None and len(mine) > limit:
        report.more = True
        return mine[:limit]
    return mine


# -- wording --------------------------------------------------------------------------


def _released_notice(
    session: Session,
    *,
    site: SiteConfig,
    booking_id: int,
    member_id: int,
    room_id: str,
    span: tuple[datetime, datetime],
    now: datetime,
    grace: timedelta,
    count: int,
) -> None:
    start, end = span
    zone = ZoneInfo(site.site.timezone)
    notify(
        session,
        member_id=member_id,
        kind="released",
        booking_id=booking_id,
        now=now,
        params={
            "room": _room_name(site, room_id),
            "start": start.astimezone(zone),
            "end": end.astimezone(zone),
            "release_at": bookingrules.release_at(start, grace).astimezone(zone),
            "count": count,
            "limit": site.bookings.no_show_limit,
            "window": last_period(site.bookings.no_show_window),
        },
    )


def _room_name(site: SiteConfig, room_id: str) -> str:
    room = site.room(room_id)
    return room.name if room is not None else room_id
