"""GDPR: what the hub holds about a member (export), forgetting a member (erasure), and
keeping events, and the e-mail and address of a failed sign-in, no longer than the site's
retention (the daily purge).

Plain functions over a Session; the caller owns the transaction and audits the request.

    with ctx.reads() as session:
        held = gdpr.export(session, member_id=7)          # JSON-ready dict
    with ctx.writes() as session, session.begin():
        gdpr.erase(session, site=ctx.site, member_id=7, now=ctx.clock())
    with ctx.writes() as session, session.begin():        # a batch at a time (scheduler)
        counts = gdpr.purge_batch(session, site=ctx.site, before=gdpr.cutoff(ctx.site, now))
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, null, select, update
from sqlalchemy.orm import Session

from server.access import emergency
from server.bookings import lifecycle
from server.db import models
from server.db.meta import bump
from server.db.scope import others_devices, own_rooms
from server.people import accounts, audit
from server.people.members import get_member
from server.site import SiteConfig
from server.timefmt import format_utc
from server.waitlist import freed

BATCH = 500  # rows of one table deleted in one purge transaction
FAILED_SIGN_INS = "failed_sign_ins"  # audit entries of failed sign-ins stripped of personal data
PURGED: dict[str, type[models.AccessEvent] | type[models.DeviceEvent]] = {
    "access_events": models.AccessEvent,
    "device_events": models.DeviceEvent,
}


# -- retention ----------------------------------------------------------------------------


def cutoff(site: SiteConfig, now: datetime) -> datetime:
    """Events received before this are past the site's retention."""
    return now - timedelta(days=site.privacy.retention_days)


def purge_batch(
    session: Session, *, site: SiteConfig, before: datetime, batch: int = BATCH
) -> dict[str, int]:
    """Delete up to `batch` rows of each of access events and device events (the occupancy
    history: counts and motion) of the site's devices (and of devices of no site) received
    before `before`, and strip the personal data (the
    e-mail and client address) from up to `batch` audit entries of failed sign-ins made
    before then (the entry stays: that someone failed to sign in, when): the rows changed,
    by table (`failed_sign_ins` for the audit entries). Call again, in a new transaction,
    while any count equals `batch`."""
    counts: dict[str, int] = {}
    others = others_devices(session, site.id)
    for name, model in PURGED.items():
        ids = list(
            session.scalars(
                select(model.id)
                .where(model.received < before, model.device_id.not_in(others))
                .order_by(model.id)
                .limit(batch)
            )
        )
        if ids:
            session.execute(delete(model).where(model.id.in_(ids)))
        counts[name] = len(ids)
    counts[FAILED_SIGN_INS] = _forget_failed_sign_ins(session, before=before, batch=batch)
    return counts


def _forget_failed_sign_ins(session: Session, *, before: datetime, batch: int) -> int:
    A = models.AuditEntry
    ids = list(
        session.scalars(
            select(A.id)
            .where(A.action == "auth.sign_in_failed", A.ts < before, A.detail.is_not(None))
            .order_by(A.id)
            .limit(batch)
        )
    )
    if ids:  # SQL NULL, not JSON null: what marks an entry done
        session.execute(update(A).where(A.id.in_(ids)).values(detail=null()))
    return len(ids)


def record_purge(
    session: Session, *, counts: dict[str, int], before: datetime, now: datetime
) -> models.AuditEntry:
    """The audit entry of a day's purge: how many rows of each table, older than when."""
    return audit.record(
        session,
        actor="scheduler",
        action="data.purge",
        target=None,
        detail={**counts, "before": format_utc(before)},
        now=now,
    )


# -- export ---------------------------------------------------------------------------


