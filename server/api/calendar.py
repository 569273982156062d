"""A room's calendar feed over HTTP, and its keys.

The feed (`GET /api/rooms/{id}/calendar.ics?key=...`) takes no bearer token: calendar
apps cannot send one, so the key in the URL is the credential. 404 for an unknown (or not
bookable) room, 403 `invalid calendar key` for a wrong or missing key. The keys
themselves are read and rotated by staff; drawing and rotating them is audited
(`room.calendar_keys`, `{"rotated": false|true}`), the keys themselves never."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from server.bookings import calendar
from server.db import models
from server.deps import CtxDep, ReadSession, Staff, WriteSession, audited

router = APIRouter(prefix="/api", tags=["calendar"])

RoomId = Annotated[str, Path(min_length=1, max_length=64)]


class CalendarKeysOut(BaseModel):
    """Both keys of a room and the feed URLs (relative to the server) they open."""

    room_id: str
    key: str
    staff_key: str
    url: str
    staff_url: str

    @classmethod
    def of(cls, room: models.Room) -> CalendarKeysOut:
        key, staff_key = room.calendar_key or "", room.staff_calendar_key or ""
        return cls(
            room_id=room.id,
            key=key,
            staff_key=staff_key,
            url=calendar.feed_url(room.id, key),
            staff_url=calendar.feed_url(room.id, staff_key),
        )


@router.get("/rooms/{room_id}/calendar.ics", response_class=Response)
def room_calendar(
    room_id: RoomId,
    session: ReadSession,
    ctx: CtxDep,
    key: Annotated[str | None, Query()] = None,
) -> Response:
    """The room's bookings as iCalendar; busy times only unless `key` is the staff key."""
    body = calendar.room_feed(session, site=ctx.site, room_id=room_id, key=key, now=ctx.clock())
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{room_id}.ics"',
            "Cache-Control": "private, no-cache",
        },
    )


@router.get("/rooms/{room_id}/calendar-keys", dependencies=[Staff])
def get_calendar_keys(
    room_id: RoomId, request: Request, session: WriteSession, ctx: CtxDep
) -> CalendarKeysOut:
    """The room's feed keys and URLs (drawn on first use)."""
    with session.begin():
        room, drawn = calendar.room_keys(session, site=ctx.site, room_id=room_id)
        if drawn:
            audited(request, session, "room.calendar_keys", room_id, {"rotated": False})
    return CalendarKeysOut.of(room)


@router.post("/rooms/{room_id}/calendar-keys", dependencies=[Staff])
def rotate_calendar_keys(
    room_id: RoomId, request: Request, session: WriteSession, ctx: CtxDep
) -> CalendarKeysOut:
    """New public and staff keys; the old URLs stop working at once."""
    with session.begin():
        room = calendar.rotate_keys(session, site=ctx.site, room_id=room_id)
        audited(request, session, "room.calendar_keys", room_id, {"rotated": True})
    return CalendarKeysOut.of(room)
