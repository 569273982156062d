"""The policy snapshot built from the database, and the cache the tap path decides from.

The cache compares the stored policy version (server.db.meta, which every write that can
change a decision bumps) with the one it built and rebuilds when they differ, so every
replica (and the gateway, through PolicyNotice) sees the change."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import select
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
    members = {
        m.id: MemberPolicy(category=m.category, suspended_until=m.suspended_until)  # type: ignore[arg-type]
        for m in session.scalars(select(models.Member))
    }
    cards = {
        c.uid_hash: CardPolicy(member_id=c.member_id, active=c.active)
        for c in session.scalars(select(models.Card))
    }
    memberships: dict[int, list[MembershipPolicy]] = {}
    for ms in session.scalars(select(models.Membership).where(models.Membership.valid_until > now)):
        memberships.setdefault(ms.member_id, []).append(
            MembershipPolicy(plan=ms.plan, valid_from=ms.valid_from, valid_until=ms.valid_until)
        )
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
        memberships=memberships,
        rooms={r.id: RoomPolicy(kind=r.kind, bookable=r.bookable) for r in site.rooms},
        bookings=_bookings(session, now),
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


def _bookings(session: Session, now: datetime) -> list[BookingPolicy]:
    """Bookings the doors must know: not cancelled or completed, from a day back to the
    snapshot horizon ahead."""
    stmt = select(models.Booking).where(
        models.Booking.status.in_(("booked", "checked_in", "released")),
        models.Booking.end > now - timedelta(days=1),
        models.Booking.start < now + SNAPSHOT_HORIZON,
    )
    return [
        BookingPolicy(
            id=b.id,
            room=b.room_id,
            member_id=b.member_id,
            attendees=b.attendee_ids,
            start=b.start,
            end=b.end,
            status=b.status,  # type: ignore[arg-type]
        )
        for b in session.scalars(stmt)
    ]


class PolicyCache:
    """The current snapshot, rebuilt only when the stored policy version moved on."""

    def __init__(self, site: SiteConfig) -> None:
        self.site = site
        self._snapshot: PolicySnapshot | None = None
        self._lock = threading.Lock()

    def get(self, session: Session, now: datetime) -> PolicySnapshot:
        current = version(session)
        with self._lock:
            snap = self._snapshot
            if snap is None or (snap.epoch, snap.n) != current or snap.age(now) > REBUILD_AFTER:
                snap = self._snapshot = build_snapshot(session, self.site, now)
            return snap
