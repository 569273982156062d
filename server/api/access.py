"""The access log and the devices of the site over HTTP; their read functions are in
`server.access.accesslog` and `server.monitoring.device_status`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from server.access.accesslog import access_events
from server.access.schemas import AccessEventOut
from server.deps import CallerDep, CtxDep, ReadSession, own_filter, routers
from server.monitoring.device_status import DeviceOut, devices
from server.schemas import MAX_ID

# staff's routes, and those a member may call too, for their own only
router, member_router = routers("access")


@member_router.get("/access-events")
def list_access_events(
    principal: CallerDep,
    session: ReadSession,
    device: Annotated[str | None, Query(max_length=64)] = None,
    member_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AccessEventOut]:
    """Newest first; filter by device id and member."""
    member_id = own_filter(principal, member_id)
    events = access_events(session, device=device, member_id=member_id, limit=limit)
    return [AccessEventOut.of(e) for e in events]


@router.get("/devices")
def list_devices(session: ReadSession, ctx: CtxDep) -> list[DeviceOut]:
    """Every device of the site: online, or offline after its last status or a silence."""
    return devices(session, site=ctx.site, now=ctx.clock())
