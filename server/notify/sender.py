"""Sending the queued mail (server.notify.outbox) to the SMTP server, retried with backoff.

`send_due` takes the mail that is due, each claimed first by a conditional UPDATE that
only one replica wins (its attempts counted, its `due_at` moved a lease ahead, so a
replica that dies mid-send leaves the mail to be tried again once the lease is over),
sends it outside any transaction, then marks it `sent`, or counts the failure: due again
after 1 minute, 5, 30, 2 hours, 6 hours, and `failed` for good after the sixth attempt,
its last error kept for staff (GET /api/mail, /reception/mail).

    send_due(ctx.reads, ctx.writes, target=smtp_target(url), mail_from="hub@x.org", now=now)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from server.db import models
from server.notify.smtp import SmtpTarget, deliver

log = logging.getLogger(__name__)

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(minutes=5)  # a claimed mail nobody finished is due again after this
BATCH = 20
_METHOD = re.compile(r"^METHOD:(\w+)\r?$", re.MULTILINE)

M = models.Mail
Deliver = Callable[[SmtpTarget, EmailMessage], None]


@dataclass
class SendReport:
    """What one pass did, by mail id."""

    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def send_due(
    reads: sessionmaker[Session],
    writes: sessionmaker[Session],
    *,
    target: SmtpTarget,
    mail_from: str,
    now: datetime,
    limit: int = BATCH,
    send: Deliver = deliver,
) -> SendReport:
    """Send up to `limit` mails due at `now`, oldest first; each claimed, sent and marked
    on its own, so one failing address never holds back the others. Looking for due mail
    takes no write lock (`reads`): most passes find none."""
    report = SendReport()
    with reads() as session:
        due = session.execute(
            select(M.id, M.attempts)
            .where(M.state == "pending", M.due_at <= now)
            .order_by(M.due_at, M.id)
            .limit(limit)
        ).all()
    for mail_id, attempts in due:
        mail = _claim(writes, mail_id=mail_id, attempts=attempts, now=now)
        if mail is None:
            continue  # another replica has it
        try:
            send(target, message(mail, mail_from=mail_from, now=now))
        except Exception as exc:  # smtplib's errors, OSError for a server down, ...
            log.warning("sending mail %d to %s failed: %s", mail.id, mail.to_addr, exc)
            gave_up = _failed(writes, mail, error=_worded(exc), now=now)
            (report.failed if gave_up else report.retried).append(mail.id)
            continue
        _sent(writes, mail, now=now)
        report.sent.append(mail.id)
    return report


def message(mail: models.Mail, *, mail_from: str, now: datetime) -> EmailMessage:
    """The mail as a MIME message: plain text and HTML alternatives, and the calendar
    attachment (text/calendar with its iTIP method) when it has one."""
    msg = EmailMessage()
    msg["Subject"] = mail.subject
    msg["From"] = mail_from
    msg["To"] = mail.to_addr
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(f"mail{mail.id}", domain=mail_from.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"  # no out-of-office replies, please
    msg.set_content(mail.body)
    if mail.html:
        msg.add_alternative(mail.html, subtype="html")
    if mail.attachment:
        found = _METHOD.search(mail.attachment)
        params = {"method": found.group(1)} if found else {}
        msg.add_attachment(
            mail.attachment,
            subtype="calendar",
            filename=mail.attachment_name or "booking.ics",
            params=params,
        )
    msg["Content-Language"] = mail.lang  # last: MIME's making of parts moves Content-*
    return msg


def _claim(
    writes: sessionmaker[Session], *, mail_id: int, attempts: int, now: datetime
) -> models.Mail | None:
    """Take the mail for this attempt: one conditional UPDATE, won by one replica only."""
    with writes() as session, session.begin():
        taken = session.execute(
            update(M)
            .where(M.id == mail_id, M.state == "pending", M.attempts == attempts, M.due_at <= now)
            .values(attempts=attempts + 1, due_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return session.get(M, mail_id)


def _sent(writes: sessionmaker[Session], mail: models.Mail, *, now: datetime) -> None:
    with writes() as session, session.begin():
        session.execute(
            update(M)
            .where(M.id == mail.id, M.attempts == mail.attempts)
            .values(state="sent", sent_at=now, last_error=None)
        )


def _failed(writes: sessionmaker[Session], mail: models.Mail, *, error: str, now: datetime) -> bool:
    """Count the failure: due again after the backoff, or `failed` at the last attempt.
    Whether it was the last."""
    last = mail.attempts >= MAX_ATTEMPTS
    values: dict[str, object] = {"last_error": error}
    if last:
        values["state"] = "failed"
    else:
        values["due_at"] = now + BACKOFF[mail.attempts - 1]
    with writes() as session, session.begin():
        session.execute(
            update(M).where(M.id == mail.id, M.attempts == mail.attempts).values(**values)
        )
    return last


def _worded(exc: Exception) -> str:
    """An error as staff read it, one line of at most 500 characters."""
    said = str(exc).replace("\n", " ").strip()
    return f"{type(exc).__name__}: {said}"[:500]
