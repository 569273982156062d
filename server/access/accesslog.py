"""The access log as the API, the dashboard and the live stream show it (one row per tap),
and the name a door's display may show."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.messages import format_time
from server.db import models


def display_name(name: str) -> str:
    """What a door's display may show: `Anna Kowalska` → `Anna K.`."""
    parts = name.split()
    if len(parts) < 2:
        return name[:40]
    return f"{parts[0]} {parts[-1][0]}."


def access_event(event: models.AccessEvent, *, member_name: str | None = None) -> dict:
    """An access-log row as the API and the live stream show it (door's Result first)."""
    granted, by = event.granted, event.by
    if event.result_applied is not None:
        granted = bool(event.result_granted)
        by = "expired" if event.result_applied == "none" else event.result_applied
    return {
        "id": event.event_id,
        "device": event.device_id,
        "door": event.door_id,
        "ts": event.ts and format_time(event.ts),
        "received": format_time(event.received),
        "granted": granted,
        "reason": event.reason,
        "by": by,
        "member_id": event.member_id,
        "name": member_name,
    }


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
