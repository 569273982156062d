"""The reception desk's door panels: each bookable room's panel link, to open on the tablet
beside its door, and a new key for it (the old link stops working at once), audited as
through the API (`room.panel_key`).

| route | what |
| --- | --- |
| `GET /reception/panels` | every bookable room's panel link (a key drawn on first view) |
| `POST /reception/panels/{room_id}/rotate` | a new key for the room's panel |"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.bookings import roomkeys
from server.dashboard.pages import RoomIdPath
from server.dashboard.reception.desk import Desk, DeskDep
from server.deps import Staff, WriteSession, audited
from server.notify.texts import text

router = APIRouter(prefix="/reception", include_in_schema=False, dependencies=[Staff])


@dataclass(frozen=True)
class PanelLink:
    room_id: str
    name: str
    url: str


def _links(desk: Desk, session: Session) -> list[PanelLink]:
    """Every bookable room's panel link, drawing (and recording) a key where none is."""
    base = desk.ctx.settings.public_url.rstrip("/")
    links = []
    for config in desk.ctx.site.rooms:
        if not config.bookable:
            continue
        room, drawn = roomkeys.panel_key(session, site=desk.ctx.site, room_id=config.id)
        if drawn:
            audited(desk.request, session, "room.panel_key", room.id, {"rotated": False})
        url = base + roomkeys.panel_path(room.id, room.panel_key or "")
        links.append(PanelLink(room_id=room.id, name=config.name, url=url))
    return links


@router.get("/panels")
def panels(
    desk: DeskDep,
    session: WriteSession,
    rotated: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The panel link of every bookable room, and a button for a new key."""
    with session.begin():
        links = _links(desk, session)
    names = {link.room_id: link.name for link in links}
    done = text(desk.lang, "panel.desk.rotated", room=names[rotated]) if rotated in names else None
    return desk.render("reception/panels.html", links=links, done=done)


@router.post("/panels/{room_id}/rotate")
def rotate(room_id: RoomIdPath, desk: DeskDep, session: WriteSession) -> Response:
    """A new key for the room's panel; 404 for a room without one (not bookable)."""
    with session.begin():
        roomkeys.rotate_panel_key(session, site=desk.ctx.site, room_id=room_id)
        audited(desk.request, session, "room.panel_key", room_id, {"rotated": True})
    return desk.redirect("/reception/panels", rotated=room_id)
