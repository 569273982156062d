"""Messages to members, kept in Polish and English (`GET /api/members/{id}/notifications`).

Each domain service words its own messages and records them with `notify`; delivery by
e-mail or SMS would read this table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import models


def notify(
    session: Session,
    *,
    member_id: int,
    kind: str,
    text_pl: str,
    text_en: str,
    now: datetime,
    booking_id: int | None = None,
    offer_id: int | None = None,
) -> models.Notification:
    """Record a message for a member in the caller's transaction."""
    note = models.Notification(
        member_id=member_id,
        kind=kind,
        text_pl=text_pl,
        text_en=text_en,
        booking_id=booking_id,
        offer_id=offer_id,
        created_at=now,
    )
    session.add(note)
    return note


def for_member(session: Session, *, member_id: int, limit: int = 100) -> list[models.Notification]:
    """A member's messages, newest first."""
    stmt = (
        select(models.Notification)
        .where(models.Notification.member_id == member_id)
        .order_by(models.Notification.created_at.desc(), models.Notification.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
