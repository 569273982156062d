"""Bookings, their attendees and no-show strikes, notifications, the waitlist and its offers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Numeric,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from protocol.messages import utcnow
from server.db.models.base import Base


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
    reminded_at: Mapped[datetime | None]  # told to check in before the release
    start_reminded_at: Mapped[datetime | None]  # told before the start, with a cancel link
    # Its calendar event's SEQUENCE: raised whenever the holder's calendar must update.
    sequence: Mapped[int] = mapped_column(default=0)

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
    """A member waiting for a room (or any room of a kind and size) and a time range, at
    the site where they joined (`site_id`): only that site's rooms are offered to them."""

    __tablename__ = "waitlist"
    __table_args__ = (Index("ix_waitlist_status_start", "status", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
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
