"""The database: SQLAlchemy 2.0 typed models. Alembic migrations in server/db/migrations."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from protocol.messages import utcnow


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def new_salt() -> str:
    """A door's emergency-list salt: 32 random hex digits."""
    return secrets.token_hex(16)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class Meta(Base):
    """One row: the database's epoch id and the policy version `n` (PolicyNotice)."""

    __tablename__ = "meta"

    id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[str] = mapped_column(String(64))
    policy_n: Mapped[int] = mapped_column(default=0)
    # The counter `n` of the DoorModes and EmergencyLists the server publishes
    # (docs/protocol.md, "Commands in time").
    command_n: Mapped[int] = mapped_column(BigInteger, default=0)


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    capacity: Mapped[int | None]
    bookable: Mapped[bool] = mapped_column(Boolean, default=False)
    # Secrets of the room's calendar feed: busy times only, or names and titles (staff).
    calendar_key: Mapped[str | None] = mapped_column(String(64))
    staff_calendar_key: Mapped[str | None] = mapped_column(String(64))


class Door(Base):
    __tablename__ = "doors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"))
    mode: Mapped[str] = mapped_column(String(16), default="normal")
    # The salt of the door's EmergencyList, drawn once: the stored hashes depend on it.
    emergency_salt: Mapped[str | None] = mapped_column(String(64), default=new_salt)


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(String(16))
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.id"))
    door_id: Mapped[str | None] = mapped_column(ForeignKey("doors.id"))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen: Mapped[datetime | None]
    clock_synced: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[dict | None] = mapped_column(JSON)


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
    plan: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Booking(Base):
    """`booked -> checked_in -> completed`, `booked -> released` (no-show) or
    `booked -> cancelled`; every transition is one conditional UPDATE."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_room_time", "room_id", "start", "end"),
        Index("ix_bookings_status_start", "status", "start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    start: Mapped[datetime]
    end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="booked")
    title: Mapped[str | None] = mapped_column(String(200))
    # `api`, `walk_in` (taken by tapping a free room's door) or `waitlist` (an offer taken)
    source: Mapped[str] = mapped_column(String(16), default="api")
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    series_id: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_in_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]

    attendees: Mapped[list[BookingAttendee]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def attendee_ids(self) -> list[int]:
        return [a.member_id for a in self.attendees]


class BookingAttendee(Base):
    """Another member who may enter with a booking."""

    __tablename__ = "booking_attendees"

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)


class NoShow(Base):
    """A strike: a booking released because nobody came. Staff may remove it."""

    __tablename__ = "no_shows"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class Notification(Base):
    """A message to a member: the text `notice.<kind>` and its `params` (server.notify)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    params: Mapped[dict | None] = mapped_column(JSON)  # None before the catalogue
    text_pl: Mapped[str] = mapped_column(String(1000))
    text_en: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WaitlistEntry(Base):
    """A member waiting for a room (or any room of a kind and size) and a time range."""

    __tablename__ = "waitlist"
    __table_args__ = (Index("ix_waitlist_status_start", "status", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.id"))
    kind: Mapped[str | None] = mapped_column(String(32))
    min_capacity: Mapped[int | None]
    start: Mapped[datetime]
    end: Mapped[datetime]
    # waiting -> offered -> booked, or back to waiting when an offer lapses; cancelled
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Offer(Base):
    """A freed slot held for a waiting member until `expires_at`."""

    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_status_expires", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    waitlist_id: Mapped[int] = mapped_column(ForeignKey("waitlist.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    expires_at: Mapped[datetime]
    # offered -> accepted | expired
    status: Mapped[str] = mapped_column(String(16), default="offered")
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccessEvent(Base):
    """One tap and what became of it, keyed by (device, the tap's event id).

    `by`, `granted` and `reason` are the decision of record: the one the door applied,
    once its Result says which, else the first heard; `by` is `server`, `gateway`, or
    `expired` when nobody answered in time. `other_*` is the other decision when both the
    server (slow) and the gateway answered. `booking_id` is the booking the tap checked
    in or took as a walk-in. The `result_*` columns are what the door reported it did.
    """

    __tablename__ = "access_events"
    __table_args__ = (
        UniqueConstraint("device_id", "event_id", name="uq_access_device_event"),
        Index("ix_access_received", "received"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(64))
    door_id: Mapped[str | None] = mapped_column(String(64))
    ts: Mapped[datetime | None]
    received: Mapped[datetime]
    card_hash: Mapped[str | None] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    granted: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(40))
    by: Mapped[str | None] = mapped_column(String(16))
    replay: Mapped[bool] = mapped_column(Boolean, default=False)
    other_by: Mapped[str | None] = mapped_column(String(16))
    other_granted: Mapped[bool | None] = mapped_column(Boolean)
    other_reason: Mapped[str | None] = mapped_column(String(40))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    result_id: Mapped[str | None] = mapped_column(String(64))
    result_applied: Mapped[str | None] = mapped_column(String(16))
    result_granted: Mapped[bool | None] = mapped_column(Boolean)
    result_at: Mapped[datetime | None]
    boot: Mapped[str | None] = mapped_column(String(64))  # the tap's boot, when it had one


class DeviceEvent(Base):
    """A door or sensor event (door opened, motion, count), once per (device, id)."""

    __tablename__ = "device_events"
    __table_args__ = (
        UniqueConstraint("device_id", "event_id", name="uq_device_event"),
        Index("ix_device_events_room_received", "room_id", "received"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(64))
    room_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # door, motion, count
    # door: the DoorEvent's `event`; motion: "motion"/"no_motion"; count: "count"
    event: Mapped[str] = mapped_column(String(32))
    entered: Mapped[int] = mapped_column(default=0)
    left: Mapped[int] = mapped_column(default=0)
    ts: Mapped[datetime]
    received: Mapped[datetime]
    boot: Mapped[str | None] = mapped_column(String(64))
    seq: Mapped[int | None]


class RoomState(Base):
    """The live occupancy of a room, kept current as sensor events arrive."""

    __tablename__ = "room_states"

    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), primary_key=True)
    people: Mapped[int | None]
    last_motion: Mapped[datetime | None]
    motion: Mapped[bool] = mapped_column(Boolean, default=False)
    counted_since: Mapped[datetime | None]  # the last reset of the people count
    updated_at: Mapped[datetime | None]


class Alert(Base):
    """Something staff should see: a forced door, a door held open, a fire release, a device
    offline, a room over capacity, a booked room still empty at its start."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_open", "acknowledged_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    room_id: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(64))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    details: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]


class DeadLetter(Base):
    """An MQTT message the server accepted but could not apply: kept for staff to see and
    replay (`held`), then `replayed` or `discarded`."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_status", "status", "received"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(300))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    device_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(default=1)
    received: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="held")
    handled_at: Mapped[datetime | None]
    handled_by: Mapped[str | None] = mapped_column(String(200))


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
