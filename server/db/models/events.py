"""What happened: access events, door and sensor events, the rooms' live state, alerts and
dead letters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base


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
