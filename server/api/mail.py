"""`GET /api/mail`: mail waiting to be sent (sign-in links, for now), for staff to see
until mail is sent by e-mail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from server.db import models
from server.deps import ReadSession, Staff
from server.notify import outbox
from server.timefmt import ResponseTime

router = APIRouter(prefix="/api", tags=["mail"], dependencies=[Staff])


class MailOut(BaseModel):
    id: int
    to: str
    kind: str
    lang: str
    subject: str
    body: str
    member_id: int | None
    state: str
    created_at: ResponseTime

    @classmethod
    def of(cls, mail: models.Mail) -> MailOut:
        return cls(
            id=mail.id,
            to=mail.to_addr,
            kind=mail.kind,
            lang=mail.lang,
            subject=mail.subject,
            body=mail.body,
            member_id=mail.member_id,
            state=mail.state,
            created_at=mail.created_at,
        )


@router.get("/mail")
def pending_mail(
    session: ReadSession, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[MailOut]:
    """Mail not sent yet, newest first."""
    return [MailOut.of(m) for m in outbox.pending(session, limit=limit)]
