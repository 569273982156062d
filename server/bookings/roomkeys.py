"""A room's secrets: the keys in the URLs of its calendar feed (server.bookings.calendar)
and of its door panel, for clients that cannot sign in (a calendar app, a tablet on the
wall). One way to draw a key, one way to compare one, and only bookable rooms have them.

The door panel's key (`Room.panel_key`) is drawn on first use; a new one replaces it at
once, and a wrong or missing key reads as an unknown room, so the panel's URL tells
nobody whether the room exists.

    room, drawn = panel_key(session, site=site, room_id="sala-a")
    panel_room(session, site=site, room_id="sala-a", key=room.panel_key)  # the room
    panel_room(session, site=site, room_id="sala-a", key="guess")         # NotFound
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from server.db import models
from server.errors import NotFound
from server.site import SiteConfig

PANEL_NOT_FOUND = "panel not found"


def new_key() -> str:
    """A fresh room secret (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def key_matches(given: str | None, stored: str | None) -> bool:
    """Whether `given` is the stored key, compared in constant time (None never matches)."""
    raw = (given or "").encode()
    if stored is None:
        secrets.compare_digest(raw, raw)  # the same work as a real comparison
        return False
    return secrets.compare_digest(raw, stored.encode())


def bookable_room(session: Session, *, site: SiteConfig, room_id: str) -> models.Room:
    """A bookable room of the site (only those have secrets), or NotFound."""
    config = site.room(room_id)
    room = session.get(models.Room, room_id) if config is not None else None
    if config is None or not config.bookable or room is None:
        raise NotFound(f"room {room_id!r} not found")
    return room


# -- the door panel's key -----------------------------------------------------------------


def panel_key(session: Session, *, site: SiteConfig, room_id: str) -> tuple[models.Room, bool]:
    """The room with its panel key, and whether the key was drawn just now (first use)."""
    room = bookable_room(session, site=site, room_id=room_id)
    if room.panel_key is not None:
        return room, False
    room.panel_key = new_key()
    session.flush()
    return room, True


def rotate_panel_key(session: Session, *, site: SiteConfig, room_id: str) -> models.Room:
    """A new panel key for the room; panels open with the old one stop working at once."""
    room = bookable_room(session, site=site, room_id=room_id)
    room.panel_key = new_key()
    session.flush()
    return room


def panel_room(session: Session, *, site: SiteConfig, room_id: str, key: str | None) -> models.Room:
    """The room whose panel `key` opens; NotFound alike for an unknown room and a wrong
    or missing key."""
    try:
        room = bookable_room(session, site=site, room_id=room_id)
    except NotFound:
        key_matches(key, None)
        raise NotFound(PANEL_NOT_FOUND) from None
    if not key_matches(key, room.panel_key):
        raise NotFound(PANEL_NOT_FOUND)
    return room


def panel_path(room_id: str, key: str) -> str:
    """The panel's URL, relative to the server."""
    return f"/panel/{room_id}?key={key}"
