"""No-show release: reminders, releases, strikes and completion of bookings.

`sweep` runs inside the caller's writer transaction (the scheduler's, every quarter of a
second). It selects only candidate rows through the `(status, start)` index and moves
each booking with one conditional UPDATE (`... WHERE status = 'booked'`), so a check-in
that committed first always wins and the release's UPDATE then matches nothing.

A member with `no_show_limit` strikes within `no_show_window` may not book for
`no_show_suspension`; staff may remove a strike, which lifts that suspension when the
member is back under the limit. Doors are unaffected by a booking suspension."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server import models, policy
from server.checkin import check_in
from server.errors import NotFound
from server.notifications import notify
from server.site import SiteConfig

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    """What one sweep changed, by id."""

    opened: list[int] = field(default_factory=list)  # public bookings checked in at start
    reminded: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)
    suspended: list[int] = field(default_factory=list)  # members newly suspended
    offered: list[int] = field(default_factory=list)  # waitlist offers made

    def booking_events(self) -> list[dict[str, object]]:
        """What the live stream says of this sweep: one `booking` event per change."""
        changes = [("checked_in", self.opened), ("released", self.released)]
        changes.append(("completed", self.completed))
        return [{"id": i, "change": change} for change, ids in changes for i in ids]

    @property
    def changed_policy(self) -> bool:
        """True when doors must decide differently (a release or a completion)."""
        return bool(self.opened or self.released or self.completed)


def sweep(session: Session, *, site: SiteConfig, now: datetime) -> SweepReport:
    """Remind, release no-shows (strikes, notices, suspensions, waitlist offers) and
    complete checked-in bookings that ended; in the caller's writer transaction."""
    report = SweepReport()
    grace = timedelta(seconds=site.access.no_show_grace)
    _open_public(session, now=now, report=report)
    _remind(session, site=site, now=now, grace=grace, report=report)
    _release(session, site=site, now=now, grace=grace, report=report)
    _complete(session, now=now, report=report)
    if report.changed_policy:
        policy.bump(session)
    return report


# -- the passes -----------------------------------------------------------------------


def _open_public(session: Session, *, now: datetime, report: SweepReport) -> None:
    """A public booking (an open workshop) holds its doors in passage mode: nobody taps
    in, so it is checked in at its start rather than released as a no-show."""
    B = models.Booking
    due = session.scalars(
        select(B.id).where(B.status == "booked", B.start <= now, B.public.is_(True))
    ).all()
    for booking_id in due:
        if check_in(session, booking_id=booking_id, now=now):
            report.opened.append(booking_id)


