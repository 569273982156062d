"""The access log and the devices of the site over HTTP; their read functions are in
`server.access.accesslog` and `server.monitoring.device_status`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Query, Request, Response
from pydantic import BeforeValidator

from server.access.accesslog import MAX_PAGE, LogFilter, access_page, parse_when, span
from server.access.schemas import AccessEventOut
from server.api.paging import link_next
from server.deps import CallerDep, CtxDep, ReadSession, own_filter, routers
from server.monitoring.device_status import DeviceOut, devices
from server.schemas import MAX_ID

# staff's routes, and those a member may call too, for their own only
router, member_router = routers("access")

# `from`/`to`: a local date (the site's day) or a date-time with an offset
When = Annotated[date | datetime | None, BeforeValidator(parse_when)]


@member_router.get("/access-events")
def list_access_events(
    principal: CallerDep,
    request: Request,
    response: Response,
    session: ReadSession,
    ctx: CtxDep,
    device: Annotated[str | None, Query(max_length=64)] = None,
    door: Annotated[str | None, Query(max_length=64)] = None,
    member_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    granted: bool | None = None,
    start: Annotated[When, Query(alias="from")] = None,
    end: Annotated[When, Query(alias="to")] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> list[AccessEventOut]:
    """This site's taps, newest first, a page at a time (`Link: <...>; rel="next"` names
    the next page, `before=<row id>`); filter by device, door, member, admitted or
    refused, and time (`from` inclusive, `to` exclusive; a date `YYYY-MM-DD` is the
    site's whole local day).
    Each row has the member's name (`member_name`, null for an unknown card)."""
    member_id = own_filter(principal, member_id)
    lo, hi = span(start, end, ZoneInfo(ctx.site.site.timezone))
    where = LogFilter(
        start=lo,
        end=hi,
        device=device,
        door=door,
        member_id=member_id,
        granted=granted,
        site=ctx.site.id,
    )
    page = access_page(session, where, before=before, limit=limit)
    link_next(request, response, page.next)
    return [AccessEventOut.of(row.event, row.member_name) for row in page.rows]


@router.get("/devices")
def list_devices(session: ReadSession, ctx: CtxDep) -> list[DeviceOut]:
    """Every device of the site: online, or offline after its last status or a silence."""
    return devices(session, site=ctx.site, now=ctx.clock())
