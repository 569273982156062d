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
    _refuse_others_ids(session, site)
    for model, rows in _wanted(site):  # in the order their foreign keys need
        _upsert(session, model, {row.id: row for row in session.scalars(select(model))}, rows)
    plans = {p.id: p for p in session.scalars(select(models.Plan).filter_by(site_id=site.id))}
    changed = _upsert(session, models.Plan, plans, _plans(site))
    for gone in set(plans) - {p.id for p in site.plans}:
        session.delete(plans[gone])
        changed = True
    if changed:  # partner sites decide from this site's plans: their snapshots follow
        session.flush()
        bump(session)


# Lists rather than subqueries: with a list of ids the planner keeps to the bookings'
# (status, start) index even before PostgreSQL has statistics of the tables.


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


def _refuse_others_ids(session: Session, site: SiteConfig) -> None:
    R, D, V = models.Room, models.Door, models.Device
    rooms = [r.id for r in site.rooms]
    doors = [d.door for d in site.devices if d.door]
    devices = [d.id for d in site.devices]
    others = [
        ("room", select(R.id, R.site_id).where(R.id.in_(rooms), R.site_id != site.id)),
        (
            "door",
            select(D.id, R.site_id)
            .join(R, R.id == D.room_id)
            .where(D.id.in_(doors), R.site_id != site.id),
        ),
        ("device", select(V.id, V.site_id).where(V.id.in_(devices), V.site_id != site.id)),
    ]
    for what, stmt in others:
        taken = session.execute(stmt.limit(1)).first()
        if taken is not None:
            raise InventoryConflict(
                f"site {site.id!r}: the {what} id {taken[0]!r} is site {taken[1]!r}'s in the "
                "database (room, door and device ids are unique in a deployment: rename it "
                "in one of the site files)"
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
