"""Bookings, offers and waitlist entries as the portal lists them: the room's name and
local times, and what the member may do with each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from server.bookings.store import CURRENT
from server.db import models
from server.waitlist import entries

if TYPE_CHECKING:
    from server.portal.me import Me


@dataclass(frozen=True)
class BookingLine:
    """A booking the member holds or attends (`mine`: holds)."""

    id: int
    room: str
    start: datetime
    end: datetime
    title: str
    status: str
    mine: bool
    attendees: int
    upcoming: bool

    @property
    def may_cancel(self) -> bool:
        return self.mine and self.status == "booked" and self.upcoming

    @property
    def may_add(self) -> bool:
        return self.mine and self.status in CURRENT and self.upcoming


@dataclass(frozen=True)
class OfferLine:
    id: int
    room: str
    start: datetime
    end: datetime
    expires: datetime


@dataclass(frozen=True)
class EntryLine:
    id: int
    room: str
    start: datetime
    end: datetime
    status: str

    @property
    def may_leave(self) -> bool:
        return self.status in entries.OPEN


def room_name(me: Me, room_id: str | None) -> str:
    room = me.ctx.site.room(room_id) if room_id else None
    return room.name if room is not None else (room_id or "")


def booking_line(me: Me, booking: models.Booking) -> BookingLine:
    return BookingLine(
        id=booking.id,
        room=room_name(me, booking.room_id),
        start=me.local(booking.start),
        end=me.local(booking.end),
        title=booking.title or "",
        status=booking.status,
        mine=booking.member_id == me.member_id,
        attendees=len(booking.attendees),
        upcoming=booking.end > me.now,
    )


def offer_line(me: Me, offer: models.Offer) -> OfferLine:
    return OfferLine(
        id=offer.id,
        room=room_name(me, offer.room_id),
        start=me.local(offer.start),
        end=me.local(offer.end),
        expires=me.local(offer.expires_at),
    )


def entry_line(me: Me, entry: models.WaitlistEntry) -> EntryLine:
    return EntryLine(
        id=entry.id,
        room=room_name(me, entry.room_id) if entry.room_id else (entry.kind or ""),
        start=me.local(entry.start),
        end=me.local(entry.end),
        status=entry.status,
    )
