"""Response bodies of the access log API."""

from __future__ import annotations

from pydantic import BaseModel

from server.access.accesslog import outcome
from server.db import models
from server.timefmt import ResponseTime


class AccessEventOut(BaseModel):
    """One tap: `id` is the door controller's event id; `by` is `server`, `gateway` or
    `expired`. What the door reported doing (its result) wins over the decision sent.
    `member_name` is the member's name (None for an unknown card)."""

    id: str
    device: str
    door: str | None
    ts: ResponseTime | None
    received: ResponseTime
    granted: bool
    reason: str | None
    by: str | None
    member_id: int | None
    member_name: str | None

    @classmethod
    def of(cls, event: models.AccessEvent, member_name: str | None = None) -> AccessEventOut:
        granted, by = outcome(event)
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
            member_name=member_name,
        )
