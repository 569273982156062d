"""Bring the database's sites, rooms, doors, devices and plans in line with the site file.

Several sites share one database (docs/architecture.md, "Several sites"): each site's
server syncs its own file, and room, door and device ids are unique in the deployment
(server.db.scope: which rows are a site's)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import models
from server.db.meta import bump
from server.site import SiteConfig

Rows = dict[Any, dict[str, Any]]  # a row's id -> the values the file gives its columns


class InventoryConflict(ValueError):
    """The site file claims a room, door or device id that another site holds."""


def sync_site(session: Session, site: SiteConfig) -> None:
    """Upsert the site's inventory (ids are stable; names and flags follow the file).

    A row already in line is left alone, so a start on an unchanged file writes nothing.
    Rooms, doors and devices that left the file are kept, since access events and
    bookings refer to them, but no longer appear in the snapshot or the API. Plans that
    left it are deleted. InventoryConflict, and nothing written, when the file claims an
    id the database holds for another site."""
    wanted = _wanted(site)  # in the order their foreign keys need
    present = {
        model: {row.id: row for row in session.scalars(select(model))} for model, _ in wanted
    }
    _refuse_others_ids(site, present)
    for model, rows in wanted:
        _upsert(session, model, present[model], rows)
    plans = {p.id: p for p in session.scalars(select(models.Plan).filter_by(site_id=site.id))}
    changed = _upsert(session, models.Plan, plans, _plans(site))
    for gone in set(plans) - {p.id for p in site.plans}:
        session.delete(plans[gone])
        changed = True
    if changed:  # partner sites decide from this site's plans: their snapshots follow
        session.flush()
        bump(session)


def _upsert(session: Session, model: type[Any], present: dict[Any, Any], rows: Rows) -> bool:
    """Insert the rows missing from `present` and correct those that differ; whether any
    row changed."""
    changed = False
    for row_id, values in rows.items():
        row = present.get(row_id)
        if row is None:
            session.add(model(id=row_id, **values))
            changed = True
            continue
        for column, value in values.items():
            if getattr(row, column) != value:
                setattr(row, column, value)
                changed = True
    session.flush()
    return changed


def _refuse_others_ids(site: SiteConfig, present: dict[type[Any], dict[Any, Any]]) -> None:
    """InventoryConflict for a room, door or device of the file that the database (its
    rows `present`, by model and id) holds for another site."""
    rooms = present[models.Room]

    def door_site(door: models.Door) -> str | None:
        room = rooms.get(door.room_id)
        return room.site_id if room is not None else None

    claimed = [
        ("room", models.Room, [r.id for r in site.rooms], lambda row: row.site_id),
        ("door", models.Door, [d.door for d in site.devices if d.door], door_site),
        ("device", models.Device, [d.id for d in site.devices], lambda row: row.site_id),
    ]
    for what, model, ids, site_of in claimed:
        for row_id in ids:
            row = present[model].get(row_id)
            holder = site_of(row) if row is not None else None
            if holder is not None and holder != site.id:
                raise InventoryConflict(
                    f"site {site.id!r}: the {what} id {row_id!r} is site {holder!r}'s in the "
                    "database (room, door and device ids are unique in a deployment: rename "
                    "it in one of the site files)"
                )


def _plans(site: SiteConfig) -> Rows:
    return {
        plan.id: {"site_id": site.id, "name": plan.name, "partners": list(plan.partners)}
        for plan in site.plans
    }


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
