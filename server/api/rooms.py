"""The rooms of the site over HTTP: each with its live occupancy and current booking, and
its free intervals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from server.bookings import availability as free_time
from server.bookings.schemas import AvailabilityOut
from server.deps import CtxDep, Members, ReadSession
from server.occupancy import rooms
from server.occupancy.schemas import RoomOut
from server.timefmt import RequestTime

router = APIRouter(prefix="/api", tags=["rooms"], dependencies=[Members])

RoomIdPath = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/rooms")
def list_rooms(session: ReadSession, ctx: CtxDep) -> list[RoomOut]:
    """Every room of the site file, in its order."""
    return rooms.list_rooms(session, site=ctx.site, now=ctx.clock())


@router.get("/rooms/{room_id}")
def get_room(room_id: RoomIdPath, session: ReadSession, ctx: CtxDep) -> RoomOut:
    """One room; 404 when the site has no such room."""
    return rooms.get_room(session, site=ctx.site, room_id=room_id, now=ctx.clock())


@router.get("/rooms/{room_id}/availability")
def availability(
    room_id: RoomIdPath,
    session: ReadSession,
    ctx: CtxDep,
    start: Annotated[RequestTime, Query(alias="from")],
    end: Annotated[RequestTime, Query(alias="to")],
) -> AvailabilityOut:
    """The free intervals of [from, to) (at most 31 days); 404 for an unknown room."""
    free = free_time.availability(session, site=ctx.site, room_id=room_id, start=start, end=end)
    return AvailabilityOut.of(room_id, start, end, free)
