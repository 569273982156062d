"""The audit log: every state change a person or a token makes (a remote unlock, a door
mode, a booking released by staff), with who asked, kept in the `audit` table.

Plain functions over a Session, in the caller's transaction, so an entry is committed
with the change it records (or, for a command sent over MQTT, before it is sent).

    with ctx.writes() as session, session.begin():
        audit.record(session, actor="admin-token", action="door.mode", target="main",
                     detail={"mode": "locked"}, now=ctx.clock())
    with ctx.reads() as session:
        newest = audit.entries(session, limit=50)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import models

# Every action a person or a token can take that changes something, by what it acts on.
ACTIONS = (
    # doors
    "door.unlock",
    "door.mode",
    # bookings and the waitlist
    "booking.create",
    "booking.cancel",
    "booking.release",
    "booking.end",
    "waitlist.join",
    "waitlist.leave",
    "offer.accept",
    "noshow.remove",
    # members, their cards and memberships
    "member.create",
    "member.update",
    "member.suspend",
    "member.export",
    "member.erase",
    "card.create",
    "card.revoke",
    "membership.create",
    "membership.update",
    "membership.delete",
    # accounts
    "user.create",
    "user.update",
    "user.delete",
    "token.create",
    "token.revoke",
    "auth.sign_in",
    "auth.sign_in_failed",
    "auth.sign_out",
    "auth.link_sent",
    # the site
    "alert.ack",
    "dead_letter.replay",
    "dead_letter.discard",
    "data.purge",
)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str | None,
    detail: dict[str, Any] | None = None,
    now: datetime,
) -> models.AuditEntry:
    """Add an entry (flushed, so it has its id)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = models.AuditEntry(
        ts=now, actor=actor[:200], action=action, target=target, detail=detail or {}
    )
    session.add(entry)
    session.flush()
    return entry


def amend(session: Session, *, entry_id: int, **detail: Any) -> None:
    """Add to an entry's detail what became known after it was committed (a command the
    broker did not take)."""
    entry = session.get(models.AuditEntry, entry_id)
    if entry is not None:
        entry.detail = {**(entry.detail or {}), **detail}  # a new dict: JSON columns


def entries(
    session: Session, *, limit: int = 100, before: int | None = None
) -> list[models.AuditEntry]:
    """Newest first; `before`: only entries older than the one of this id (the next page)."""
    E = models.AuditEntry
    stmt = select(E).order_by(E.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(E.id < before)
    return list(session.scalars(stmt))
