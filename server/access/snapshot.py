"""The policy snapshot built from the database, and the cache the tap path decides from.

The cache compares the stored policy version (server.db.meta, which every write that can
change a decision bumps) with the one it built and rebuilds when they differ, so every
replica (and the gateway, through PolicyNotice) sees the change."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from protocol.policy import (
    AccessRules,
    BookingPolicy,
    CardPolicy,
    DoorPolicy,
    MemberPolicy,
    MembershipPolicy,
    PlanPolicy,
    PolicySnapshot,
    RoomPolicy,
)
from server.db import models
from server.db.meta import version
from server.db.scope import own_rooms
from server.site import SiteConfig

# How far ahead the snapshot carries bookings: a gateway cut off from the server keeps
# admitting their holders for this long.
SNAPSHOT_HORIZON = timedelta(days=7)
# A snapshot is rebuilt this often even when nothing changed, so its window moves on.
REBUILD_AFTER = timedelta(hours=1)


def build_snapshot(session: Session, site: SiteConfig, now: datetime) -> PolicySnapshot:
    """Everything `decide()` needs, from the database and the site file."""
    epoch, n = version(session)
    rooms = {r.id: r for r in site.rooms}
    modes = dict(session.execute(select(models.Door.id, models.Door.mode)).all())
    doors = {
        d.id: DoorPolicy(
            id=d.door,
            room=d.room,
            kind="entrance" if rooms[d.room].kind == "entrance" else "room",
            mode=modes.get(d.door, "normal"),  # type: ignore[arg-type]
            unlock_s=site.access.unlock,
        )
        for d in site.door_devices()
        if d.door
    }
    # Columns, not ORM objects, and models built without validating again what the
    # database holds: a snapshot of 10,000 members is rebuilt on every policy change.
    M, C = models.Member, models.Card
    members = {
        id_: MemberPolicy.model_construct(category=category, suspended_until=until)
        for id_, category, until in session.execute(select(M.id, M.category, M.suspended_until))
    }
    cards = {
        uid_hash: CardPolicy.model_construct(member_id=member_id, active=active)
        for uid_hash, member_id, active in session.execute(
            select(C.uid_hash, C.member_id, C.active)
        )
    }
    return PolicySnapshot(
        site=site.id,
        epoch=epoch,
        n=n,
        generated_at=now,
        timezone=site.site.timezone,
        opening_hours=site.opening_hours,
        closed_dates=site.closed_dates(range(now.year - 1, now.year + 2)),
        doors=doors,
        members=members,
        cards=cards,
        plans={p.id: PlanPolicy(doors=p.doors, hours=p.hours) for p in site.plans},
        memberships=_memberships(session, site, now),
        rooms={r.id: RoomPolicy(kind=r.kind, bookable=r.bookable) for r in site.rooms},
        bookings=_bookings(session, site, now),
        rules=AccessRules(
            early_entry_s=site.access.early_entry,
            no_show_grace_s=site.access.no_show_grace,
            walk_in_categories=site.walk_in.categories,
            walk_in_max_s=site.walk_in.max,
            max_denied_taps=site.access.max_denied_taps,
            denied_window_s=site.access.denied_window,
            attempts_cooldown_s=site.access.attempts_cooldown,
            unknown_taps_burst=site.access.unknown_taps_burst,
            unknown_taps_per_minute=site.access.unknown_taps_per_minute,
        ),
    )


def _memberships(
    session: Session, site: SiteConfig, now: datetime
) -> dict[int, list[MembershipPolicy]]:
    """Memberships not yet over of the site's plans, and of other sites' plans that name
    this site a partner, which admit here as this site's plan of the same id (and not at
    all where this site has no plan of that id)."""
    Ms, P = models.Membership, models.Plan
    plans = {p.id for p in site.plans}
    partnered = [
        and_(Ms.site_id == other, Ms.plan == plan)
        for other, plan, partners in session.execute(
            select(P.site_id, P.id, P.partners).where(P.site_id != site.id)
        )
        if site.id in partners and plan in plans
    ]
    rows = session.execute(
        select(Ms.member_id, Ms.plan, Ms.valid_from, Ms.valid_until).where(
            Ms.valid_until > now, or_(Ms.site_id == site.id, *partnered)
        )
    )
    memberships: dict[int, list[MembershipPolicy]] = {}
    for member_id, plan, valid_from, valid_until in rows:
        memberships.setdefault(member_id, []).append(
            MembershipPolicy(plan=plan, valid_from=valid_from, valid_until=valid_until)
        )
    return memberships


def _bookings(session: Session, site: SiteConfig, now: datetime) -> list[BookingPolicy]:
    """Bookings of the site's rooms the doors must know: not cancelled or completed, from
    a day back to the snapshot horizon ahead."""
    B, A = models.Booking, models.BookingAttendee
    held = (
        B.room_id.in_(own_rooms(session, site.id)),
        B.status.in_(("booked", "checked_in", "released")),
        B.end > now - timedelta(days=1),
        B.start < now + SNAPSHOT_HORIZON,
    )
    attendees: dict[int, list[int]] = {}
    for booking_id, member_id in session.execute(
        select(A.booking_id, A.member_id).join(B, B.id == A.booking_id).where(*held)
    ):
        attendees.setdefault(booking_id, []).append(member_id)
    rows = session.execute(
        select(B.id, B.room_id, B.member_id, B.start, B.end, B.status).where(*held).order_by(B.id)
    )
    return [
        BookingPolicy.model_construct(
            id=id_,
            room=room,
            member_id=member_id,
            attendees=attendees.get(id_, []),
            start=start,
            end=end,
            status=status,
        )
        for id_, room, member_id, start, end, status in rows
    ]


class PolicyCache:
    """The current snapshot, rebuilt only when the stored policy version moved on."""

    def __init__(self, site: SiteConfig) -> None:
        self.site = site
        self._snapshot: PolicySnapshot | None = None
        self._lock = threading.Lock()

    def get(
        self, session: Session, now: datetime, current: tuple[str, int] | None = None
    ) -> PolicySnapshot:
        """The snapshot of the stored version (`current`, when the caller read it already
        in this transaction)."""
        current = current or version(session)
        with self._lock:
            snap = self.held(current, now)
            if snap is None:
                snap = self._snapshot = build_snapshot(session, self.site, now)
            return snap

    def held(self, current: tuple[str, int], now: datetime) -> PolicySnapshot | None:
        """The snapshot held, when it is of the stored version `current` and not due for
        its hourly rebuild; None when it must be (re)built."""
        snap = self._snapshot
        if snap is None or (snap.epoch, snap.n) != current or snap.age(now) > REBUILD_AFTER:
            return None
        return snap
