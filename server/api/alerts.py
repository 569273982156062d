"""Alerts over HTTP: list them, acknowledge one (staff has seen it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from server.deps import CtxDep, ReadSession, Staff, WriteSession, audited
from server.live.kinds import AlertEvent
from server.monitoring import alerts
from server.schemas import MAX_ID

router = APIRouter(prefix="/api", tags=["alerts"], dependencies=[Staff])

AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/alerts")
def list_alerts(
    session: ReadSession,
    ctx: CtxDep,
    open_: Annotated[bool | None, Query(alias="open")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertEvent]:
    """This site's alerts, newest first; `open=true` only those not acknowledged yet,
    `open=false` only those that were."""
    found = alerts.list_alerts(session, open_only=open_, limit=limit, site_id=ctx.site.id)
    return [alerts.alert_event(a) for a in found]


@router.post("/alerts/{alert_id}/ack")
def acknowledge(
    alert_id: AlertId, request: Request, session: WriteSession, ctx: CtxDep
) -> AlertEvent:
    """Mark an alert seen (again is no error); 404 for an unknown id."""
    with session.begin():
        alert = alerts.acknowledge(session, alert_id=alert_id, now=ctx.clock(), site_id=ctx.site.id)
        audited(request, session, "alert.ack", alert_id, {"kind": alert.kind})
    shown = alerts.alert_event(alert)
    ctx.events.publish(shown)
    return shown
