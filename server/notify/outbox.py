"""Mail waiting to be sent (`models.Mail`): recorded in the transaction of what caused it,
in the reader's language, and listed for staff while nothing sends it yet.

    outbox.queue(session, to="ala@example.org", kind="sign_in", lang="pl",
                 subject="...", body="...", member_id=3, now=now)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import models


def queue(
    session: Session,
    *,
    to: str,
    kind: str,
    lang: str,
    subject: str,
    body: str,
    member_id: int | None,
    now: datetime,
) -> models.Mail:
    """Record a message to send, due now."""
    mail = models.Mail(
        to_addr=to,
        kind=kind,
        lang=lang,
        subject=subject[:300],
        body=body,
        member_id=member_id,
        created_at=now,
        due_at=now,
        state="pending",
    )
    session.add(mail)
    session.flush()
    return mail


def pending(session: Session, *, limit: int = 100) -> list[models.Mail]:
    """Mail not sent yet (pending or failed), newest first."""
    stmt = (
        select(models.Mail)
        .where(models.Mail.state != "sent")
        .order_by(models.Mail.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
