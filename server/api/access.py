"""The access log and the devices of the site over HTTP.

The access-log query lives here beside its route, as a plain function (no FastAPI in it),
since this slice has no access-log module of its own; the devices' read functions are in
`server.devices`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import models
from server.deps import Admin, CtxDep, ReadSession
from server.devices import devices
from server.schemas import MAX_ID, AccessEventOut, DeviceOut

router = APIRouter(prefix="/api", tags=["access"], dependencies=[Admin])


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