def export(session: Session, *, member_id: int) -> dict[str, Any]:
    """Everything held about a member, as JSON values (times in UTC). Cards are shown by
    label, dates and state: their keyed hashes are not the member's data but the doors'."""
    member = get_member(session, member_id=member_id)
    held = _rows(
        session.scalars(
            select(models.Booking).where(models.Booking.member_id == member_id).order_by("id")
        ),
        "id room_id start end title status source created_at checked_in_at released_at "
        "cancelled_at completed_at",
    )
    attended = _rows(
        session.scalars(
            select(models.Booking)
            .join(models.BookingAttendee)
            .where(models.BookingAttendee.member_id == member_id)
            .order_by(models.Booking.id)
        ),
        "id room_id start end status",
    )
    return {
        "member": _row(
            member,
            "id name email category lang suspended_until booking_suspended_until minor "
            "guardian_name guardian_consent_at erased_at created_at",
        ),
        "cards": _of(session, models.Card, member_id, "id label active created_at revoked_at"),
        "memberships": _of(
            session, models.Membership, member_id, "id plan valid_from valid_until created_at"
        ),
        "bookings": held,
        "attendances": attended,
        "no_shows": _of(session, models.NoShow, member_id, "id booking_id at removed_at"),
        "notifications": _of(
            session,
            models.Notification,
            member_id,
            "id kind booking_id offer_id text_pl text_en created_at",
        ),
        "waitlist": _of(
            session,
            models.WaitlistEntry,
            member_id,
            "id site_id room_id kind min_capacity start end status created_at",
        ),
        "offers": _of(
            session, models.Offer, member_id, "id room_id start end expires_at status booking_id"
        ),
        "access_events": _of(
            session,
            models.AccessEvent,
            member_id,
            "id device_id door_id ts received granted reason by booking_id",
        ),
        "users": _of(
            session,
            models.User,
            member_id,
            "id email name role created_at last_login_at disabled_at",
        ),
        "mail": _of(session, models.Mail, member_id, "id to_addr kind subject created_at state"),
    }


def _of(session: Session, model: Any, member_id: int, fields: str) -> list[dict[str, Any]]:
    stmt = select(model).where(model.member_id == member_id).order_by(model.id)
    return _rows(session.scalars(stmt), fields)


def _rows(rows: Iterable[Any], fields: str) -> list[dict[str, Any]]:
    return [_row(r, fields) for r in rows]


def _row(row: Any, fields: str) -> dict[str, Any]:
    values = {f: getattr(row, f) for f in fields.split()}
    return {k: format_utc(v) if isinstance(v, datetime) else v for k, v in values.items()}


# -- erasure --------------------------------------------------------------------------


def erase(session: Session, *, site: SiteConfig, member_id: int, now: datetime) -> bool:
    """Forget a member: the name becomes `#<id>`, e-mail, guardian and suspension are
    cleared; the cards (and their emergency hashes) are deleted, so no door admits them;
    linked users are disabled and stripped of name and address, their sessions and
    tokens revoked; notifications, mail, offers and waitlist entries are deleted; future
    bookings are cancelled (the time of this site's offered to its waitlist; another site's
    is not offered, as this server knows none of that site's rules). Access events, past
    bookings and strikes stay, with the member's id and nothing else about them.
    NotFound for no member; False (and nothing changes) for one erased already."""
    member = get_member(session, member_id=member_id)
    if member.erased_at is not None:
        return False
    forgotten = {"name": f"#{member.id}", "minor": False, "erased_at": now}
    for field in ("email", "guardian_name", "guardian_consent_at", "suspended_until"):
        forgotten[field] = None
    for field, value in forgotten.items():
        setattr(member, field, value)
    for card in session.scalars(select(models.Card).where(models.Card.member_id == member_id)):
        emergency.forget_card(session, card_id=card.id)
        session.delete(card)
    _disable_users(session, member_id=member_id, now=now)
    for model in (models.Notification, models.Mail, models.Offer, models.WaitlistEntry):
        session.execute(delete(model).where(model.member_id == member_id))
    B = models.Booking
    future = session.execute(
        select(B.id, B.room_id).where(B.member_id == member_id, B.status == "booked", B.start > now)
    )
    ours = set(own_rooms(session, site.id))
    for booking_id, room_id in list(future):
        if room_id in ours:
            freed.cancel_booking(session, site=site, booking_id=booking_id, now=now, by="staff")
        else:  # another site's: its server's rules would offer the time (not done here)
            lifecycle.cancel_booking(session, booking_id=booking_id, now=now, by="staff")
    bump(session)
    session.flush()
    return True


def _disable_users(session: Session, *, member_id: int, now: datetime) -> None:
    users = list(session.scalars(select(models.User).where(models.User.member_id == member_id)))
    for user in users:
        user.email = f"erased-{user.id}@invalid"
        user.name = f"#{member_id}"
        user.password_hash = None
        user.disabled_at = user.disabled_at or now
    accounts.revoke_access(session, user_ids=[u.id for u in users], now=now)
