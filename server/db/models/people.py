"""Members, their cards and memberships, the doors' emergency hashes, and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from protocol.messages import utcnow
from server.db.models.base import Base


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    category: Mapped[str] = mapped_column(String(16))
    suspended_until: Mapped[datetime | None]
    # Set after too many no-shows: the member may not book until then (doors unaffected).
    booking_suspended_until: Mapped[datetime | None]
    lang: Mapped[str] = mapped_column(String(2), default="pl")  # of what the member is told
    # Under 18: the hub needs a guardian's consent (who gave it, and when) to hold their data.
    minor: Mapped[bool] = mapped_column(Boolean, default=False)
    guardian_name: Mapped[str | None] = mapped_column(String(200))
    guardian_consent_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]  # GDPR erasure: personal data removed, events kept
    calendar_key: Mapped[str | None] = mapped_column(String(64))  # of their calendar feed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Card(Base):
    """A member's card. The UID itself is never stored: only its keyed hash."""

    __tablename__ = "cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    uid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class EmergencyHash(Base):
    """`sha256(door's salt + canonical UID)` of a staff card, per door: what the door's
    EmergencyList carries. Computed when the UID is in hand (the card's registration, or
    a tap of it), since the server keeps no UID it could compute it from later."""

    __tablename__ = "emergency_hashes"

    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), primary_key=True)
    door_id: Mapped[str] = mapped_column(ForeignKey("doors.id"), primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))


class Membership(Base):
    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    # The site whose plan it is (its holder enters that site's partners too: `plans`).
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    plan: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """A state change made by a person or a token: who, what, to what, when."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_ts", "ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ts: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict | None] = mapped_column(JSON)
