"""The access log and the devices of the site over HTTP.

The two read queries live here beside their routes, as plain functions (no FastAPI in
them), since this slice has no access-log module of its own."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import models
from server.deps import Admin, CtxDep, ReadSession
from server.schemas import MAX_ID, AccessEventOut, DeviceOut
from server.site import SiteConfig

router = APIRouter(prefix="/api", tags=["access"], dependencies=[Admin])

DEFAULT_STATUS_INTERVAL_S = 60.0
SILENCE_FACTOR = 3  # a device silent for this many status intervals counts as offline


def access_events(
    session: Session, *, device: str | None = None, member_id: int | None = None, limit: int = 100
) -> list[models.AccessEvent]:
    """The newest taps first (by when the server received them)."""
    stmt = (
        select(models.AccessEvent)
        .order_by(models.AccessEvent.received.desc(), models.AccessEvent.id.desc())
        .limit(limit)
    )
    if device is not None:
        stmt = stmt.where(models.AccessEvent.device_id == device)
    if member_id is not None:
        stmt = stmt.where(models.AccessEvent.member_id == member_id)
    return list(session.scalars(stmt))


def device_online(row: models.Device | None, now: datetime) -> bool:
    """Online when its last status said so and it has not been silent for more than
    three of its status intervals since."""
    if row is None or not row.online or row.last_seen is None:
        return False
    interval = DEFAULT_STATUS_INTERVAL_S
    if isinstance(row.status, dict):
        value = row.status.get("interval_s")
        if isinstance(value, int | float) and value > 0:
            interval = float(value)
    return now - row.last_seen <= timedelta(seconds=SILENCE_FACTOR * interval)


def devices(session: Session, *, site: SiteConfig, now: datetime) -> list[DeviceOut]:
    """Every device of the site file, in its order, with whether it is online now."""
    rows = {d.id: d for d in session.scalars(select(models.Device))}
    out = []
    for d in site.devices:
        row = rows.get(d.id)
        out.append(
            DeviceOut(
                id=d.id,
                kind=d.kind,
                room=d.room,
                door=d.door,
                online=device_online(row, now),
                last_seen=row.last_seen if row else None,
            )
        )
    return out


@router.get("/access-events")
def list_access_events(
    session: ReadSession,
    device: Annotated[str | None, Query(max_length=64)] = None,
    member_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AccessEventOut]:
    """Newest first; filter by device id and member."""
    events = access_events(session, device=device, member_id=member_id, limit=limit)
    return [AccessEventOut.of(e) for e in events]


@router.get("/devices")
def list_devices(session: ReadSession, ctx: CtxDep) -> list[DeviceOut]:
    """Every device of the site: online, or offline after its last status or a silence."""
    return devices(session, site=ctx.site, now=ctx.clock())
