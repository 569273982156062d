"""People who sign in: users with a role, their browser sessions and API tokens, one-time
sign-in links, failed sign-ins (for the login limits), and mail waiting to be sent.

Secrets are never stored: a session's cookie value, an API token and a sign-in link's
token are kept as their SHA-256 (`token_hash`), a password as its Argon2id hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from protocol.messages import utcnow
from server.db.models.base import Base

ROLES = ("admin", "staff", "member", "gateway")


class User(Base):
    """An account: `admin`, `staff`, `member` (linked to its member) or `gateway`.
    `site_id`: the one site whose servers a staff or admin account may sign in at (None:
    every site; a member's account is never bound)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # Argon2id; None: link only
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]  # deleted: kept for the audit trail, signs in never


class AuthSession(Base):
    """A signed-in browser. `user_id` None: the bootstrap administrator's token, at the
    site `site_id` only (the site whose server it signed in at)."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    client: Mapped[str | None] = mapped_column(String(200))  # address and browser, shortened
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"))


class ApiToken(Base):
    """A personal API token; it acts with its user's role until revoked or expired."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class SignInLink(Base):
    """A one-time sign-in link sent by e-mail: valid until `expires_at`, once."""

    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LoginFailure(Base):
    """A failed sign-in, for the login limits (per account and per client address)."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_email_at", "email", "at"),
        Index("ix_login_failures_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class Mail(Base):
    """A message to send by e-mail, kept with its state: what staff see of the mail."""

    __tablename__ = "mail"
    __table_args__ = (Index("ix_mail_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(32))  # sign_in, confirmation, reminder, ...
    lang: Mapped[str] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # plain text
    html: Mapped[str | None] = mapped_column(Text)  # the same message as simple HTML
    # One attachment at most: a booking's calendar event (`booking.ics`, text/calendar).
    attachment_name: Mapped[str | None] = mapped_column(String(100))
    attachment: Mapped[str | None] = mapped_column(Text)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, failed
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
