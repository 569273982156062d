"""Which rows are a site's, for everything that site's server lists, decides or sweeps:
the ids of its rooms, doors and devices (as the database holds them, rooms that left the
file included), to filter bookings, offers, alerts and events by; and its waitlist
entries, which carry the site where they were made (`entries`).

    stmt = select(models.Booking).where(models.Booking.room_id.in_(scope.rooms("piaseczno")))

`rooms`, `devices` and `doors` are subqueries, for the lists and for statements that are
led by another index (an entrance's Result, server.access.reconcile); the door decisions
and the periodic jobs read the ids once (`own_rooms`, `others_devices`) and keep to them
in Python or as a plain list (server.noshows.release says why).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from server.db import models


def rooms(site_id: str | ColumnElement[str]) -> Select[Any]:
    """The ids of the site's rooms (`site_id` may be a bound parameter)."""
    return select(models.Room.id).where(models.Room.site_id == site_id)


def devices(site_id: str) -> Select[Any]:
    """The ids of the site's devices."""
    return select(models.Device.id).where(models.Device.site_id == site_id)


def doors(site_id: str) -> Select[Any]:
    """The ids of the site's doors (a door is its room's site's)."""
    return select(models.Door.id).where(models.Door.room_id.in_(rooms(site_id)))


def entries(site_id: str) -> ColumnElement[bool]:
    """The condition for the site's waitlist entries (those made at it; an entry for any
    room of a kind is offered, listed and cancelled at its own site only)."""
    return models.WaitlistEntry.site_id == site_id


def own_rooms(session: Session, site_id: str) -> list[str]:
    """The ids of the site's rooms."""
    return list(session.scalars(rooms(site_id)))


def others_devices(session: Session, site_id: str) -> list[str]:
    """The ids of the other sites' devices."""
    return list(session.scalars(select(models.Device.id).where(models.Device.site_id != site_id)))


def room_at(session: Session, room_id: str | None, site_id: str | None) -> bool:
    """Whether the room is the site's (True for no room, or no site asked about; a waitlist
    entry is the site's by its own `site_id`, `entries`)."""
    if room_id is None or site_id is None:
        return True
    room = session.get(models.Room, room_id)
    return room is not None and room.site_id == site_id
