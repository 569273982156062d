"""The rooms of the site as the API and the dashboard show them: each with its live
occupancy, from its sensors, and the booking holding it now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.bookings import store
from server.bookings.schemas import BookingOut
from server.occupancy import state
from server.occupancy.schemas import Occupancy, RoomOut
from server.site import Room, SiteConfig


def occupancy(session: Session, *, site: SiteConfig, room_id: str, now: datetime) -> Occupancy:
    """A room's live occupancy, from its sensors."""
    seen = state.view(session, site=site, room_id=room_id, now=now)
    return Occupancy(occupied=seen.occupied, people=seen.people, last_motion=seen.last_motion)


def _room_out(
    session: Session, site: SiteConfig, room: Room, current: BookingOut | None, now: datetime
) -> RoomOut:
    return RoomOut(
        id=room.id,
        name=room.name,
        kind=room.kind,
        capacity=room.capacity,
        bookable=room.bookable,
        occupancy=occupancy(session, site=site, room_id=room.id, now=now),
        current_booking=current,
    )


def list_rooms(session: Session, *, site: SiteConfig, now: datetime) -> list[RoomOut]:
    """Every room of the site file, in its order."""
    currency = site.site.currency
    current = store.current_bookings(session, room_ids=[r.id for r in site.rooms], now=now)
    return [
        _room_out(
            session,
            site,
            room,
            BookingOut.of(current[room.id], currency=currency) if room.id in current else None,
            now,
        )
        for room in site.rooms
    ]


def get_room(session: Session, *, site: SiteConfig, room_id: str, now: datetime) -> RoomOut:
    """One room; NotFound when the site has no such room."""
    room = store.site_room(site, room_id=room_id)
    booking = store.current_booking(session, room_id=room_id, now=now)
    current = None if booking is None else BookingOut.of(booking, currency=site.site.currency)
    return _room_out(session, site, room, current, now)
