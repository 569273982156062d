"""`GET /api/audit`: who changed what and when, newest first, a page at a time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from server.api.paging import link_next
from server.db import models
from server.deps import ReadSession, Staff
from server.people import audit
from server.schemas import MAX_ID
from server.timefmt import ResponseTime

router = APIRouter(prefix="/api", tags=["audit"], dependencies=[Staff])


class AuditOut(BaseModel):
    id: int
    ts: ResponseTime
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, entry: models.AuditEntry) -> AuditOut:
        return cls(
            id=entry.id,
            ts=entry.ts,
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            detail=entry.detail or {},
        )


@router.get("/audit")
def list_audit(
    request: Request,
    response: Response,
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
) -> list[AuditOut]:
    """Newest first; `before` (an entry's id) gives the page after the one that ended there,
    and `Link: <...>; rel="next"` names it; filter by `action` (one of the vocabulary) and
    `actor` (as recorded: `user:<id>`, `token:<id>`, `admin-token`)."""
    shown, after = audit.page(session, limit=limit, before=before, action=action, actor=actor)
    link_next(request, response, after)
    return [AuditOut.of(e) for e in shown]
