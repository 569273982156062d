"""Bring the database's sites, rooms, doors and devices in line with the site file."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import models
from server.site import SiteConfig


def sync_site(session: Session, site: SiteConfig) -> None:
    """Upsert the site's inventory (ids are stable; names and flags follow the file).

    Rooms, doors and devices that left the file are kept, since access events and
    bookings refer to them, but no longer appear in the snapshot or the API."""
    # One query a table: the merges below then find their rows in the session (held here,
    # as the session keeps only weak references).
    held = [
        session.scalars(select(model)).all()
        for model in (models.Site, models.Room, models.Door, models.Device)
    ]
    session.merge(models.Site(id=site.id, name=site.site.name, timezone=site.site.timezone))
    for room in site.rooms:
        session.merge(
            models.Room(
                id=room.id,
                site_id=site.id,
                name=room.name,
                kind=room.kind,
                capacity=room.capacity,
                bookable=room.bookable,
            )
        )
    session.flush()
    modes = dict(session.execute(select(models.Door.id, models.Door.mode)).all())
    for device in site.devices:
        if device.door:
            session.merge(
                models.Door(
                    id=device.door, room_id=device.room, mode=modes.get(device.door, "normal")
                )
            )
    session.flush()
    for device in site.devices:
        row = session.get(models.Device, device.id)
        if row is None:
            row = models.Device(id=device.id, site_id=site.id)
            session.add(row)
        row.kind = device.kind
        row.room_id = device.room
        row.door_id = device.door
    del held
