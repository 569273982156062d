"""The policy snapshot built from the database, and the cache the tap path decides from.

Every write that can change a decision calls `bump(session)` in its own transaction; the
cache compares the stored version with the one it built and rebuilds when they differ,
so every replica (and the gateway, through PolicyNotice) sees the change."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from protocol.policy import (
    CardPolicy,
    DoorPolicy,
    MemberPolicy,
    MembershipPolicy,
    PlanPolicy,
    PolicySnapshot,
)
from server import models
from server.site import SiteConfig


def ensure_meta(session: Session) -> models.Meta:
    """The one meta row; the epoch is drawn once, when the database is new."""
    meta = session.get(models.Meta, 1)
    if meta is None:
        meta = models.Meta(id=1, epoch=secrets.token_hex(8), policy_n=0)
        session.add(meta)
        session.flush()
    return meta


def bump(session: Session) -> None:
    """Mark the policy changed; call inside the transaction that changed it."""
    session.execute(
        update(models.Meta).where(models.Meta.id == 1).values(policy_n=models.Meta.policy_n + 1)
    )


def version(session: Session) -> tuple[str, int]:
    row = session.execute(
        select(models.Meta.epoch, models.Meta.policy_n).where(models.Meta.id == 1)
    ).one()
    return row[0], row[1]


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
        closed_dates=site.closed_dates,
        doors=doors,
        members=members,
        cards=cards,
        plans={p.id: PlanPolicy(doors=p.doors, hours=p.hours) for p in site.plans},
        memberships=memberships,
    )


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
            if snap is None or (snap.epoch, snap.n) != current:
                snap = self._snapshot = build_snapshot(session, self.site, now)
            return snap
