"""Alerts over HTTP: list them, acknowledge one (staff has seen it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from server.db import models
from server.deps import Admin, CtxDep, ReadSession, WriteSession
from server.monitoring import alerts
from server.schemas import MAX_ID
from server.timefmt import ResponseTime

router = APIRouter(prefix="/api", tags=["alerts"], dependencies=[Admin])

AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]


class AlertOut(BaseModel):
    id: int
    kind: str
    room_id: str | None
    device_id: str | None
    booking_id: int | None
    details: dict[str, Any]
    created_at: ResponseTime
    acknowledged_at: ResponseTime | None

    @classmethod
    def of(cls, alert: models.Alert) -> AlertOut:
        return cls(
            id=alert.id,
            kind=alert.kind,
            room_id=alert.room_id,
            device_id=alert.device_id,
            booking_id=alert.booking_id,
            details=alert.details or {},
            created_at=alert.created_at,
            acknowledged_at=alert.acknowledged_at,
        )


@router.get("/alerts")
def list_alerts(
    session: ReadSession,
    open_: Annotated[bool | None, Query(alias="open")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertOut]:
    """Newest first; `open=true` only those not acknowledged yet, `open=false` only those
    that were."""
    return [AlertOut.of(a) for a in alerts.list_alerts(session, open_only=open_, limit=limit)]


@router.post("/alerts/{alert_id}/ack")
def acknowledge(alert_id: AlertId, session: WriteSession, ctx: CtxDep) -> AlertOut:
    """Mark an alert seen (again is no error); 404 for an unknown id."""
    with session.begin():
        alert = alerts.acknowledge(session, alert_id=alert_id, now=ctx.clock())
    ctx.events.publish(alerts.alert_event(alert))
    return AlertOut.of(alert)
