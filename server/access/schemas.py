"""Response bodies of the access log API."""

from __future__ import annotations

from pydantic import BaseModel

from server.db import models
from server.timefmt import ResponseTime


class AccessEventOut(BaseModel):
    """One tap: `id` is the door controller's event id; `by` is `server`, `gateway` or
    `expired`. What the door reported doing (its result) wins over the decision sent."""

    id: str
    device: str
    door: str | None
    ts: ResponseTime | None
    received: ResponseTime
    granted: bool
    reason: str | None
    by: str | None
    member_id: int | None

    @classmethod
    def of(cls, event: models.AccessEvent) -> AccessEventOut:
        granted, by = event.granted, event.by
        if event.result_applied is not None:
            granted = bool(event.result_granted)
            by = "expired" if event.result_applied == "none" else event.result_applied
        return cls(
            id=event.event_id,
            device=event.device_id,
            door=event.door_id,
            ts=event.ts,
            received=event.received,
            granted=granted,
            reason=event.reason,
            by=by,
            member_id=event.member_id,
        )
