"""Mail to send (`models.Mail`): recorded in the transaction of what caused it, in the
reader's language, as plain text and the same words as simple HTML, sent afterwards by
server.notify.sender (retried, its state kept for staff to see).

    outbox.queue(session, to="ala@example.org", kind="sign_in", lang="pl",
                 subject="...", body="...", member_id=3, now=now)
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import models

STATES = ("pending", "sent", "failed")
_URL = re.compile(r"(https?://[^\s<>\"]+)")


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
    booking_id: int | None = None,
    attachment: tuple[str, str] | None = None,
) -> models.Mail:
    """Record a message to send, due now: `body` is its plain text (the HTML is made from
    it), `attachment` a (file name, calendar text) pair."""
    subject = subject[:300]
    mail = models.Mail(
        to_addr=to,
        kind=kind,
        lang=lang,
        subject=subject,
        body=body,
        html=html_of(body, lang=lang, subject=subject),
        attachment_name=attachment[0] if attachment else None,
        attachment=attachment[1] if attachment else None,
        booking_id=booking_id,
        member_id=member_id,
        created_at=now,
        due_at=now,
        state="pending",
    )
    session.add(mail)
    session.flush()
    return mail


def html_of(body: str, *, lang: str, subject: str) -> str:
    """The plain text as a simple HTML page: a paragraph per blank-line-separated block,
    its lines kept, its links made clickable, everything else escaped."""
    paragraphs = []
    for block in body.strip().split("\n\n"):
        pieces = _URL.split(block)  # odd pieces are the links
        html = "".join(
            f'<a href="{escape(p)}">{escape(p)}</a>' if i % 2 else escape(p)
            for i, p in enumerate(pieces)
        )
        paragraphs.append(f"<p>{html.replace(chr(10), '<br>')}</p>")
    return (
        f'<!doctype html>\n<html lang="{escape(lang)}">\n<head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head>\n"
        '<body style="font-family: sans-serif; font-size: 16px; line-height: 1.5; '
        'color: #1a1a1a; max-width: 40em">\n' + "\n".join(paragraphs) + "\n</body>\n</html>\n"
    )


def listed(
    session: Session, *, state: str | None = None, limit: int = 100, before: int | None = None
) -> list[models.Mail]:
    """Mail, newest first: every state, or one (`pending`, `sent`, `failed`); `before` a
    mail id to page from."""
    stmt = select(models.Mail).order_by(models.Mail.id.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(models.Mail.state == state)
    if before is not None:
        stmt = stmt.where(models.Mail.id < before)
    return list(session.scalars(stmt))


def pending(session: Session, *, limit: int = 100) -> list[models.Mail]:
    """Mail not sent yet (pending or failed), newest first."""
    stmt = (
        select(models.Mail)
        .where(models.Mail.state != "sent")
        .order_by(models.Mail.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