def _remind(
    session: Session, *, site: SiteConfig, now: datetime, grace: timedelta, report: SweepReport
) -> None:
    """Bookings whose reminder time has come but whose release is not yet due."""
    remind_before = timedelta(seconds=site.bookings.reminder_before)
    B = models.Booking
    rows = session.execute(
        select(B.id, B.member_id, B.room_id, B.start)
        .where(
            B.status == "booked",
            B.start > now - grace,  # release not yet due: those get the notice instead
            B.start <= now - grace + remind_before,
            B.reminded_at.is_(None),
        )
        .order_by(B.start, B.id)
    ).all()
    zone = ZoneInfo(site.site.timezone)
    for booking_id, member_id, room_id, start in rows:
        marked = session.execute(
            update(B)
            .where(B.id == booking_id, B.status == "booked", B.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            continue
        room = _room_name(site, room_id)
        at, release_at = _hhmm(start, zone), _hhmm(start + grace, zone)
        notify(
            session,
            member_id=member_id,
            kind="reminder",
            booking_id=booking_id,
            now=now,
            text_pl=(
                f"Przypomnienie: Twoja rezerwacja ({room}, {at}) zostanie zwolniona o "
                f"{release_at}, jeśli nie zameldujesz się kartą przy drzwiach."
            ),
            text_en=(
                f"Reminder: your booking of {room} at {at} will be released at {release_at} "
                "unless you check in by tapping your card at the door."
            ),
        )
        report.reminded.append(booking_id)


def _release(
    session: Session, *, site: SiteConfig, now: datetime, grace: timedelta, report: SweepReport
) -> None:
    """Every booking still `booked` when its grace period has ended."""
    B = models.Booking
    rows = session.execute(
        select(B.id, B.member_id, B.room_id, B.start, B.end)
        .where(B.status == "booked", B.start <= now - grace)
        .order_by(B.start, B.id)
    ).all()
    for booking_id, member_id, room_id, start, end in rows:
        if not release_booking(session, booking_id=booking_id, now=now):
            continue  # a check-in (or a cancellation) committed first: it wins
        report.released.append(booking_id)
        session.add(models.NoShow(member_id=member_id, booking_id=booking_id, at=now))
        session.flush()
        count = _active_strikes(session, site=site, member_id=member_id, now=now)
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
        if count >= site.bookings.no_show_limit and _suspend(
            session, site=site, member_id=member_id, now=now, count=count
        ):
            report.suspended.append(member_id)
        if end > now:
            freed = (max(now, start), end)
            offer_id = _offer(session, site=site, room_id=room_id, span=freed, now=now)
            if offer_id is not None:
                report.offered.append(offer_id)


def _complete(session: Session, *, now: datetime, report: SweepReport) -> None:
    """Checked-in bookings whose end has come."""
    B = models.Booking
    ids = session.scalars(
        # `start <= now` lets the (status, start) index bound the scan; end > start always.
        select(B.id)
        .where(B.status == "checked_in", B.start <= now, B.end <= now)
        .order_by(B.start, B.id)
    ).all()
    for booking_id in ids:
        done = session.execute(
            update(B)
            .where(B.id == booking_id, B.status == "checked_in")
            .values(status="completed", completed_at=now)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            report.completed.append(booking_id)


def release_booking(session: Session, *, booking_id: int, now: datetime) -> bool:
    """`booked -> released` as one conditional UPDATE; False when the booking is no longer
    `booked` (a check-in or a cancellation committed first)."""
    B = models.Booking
    result = session.execute(
        update(B)
        .where(B.id == booking_id, B.status == "booked")
        .values(status="released", released_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


# -- strikes and suspension -----------------------------------------------------------


def _active_strikes(session: Session, *, site: SiteConfig, member_id: int, now: datetime) -> int:
    """Strikes not removed within the window that ends `now`."""
    since = now - timedelta(seconds=site.bookings.no_show_window)
    N = models.NoShow
    stmt = select(func.count(N.id)).where(
        N.member_id == member_id, N.removed_at.is_(None), N.at > since, N.at <= now
    )
    return session.scalar(stmt) or 0


def _suspend(
    session: Session, *, site: SiteConfig, member_id: int, now: datetime, count: int
) -> bool:
    """Suspend booking until `now + no_show_suspension`, unless already suspended longer.

    A member already suspended has it extended silently; only a suspension that begins
    is announced (and reported), so a fourth no-show does not suspend a second time."""
    member = session.get(models.Member, member_id)
    if member is None:
        return False
    until = now + timedelta(seconds=site.bookings.no_show_suspension)
    current = member.booking_suspended_until
    if current is not None and current >= until:
        return False
    member.booking_suspended_until = until
    if current is not None and current > now:
        return False
    zone = ZoneInfo(site.site.timezone)
    local = until.astimezone(zone)
    window_pl, window_en = _window(site.bookings.no_show_window)
    notify(
        session,
        member_id=member_id,
        kind="booking_suspended",
        now=now,
        text_pl=(
            f"Po {count} nieobecnościach w ciągu {window_pl} nie możesz rezerwować sal do "
            f"{local:%d.%m.%Y %H:%M}. Twoje karty i członkostwa nadal otwierają drzwi."
        ),
        text_en=(
            f"After {count} no-shows in {window_en} you may not book rooms until "
            f"{local:%Y-%m-%d %H:%M}. Your cards and memberships still open doors."
        ),
    )
    return True


def strikes(session: Session, *, member_id: int) -> list[models.NoShow]:
    """A member's strikes, removed ones included, newest first; NotFound for no member."""
    if session.get(models.Member, member_id) is None:
        raise NotFound(f"member {member_id} not found")
    N = models.NoShow
    stmt = select(N).where(N.member_id == member_id).order_by(N.at.desc(), N.id.desc())
    return list(session.scalars(stmt))


def remove_strike(
    session: Session, *, site: SiteConfig, no_show_id: int, now: datetime
) -> models.NoShow:
    """Staff removes a strike (again is no error); a booking suspension is lifted when the
    member now has fewer than the limit of strikes within the window."""
    strike = session.get(models.NoShow, no_show_id)
    if strike is None:
        raise NotFound(f"no-show {no_show_id} not found")
    if strike.removed_at is None:
        strike.removed_at = now
        session.flush()
    member = session.get(models.Member, strike.member_id)
    if (
        member is not None
        and member.booking_suspended_until is not None
        and member.booking_suspended_until > now
        and _active_strikes(session, site=site, member_id=member.id, now=now)
        < site.bookings.no_show_limit
    ):
        member.booking_suspended_until = None
    return strike


def remove_strike_for_booking(
    session: Session, *, site: SiteConfig, booking_id: int, now: datetime
) -> models.NoShow | None:
    """Remove the strike of a booking whose holder did arrive in time (learnt late, e.g.
    from a gateway's log); None when the booking has no strike."""
    strike = session.scalars(
        select(models.NoShow).where(models.NoShow.booking_id == booking_id)
    ).first()
    if strike is None:
        return None
    return remove_strike(session, site=site, no_show_id=strike.id, now=now)


def lift_booking_suspension(session: Session, *, member_id: int) -> models.Member:
    """Staff lets a member book again at once (strikes stay as they are)."""
    member = session.get(models.Member, member_id)
    if member is None:
        raise NotFound(f"member {member_id} not found")
    member.booking_suspended_until = None
    session.flush()
    return member


# -- the waitlist ---------------------------------------------------------------------


def _offer(
    session: Session,
    *,
    site: SiteConfig,
    room_id: str,
    span: tuple[datetime, datetime],
    now: datetime,
) -> int | None:
    """Offer the freed rest of the slot to the first member waiting for it.

    In a savepoint: a failing offer is logged and undone, and never holds back the
    release (which would otherwise be retried, and fail, on every sweep)."""
    # Imported here: the waitlist books through server.bookings, which may come to call
    # back into this module.
    from server.waitlist import offer_freed_slot

    start, end = span
    try:
        with session.begin_nested():
            offer = offer_freed_slot(
                session, site=site, room_id=room_id, start=start, end=end, now=now
            )
    except Exception:
        log.exception("offering the freed slot of %s from %s failed", room_id, start)
        return None
    return None if offer is None else offer.id


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
    room = _room_name(site, room_id)
    day = start.astimezone(zone)
    hours = f"{_hhmm(start, zone)}–{_hhmm(end, zone)}"
    release_at = _hhmm(start + grace, zone)
    limit = site.bookings.no_show_limit
    window_pl, window_en = _window(site.bookings.no_show_window)
    notify(
        session,
        member_id=member_id,
        kind="released",
        booking_id=booking_id,
        now=now,
        text_pl=(
            f"Twoja rezerwacja ({room}, {day:%d.%m.%Y}, {hours}) została zwolniona, bo do "
            f"{release_at} nikt nie zameldował się kartą przy drzwiach. Sala wraca do "
            f"dyspozycji społeczności. Odnotowano nieobecność: {count} z {limit} "
            f"w ciągu {window_pl}."
        ),
        text_en=(
            f"Your booking of {room} ({day:%Y-%m-%d}, {hours}) was released because nobody "
            f"checked in with a card at the door by {release_at}. The room goes back to the "
            f"community. A no-show was counted: {count} of {limit} in {window_en}."
        ),
    )


def _room_name(site: SiteConfig, room_id: str) -> str:
    room = site.room(room_id)
    return room.name if room is not None else room_id


def _hhmm(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%H:%M")


def _window(seconds: float) -> tuple[str, str]:
    """The strike window in words, as (Polish, English): `30 dni` / `the last 30 days`."""
    days, hours, minutes = seconds / 86400, seconds / 3600, seconds / 60
    if days >= 1 and days == int(days):
        d = int(days)
        if d == 1:
            return "ostatniej doby", "the last day"
        return f"ostatnich {d} dni", f"the last {d} days"
    if hours >= 1 and hours == int(hours):
        return f"ostatnich {int(hours)} godz.", f"the last {int(hours)} h"
    return f"ostatnich {round(minutes)} min", f"the last {round(minutes)} min"
