"""Personal API tokens: made by a user, acting with that user's role, stored as their
SHA-256 only, revoked at once and for good, honouring an optional expiry.

    secret, row = tokens.create(session, user_id=7, name="laptop", expires=None, now=now)
    tokens.find(session, secret, now)   # the ApiToken, until revoked or expired
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import models
from server.errors import Invalid, NotFound
from server.people import accounts
from server.people.sessions import MAX_VALUE, digest

PREFIX = "shp_"  # tells a personal token apart from the administrator's at a glance


def create(
    session: Session, *, user_id: int, name: str, expires: datetime | None, now: datetime
) -> tuple[str, models.ApiToken]:
    """A new token: its secret (returned once) and its row."""
    if expires is not None and expires <= now:
        raise Invalid("expires must be in the future")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = models.ApiToken(
        user_id=user_id, name=name, token_hash=digest(secret), created_at=now, expires_at=expires
    )
    session.add(row)
    session.flush()
    return secret, row


def find(session: Session, secret: str, now: datetime) -> models.ApiToken | None:
    """The live token of a secret: not revoked, not expired, its user not disabled."""
    if not secret.startswith(PREFIX) or len(secret) > MAX_VALUE:
        return None
    row = session.scalar(
        select(models.ApiToken).where(models.ApiToken.token_hash == digest(secret))
    )
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and now >= row.expires_at:
        return None
    return row if accounts.active_user(session, row.user_id) is not None else None


def of_user(session: Session, *, user_id: int) -> list[models.ApiToken]:
    """A user's tokens, revoked ones included, newest first."""
    stmt = (
        select(models.ApiToken)
        .where(models.ApiToken.user_id == user_id)
        .order_by(models.ApiToken.id.desc())
    )
    return list(session.scalars(stmt))


def revoke(session: Session, *, user_id: int, token_id: int, now: datetime) -> models.ApiToken:
    """Revoke one of the user's tokens (again is no error); NotFound for anybody else's."""
    row = session.get(models.ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"token {token_id} not found")
    if row.revoked_at is None:
        row.revoked_at = now
    return row
