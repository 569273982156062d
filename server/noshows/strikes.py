"""No-show strikes and the booking suspension they bring.

A member with `no_show_limit` strikes within `no_show_window` may not book for
`no_show_suspension`; staff may remove a strike, which lifts that suspension when the
member is back under the limit. Doors are unaffected by a booking suspension. Plain
functions over a Session, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocol.bookingrules import suspended
from server.db import models
from server.errors import NotFound
from server.notify.notifications import notify
from server.notify.texts import last_period
from server.site import SiteConfig


def active_strikes(session: Session, *, site: SiteConfig, member_id: int, now: datetime) -> int:
    """Strikes not removed within the window that ends `now`."""
    since = now - timedelta(seconds=site.bookings.no_show_window)
    N = models.NoShow
    stmt = select(func.count(N.id)).where(
        N.member_id == member_id, N.removed_at.is_(None), N.at > since, N.at <= now
    )
    return session.scalar(stmt) or 0


def suspend(
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
    notify(
        session,
        member_id=member_id,
        kind="booking_suspended",
        now=now,
        params={
            "count": count,
            "window": last_period(site.bookings.no_show_window),
            "until": until.astimezone(ZoneInfo(site.site.timezone)),
        },
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
        and suspended(member.booking_suspended_until, now)
        and active_strikes(session, site=site, member_id=member.id, now=now)
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
