"""Browser sessions, kept in the database so that signing out holds across restarts and
replicas.

The cookie holds a random value; only its SHA-256 is stored (`AuthSession.token_hash`),
beside a CSRF token that every state-changing request made with the cookie must send back
(`X-CSRF-Token`, or a form's `csrf_token`). A session lasts 12 hours. `user_id` None is a
browser signed in with the bootstrap administrator token: such a session works at the
site whose server opened it (`site_id`) only, as the token itself works at every site but
the cookie is a way in for one site's staff room.

    cookie, row = sessions.issue(session, user_id=7, role="staff", now=now, client="...")
    sessions.find(session, cookie, now, here="piaseczno")  # until revoked or expired
    sessions.revoke(session, cookie, now, here="piaseczno")
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import models
from server.people import accounts

COOKIE = "spacehub_session"
TTL = timedelta(hours=12)  # a receptionist's working day; then sign in again
MAX_VALUE = 200  # longer cookie values are not ours: refused before any work


def digest(secret: str) -> str:
    """The SHA-256 (hex) that is stored in place of a cookie, token or link secret."""
    return hashlib.sha256(secret.encode("utf-8", errors="surrogateescape")).hexdigest()


def issue(
    session: Session,
    *,
    user_id: int | None,
    role: str,
    now: datetime,
    client: str | None,
    site_id: str | None = None,
) -> tuple[str, models.AuthSession]:
    """A new session: the cookie value (returned once, never stored) and its row; one of
    the administrator token (`user_id` None) gives the site `site_id` it works at."""
    value = secrets.token_urlsafe(32)
    row = models.AuthSession(
        token_hash=digest(value),
        user_id=user_id,
        role=role,
        csrf_token=secrets.token_hex(32),
        created_at=now,
        expires_at=now + TTL,
        client=(client or "")[:200] or None,
        site_id=site_id,
    )
    session.add(row)
    session.flush()
    return value, row


def find(
    session: Session, value: str | None, now: datetime, *, here: str
) -> models.AuthSession | None:
    """The live session of a cookie value at the site `here`: not revoked, not expired,
    its user (if any) not disabled, and the administrator token's opened at this site."""
    if not value or len(value) > MAX_VALUE:
        return None
    row = session.scalar(
        select(models.AuthSession).where(models.AuthSession.token_hash == digest(value))
    )
    if row is None or row.revoked_at is not None or now >= row.expires_at:
        return None
    if row.user_id is None and row.site_id != here:
        return None
    if row.user_id is not None and accounts.active_user(session, row.user_id) is None:
        return None
    return row


def revoke(
    session: Session, value: str | None, now: datetime, *, here: str
) -> models.AuthSession | None:
    """Sign a session out, for good; the row it was (None for an unknown value, or one
    that does not work at the site `here`)."""
    row = find(session, value, now, here=here)
    if row is not None:
        row.revoked_at = now
    return row
