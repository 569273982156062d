"""A room's door panel key over HTTP (staff): `GET /api/rooms/{id}/panel-key` reads it
(drawn on first use), `POST` draws a new one, and the panel open with the old key stops
working at once. The panel itself is a page (server.dashboard.panel)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from server.api.calendar import RoomId
from server.bookings import roomkeys
from server.db import models
from server.deps import CtxDep, Staff, WriteSession, audited

router = APIRouter(prefix="/api", tags=["panels"], dependencies=[Staff])


class PanelKeyOut(BaseModel):
    """The room's panel key and the panel's URL (on the server's public address)."""

    key: str
    url: str

    @classmethod
    def of(cls, room: models.Room, public_url: str) -> PanelKeyOut:
        key = room.panel_key or ""
        return cls(key=key, url=public_url.rstrip("/") + roomkeys.panel_path(room.id, key))


@router.get("/rooms/{room_id}/panel-key")
def get_panel_key(
    room_id: RoomId, request: Request, session: WriteSession, ctx: CtxDep
) -> PanelKeyOut:
    """The room's panel key and URL (drawn on first use); 404 for a room that is not
    bookable."""
    with session.begin():
        room, drawn = roomkeys.panel_key(session, site=ctx.site, room_id=room_id)
        if drawn:
            audited(request, session, "room.panel_key", room_id, {"rotated": False})
    return PanelKeyOut.of(room, ctx.settings.public_url)


@router.post("/rooms/{room_id}/panel-key")
def rotate_panel_key(
    room_id: RoomId, request: Request, session: WriteSession, ctx: CtxDep
) -> PanelKeyOut:
    """A new panel key; the panel open with the old one gets 404 and its stream ends."""
    with session.begin():
        room = roomkeys.rotate_panel_key(session, site=ctx.site, room_id=room_id)
        audited(request, session, "room.panel_key", room_id, {"rotated": True})
    return PanelKeyOut.of(room, ctx.settings.public_url)
