"""Bring the database's sites, rooms, doors and devices in line with the site file."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import models
from server.site import SiteConfig

Rows = dict[str, dict[str, Any]]  # a row's id -> the values the file gives its columns


def sync_site(session: Session, site: SiteConfig) -> None:
    """Upsert the site's inventory (ids are stable; names and flags follow the file).

    A row already in line is left alone, so a start on an unchanged file writes nothing.
    Rooms, doors and devices that left the file are kept, since access events and
    bookings refer to them, but no longer appear in the snapshot or the API."""
    for model, rows in _wanted(site):  # in the order their foreign keys need
        present = {row.id: row for row in session.scalars(select(model))}
        for row_id, values in rows.items():
            row = present.get(row_id)
            if row is None:
                session.add(model(id=row_id, **values))
                continue
            for column, value in values.items():
                if getattr(row, column) != value:
                    setattr(row, column, value)
        session.flush()


def _wanted(site: SiteConfig) -> list[tuple[type[Any], Rows]]:
    return [
        (models.Site, {site.id: {"name": site.site.name, "timezone": site.site.timezone}}),
        (
            models.Room,
            {
                room.id: {
                    "site_id": site.id,
                    "name": room.name,
                    "kind": room.kind,
                    "capacity": room.capacity,
                    "bookable": room.bookable,
                }
                for room in site.rooms
            },
        ),
        (
            models.Door,
            {device.door: {"room_id": device.room} for device in site.devices if device.door},
        ),
        (
            models.Device,
            {
                device.id: {
                    "site_id": site.id,
                    "kind": device.kind,
                    "room_id": device.room,
                    "door_id": device.door,
                }
                for device in site.devices
            },
        ),
    ]
