"""`GET /api/mail`: every mail to members and staff with its state (pending, sent,
failed), attempts and last error, newest first, for staff to see what reached people. A
sign-in link's token is shown only to a caller who outranks its account and manages it
(server.people.logins.shown_to)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from server.db import models
from server.deps import CallerDep, ReadSession, Staff
from server.notify import outbox
from server.people import logins
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
    booking_id: int | None
    attachment_name: str | None
    state: str
    attempts: int
    last_error: str | None
    created_at: ResponseTime
    due_at: ResponseTime
    sent_at: ResponseTime | None

    @classmethod
    def of(cls, mail: models.Mail, body: str) -> MailOut:
        """The mail, with its body as the caller may read it."""
        return cls(
            id=mail.id,
            to=mail.to_addr,
            kind=mail.kind,
            lang=mail.lang,
            subject=mail.subject,
            body=body,
            member_id=mail.member_id,
            booking_id=mail.booking_id,
            attachment_name=mail.attachment_name,
            state=mail.state,
            attempts=mail.attempts,
            last_error=mail.last_error,
            created_at=mail.created_at,
            due_at=mail.due_at,
            sent_at=mail.sent_at,
        )


@router.get("/mail")
def list_mail(
    session: ReadSession,
    principal: CallerDep,
    state: Literal["pending", "sent", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[MailOut]:
    """Mail, newest first; `state` keeps one state only. A sign-in link's token is
    `[hidden]` unless its account's role is below the caller's and the caller manages it
    (people.logins.shown_to)."""
    mails = outbox.listed(session, state=state, limit=limit)
    bodies = logins.shown_to(session, viewer=principal.manager, texts=[m.body for m in mails])
    return [MailOut.of(m, body) for m, body in zip(mails, bodies, strict=True)]
