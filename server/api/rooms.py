"""The rooms of the site over HTTP: each with its live occupancy and current booking, and
its free intervals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from server import bookings
from server import occupancy as occupancy_service
from server.booking_schemas import AvailabilityOut, BookingOut, Occupancy, RoomOut
from server.deps import Admin, CtxDep, ReadSession
from server.site import Room, SiteConfig
from server.timefmt import RequestTime

router = APIRouter(prefix="/api", tags=["rooms"], dependencies=[Admin])

RoomIdPath = Annotated[str, Path(min_length=1, max_length=64)]


def occupancy(session: Session, *, site: SiteConfig, room_id: str, now: datetime) -> Occupancy:
    """A room's live occupancy, from its sensors."""
    seen = occupancy_service.view(session, site=site, room_id=room_id, now=now)
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


@router.get("/rooms")
def list_rooms(session: ReadSession, ctx: CtxDep) -> list[RoomOut]:
    """Every room of the site file, in its order."""
    now = ctx.clock()
    currency = ctx.site.site.currency
    current = bookings.current_bookings(session, room_ids=[r.id for r in ctx.site.rooms], now=now)
    return [
        _room_out(
            session,
            ctx.site,
            room,
            BookingOut.of(current[room.id], currency=currency) if room.id in current else None,
            now,
        )
        for room in ctx.site.rooms
    ]


@router.get("/rooms/{room_id}")
def get_room(room_id: RoomIdPath, session: ReadSession, ctx: CtxDep) -> RoomOut:
    """One room; 404 when the site has no such room."""
    room = bookings.site_room(ctx.site, room_id=room_id)
    now = ctx.clock()
    booking = bookings.current_booking(session, room_id=room_id, now=now)
    current = None if booking is None else BookingOut.of(booking, currency=ctx.site.site.currency)
    return _room_out(session, ctx.site, room, current, now)


@router.get("/rooms/{room_id}/availability")
def availability(
    room_id: RoomIdPath,
    session: ReadSession,
    ctx: CtxDep,
    start: Annotated[RequestTime, Query(alias="from")],
    end: Annotated[RequestTime, Query(alias="to")],
) -> AvailabilityOut:
    """The free intervals of [from, to) (at most 31 days); 404 for an unknown room."""
    free = bookings.availability(session, site=ctx.site, room_id=room_id, start=start, end=end)
    return AvailabilityOut.of(room_id, start, end, free)
